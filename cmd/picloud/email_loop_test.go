package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// emailForwarder is a script whose email handler forwards every message
// to boss@x.example and writes to kv (fwd:<subject>) what the forward
// did (forwarded: true, and the type of the messageId it resolved to), or the code and message it failed with; its
// fetch handler reads kv back.
const emailForwarder = `import { kv as store } from "picloud"
const kv = store.collection("forwards")
export default {
  async fetch(request) {
    return Response.json((await kv.get(new URL(request.url).searchParams.get("key"))) ?? null)
  },
  async email(message, env, ctx) {
    const subject = message.headers.get("subject")
    let result
    try {
      const sent = await message.forward("boss@x.example")
      result = { forwarded: true, messageId: typeof sent.messageId }
    } catch (e) {
      result = { code: e.code, error: e.message }
    }
    await kv.put("fwd:" + subject, { subject, ...result })
  },
}`

// hopsMsg is a message with subject that went through hops relays.
func hopsMsg(hops int, subject string) string {
	return strings.Repeat("Received: from relay.x.example by mx.x.example; Mon, 07 Dec 2026 09:00:00 +0000\r\n", hops) +
		mailMsg(subject, "round and round")
}

// TestEmailForwardLoop drives a forwarding loop through the real daemon:
// its SMTP listener refuses, with 554 5.4.6 and without storing it, a
// message with more than 50 Received fields; message.forward puts a
// Received field of this board in front of the message it forwards, the
// rest as received, both in the outbox and at the relay; and it refuses,
// with email.loop and nothing in the outbox, to forward a message that has
// 50 already.
func TestEmailForwardLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d, smtpAddr, rl := mailDaemon(t)
	const defaultApp = "00000000-0000-0000-0000-000000000001"
	script := d.deploy("", "forwarder", emailForwarder, "GET", "/fwd")
	d.expect(d.call("POST", "/api/v1/admin/apps/"+defaultApp+"/domains", `{"pattern":"shop.example"}`), 201)
	d.addTrigger(script, `{"type":"email","address":"orders@shop.example"}`)
	db := txDB(t, d)
	// rows counts the rows of table whose message has subject.
	rows := func(t *testing.T, table, subject string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM `+table+`
WHERE position($1 in convert_from(message, 'UTF8')) > 0`, "Subject: "+subject+"\r\n").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// forwarded waits for the handler's record of subject.
	forwarded := func(t *testing.T, subject string) reply {
		t.Helper()
		var r reply
		testkit.Eventually(t, 60*time.Second, "the handler forwarded "+subject, func() error {
			r = d.call("GET", "/fwd?key=fwd:"+subject, "")
			return has(`"subject":"` + subject + `"`)(r)
		})
		return r
	}

	t.Run("a message with 51 Received fields is refused", func(t *testing.T) {
		m := dialMail(t, smtpAddr)
		err := m.send("ann@x.example", []string{"orders@shop.example"}, hopsMsg(51, "loop51"))
		if code(err) != 554 || !strings.Contains(err.Error(), "5.4.6 routing loop detected: 51 Received headers") {
			t.Errorf("a message with 51 Received fields: %v, want 554 5.4.6 routing loop detected: 51 Received headers", err)
		}
		if n := rows(t, "email_inbox", "loop51"); n != 0 {
			t.Errorf("the refused message is in the inbox %d times", n)
		}
	})

	t.Run("a forward is a hop", func(t *testing.T) {
		msg := hopsMsg(2, "fwd")
		m := dialMail(t, smtpAddr)
		if err := m.send("ann@x.example", []string{"orders@shop.example"}, msg); err != nil {
			t.Fatalf("a message with 2 Received fields: %v", err)
		}
		if r := forwarded(t, "fwd"); !strings.Contains(r.body, `"forwarded":true`) || !strings.Contains(r.body, `"messageId":"string"`) {
			t.Fatalf("the forward: %s", r.body)
		}
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		want := "Received: from " + host + " (PiCloud message.forward)\r\n\tby " + host + " id "
		check := func(where, got string) {
			t.Helper()
			head, rest, ok := strings.Cut(got, "\r\n\tfor <boss@x.example>; ")
			if !ok || !strings.HasPrefix(head, want) || strings.Contains(head[len(want):], "\r\n") {
				t.Errorf("%s: the message does not start with a Received field %q…for <boss@x.example>:\n%s", where, want, got)
				return
			}
			date, after, _ := strings.Cut(rest, "\r\n")
			if _, err := time.Parse(time.RFC1123Z, date); err != nil {
				t.Errorf("%s: the Received field's date %q: %v", where, date, err)
			}
			if after != msg {
				t.Errorf("%s: after the new field, the message is not the received one byte for byte:\n%q\nwant\n%q", where, after, msg)
			}
		}
		var out []byte
		if err := db.QueryRow(context.Background(), `SELECT message FROM email_outbox WHERE message_id = 'fwd@x.example'`).Scan(&out); err != nil {
			t.Fatalf("the forward in the outbox: %v", err)
		}
		check("the outbox", string(out))
		check("the relay", rl.message(t, "fwd@x.example").data)
	})

	t.Run("a message with 50 Received fields is not forwarded", func(t *testing.T) {
		m := dialMail(t, smtpAddr)
		if err := m.send("ann@x.example", []string{"orders@shop.example"}, hopsMsg(50, "loop50")); err != nil {
			t.Fatalf("a message with 50 Received fields: %v, want it taken", err)
		}
		r := forwarded(t, "loop50")
		if !strings.Contains(r.body, `"code":"email.loop"`) || !strings.Contains(r.body, "50 Received headers") {
			t.Errorf("forward of a message with 50 Received fields: %s, want email.loop", r.body)
		}
		if n := rows(t, "email_outbox", "loop50"); n != 0 {
			t.Errorf("the looping message is in the outbox %d times", n)
		}
	})
}
