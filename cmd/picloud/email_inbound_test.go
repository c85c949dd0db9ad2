package main

import (
	"context"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// emailReceiver is a script with an email handler that writes what it saw
// to kv (seen:<subject>) and a fetch handler that reads kv back. By
// subject: "flaky" throws on its first delivery, "throw" always throws,
// "reject" calls setReject, "forward" forwards to boss@x.example.
const emailReceiver = `import { kv as store } from "picloud"
const kv = store.collection("inbox")
export default {
  async fetch(request) {
    return Response.json((await kv.get(new URL(request.url).searchParams.get("key"))) ?? null)
  },
  async email(message, env, ctx) {
    const subject = message.headers.get("subject")
    const raw = await new Response(message.raw).text()
    if (subject === "flaky" || subject === "throw") {
      const n = ((await kv.get("tries:" + subject)) ?? 0) + 1
      await kv.put("tries:" + subject, n)
      if (subject === "throw" || n < 2) throw new Error("handler failed, try " + n)
    }
    if (subject === "reject") message.setReject("we do not take orders by mail")
    if (subject === "forward") await message.forward("boss@x.example")
    await kv.put("seen:" + subject, {
      from: message.from, to: message.to, subject, rawSize: message.rawSize, raw,
      messageId: message.headers.get("message-id"), headersAreHeaders: message.headers instanceof Headers,
    })
  },
}`

// mailDaemon starts a daemon, with its owner, whose SMTP listener takes
// mail at smtpAddr and which sends mail through rl, the test's relay, from
// addresses at shop.example; settings are more of the daemon's settings.
func mailDaemon(t *testing.T, settings ...string) (d *daemon, smtpAddr string, rl *relay) {
	t.Helper()
	rl, relayAddr := startRelay(t)
	smtpAddr = freePort(t)
	env := append(relaySettings(t, relayAddr, "@shop.example"), "PICLOUD_SMTP_BIND="+smtpAddr)
	d = newDaemon(t, buildBinary(t), append(env, settings...)...)
	t.Cleanup(func() { killCluster(t, d.dataDir) })
	d.startAsOwner()
	return d, smtpAddr, rl
}

// mailConv is one SMTP conversation with the daemon's listener.
type mailConv struct {
	t *testing.T
	c *smtp.Client
}

func dialMail(t *testing.T, addr string) *mailConv {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return &mailConv{t: t, c: c}
}

// code is the SMTP reply code of err, 0 for none or another error.
func code(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// send sends msg from from to rcpts and returns the error of the first
// command that failed, nil when the daemon answered 250 to the data.
func (m *mailConv) send(from string, rcpts []string, msg string) error {
	m.t.Helper()
	if err := m.c.Mail(from); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := m.c.Rcpt(r); err != nil {
			_ = m.c.Reset()
			return err
		}
	}
	w, err := m.c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	return w.Close()
}

// mailMsg is a small message with subject.
func mailMsg(subject, body string) string {
	return "From: Ann <ann@x.example>\r\nTo: orders@shop.example\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + subject + "@x.example>\r\n\r\n" + body + "\r\n"
}

// TestEmailInbound drives inbound email through the real daemon's SMTP
// listener: an email trigger needs a domain its app holds and an address
// no other trigger claims; a message to a claimed address reaches the
// script's email handler (from, to, headers, raw, rawSize), logged as an
// "email" execution; an unknown recipient is refused at RCPT (and past 20
// of them, any with 421), an oversize
// message with 552, a malformed one with 554, a client over its rate with
// 421; a throwing handler is retried and the message ends delivered, or
// failed and kept; setReject marks it rejected; forward hands it to the
// relay; one message to two apps' addresses reaches both.
func TestEmailInbound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d, smtpAddr, rl := mailDaemon(t, "PICLOUD_SMTP_MAX_MESSAGE_BYTES=4096",
		"PICLOUD_SMTP_MAX_MESSAGES_PER_MINUTE=30", "TEST_EMAIL_RETRY_UNIT_MS=100")
	const defaultApp = "00000000-0000-0000-0000-000000000001"
	script := d.deploy("", "inbox", emailReceiver, "GET", "/seen")
	// seen, state and awaitState fail the subtest t that calls them.
	seen := func(t *testing.T, subject string) reply {
		t.Helper()
		var r reply
		testkit.Eventually(t, 30*time.Second, "the handler saw "+subject, func() error {
			r = d.call("GET", "/seen?key=seen:"+subject, "")
			return has(`"subject":"` + subject + `"`)(r)
		})
		return r
	}

	t.Run("trigger settings", func(t *testing.T) {
		for _, c := range []struct {
			body   string
			status int
			want   string
		}{
			{`{"type":"email"}`, 400, "needs an address"},
			{`{"type":"email","address":"Orders <orders@shop.example>"}`, 400, "not a bare email address"},
			{`{"type":"email","address":"orders@shop.example"}`, 400, "does not hold the domain shop.example"},
		} {
			d.expect(d.call("POST", "/api/v1/admin/scripts/"+script+"/triggers", c.body), c.status, c.want)
		}
		d.expect(d.call("POST", "/api/v1/admin/apps/"+defaultApp+"/domains", `{"pattern":"shop.example"}`), 201)
		d.addTrigger(script, `{"type":"email","address":"Orders@Shop.example"}`)
		d.expect(d.call("POST", "/api/v1/admin/scripts/"+script+"/triggers", `{"type":"email","address":"orders@shop.EXAMPLE"}`),
			409, "orders@shop.example is already claimed")
		d.expect(d.call("GET", "/api/v1/admin/scripts/"+script+"/triggers", ""), 200, `"address":"orders@shop.example"`, `"type":"email"`)
	})

	db := txDB(t, d)
	state := func(t *testing.T, subject string) (string, int, string) {
		t.Helper()
		var st, why string
		var attempts int
		err := db.QueryRow(context.Background(), `SELECT state, attempts, coalesce(last_error, reject_reason, '') FROM email_inbox
WHERE position($1 in convert_from(message, 'UTF8')) > 0`, "Subject: "+subject+"\r\n").Scan(&st, &attempts, &why)
		if err != nil {
			t.Fatalf("inbox row of %s: %v", subject, err)
		}
		return st, attempts, why
	}
	awaitState := func(t *testing.T, subject, want string) (int, string) {
		t.Helper()
		var attempts int
		var why string
		testkit.Eventually(t, 60*time.Second, "the message "+subject+" is "+want, func() error {
			var st string
			if st, attempts, why = state(t, subject); st != want {
				return fmt.Errorf("it is %s after %d attempts (%s)", st, attempts, why)
			}
			return nil
		})
		return attempts, why
	}

	t.Run("a message reaches the handler", func(t *testing.T) {
		m := dialMail(t, smtpAddr)
		err := m.c.Mail("ann@x.example")
		if err != nil {
			t.Fatal(err)
		}
		if err := m.c.Rcpt("nobody@shop.example"); code(err) != 550 || !strings.Contains(err.Error(), "5.1.1") {
			t.Errorf("RCPT to an address no trigger claims: %v, want 550 5.1.1", err)
		}
		if err := m.c.Rcpt("someone@elsewhere.example"); code(err) != 550 {
			t.Errorf("RCPT to another domain (relaying): %v, want 550", err)
		}
		// Probing for addresses ends: past 20 unknown recipients in one
		// connection, every RCPT is 421.
		var probe error
		for i := range 20 {
			if probe = m.c.Rcpt(fmt.Sprintf("guess%d@shop.example", i)); code(probe) != 550 {
				break
			}
		}
		if err := m.c.Rcpt("orders@shop.example"); code(err) != 421 {
			t.Errorf("RCPT after 20 unknown recipients: %v (the 20th: %v), want 421", err, probe)
		}
		m = dialMail(t, smtpAddr)
		msg := mailMsg("hello", "Where is my order?")
		if err := m.send("ann@x.example", []string{"ORDERS@shop.example"}, msg); err != nil {
			t.Fatalf("a message to the claimed address: %v", err)
		}
		r := seen(t, "hello")
		for _, want := range []string{`"from":"ann@x.example"`, `"to":"orders@shop.example"`, `"messageId":"<hello@x.example>"`,
			`"headersAreHeaders":true`, "Where is my order?", fmt.Sprintf(`"rawSize":%d`, len(msg))} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the handler saw %s: no %s", r.body, want)
			}
		}
		awaitState(t, "hello", "delivered")
		testkit.Eventually(t, 30*time.Second, "the delivery is in the execution log as email", func() error {
			var logged int
			err := db.QueryRow(context.Background(), `SELECT count(*) FROM execution_logs WHERE trigger = 'email' AND script_id = $1 AND path = 'orders@shop.example'`, script).Scan(&logged)
			if err != nil || logged == 0 {
				return fmt.Errorf("%d email executions, %v", logged, err)
			}
			return nil
		})
	})

	t.Run("oversize and malformed messages are refused", func(t *testing.T) {
		m := dialMail(t, smtpAddr)
		err := m.send("ann@x.example", []string{"orders@shop.example"}, mailMsg("big", strings.Repeat("0123456789abcdef\r\n", 300)))
		if code(err) != 552 {
			t.Errorf("a message over the size cap: %v, want 552", err)
		}
		m = dialMail(t, smtpAddr)
		if err := m.send("ann@x.example", []string{"orders@shop.example"}, "this is not a message\r\n"); code(err) != 554 {
			t.Errorf("a malformed message: %v, want 554", err)
		}
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM email_inbox WHERE position('this is not' in convert_from(message, 'UTF8')) > 0
OR position('Subject: big' in convert_from(message, 'UTF8')) > 0`).Scan(&n); err != nil || n != 0 {
			t.Errorf("refused messages stored: %d, %v", n, err)
		}
	})

	t.Run("a throwing handler is retried, nothing is lost", func(t *testing.T) {
		m := dialMail(t, smtpAddr)
		for _, s := range []string{"flaky", "throw"} {
			if err := m.send("ann@x.example", []string{"orders@shop.example"}, mailMsg(s, "try me")); err != nil {
				t.Fatal(err)
			}
		}
		seen(t, "flaky")
		if attempts, _ := awaitState(t, "flaky", "delivered"); attempts != 2 {
			t.Errorf("flaky: delivered after %d attempts, want 2", attempts)
		}
		attempts, why := awaitState(t, "throw", "failed")
		if attempts != 6 || !strings.Contains(why, "handler failed, try 6") {
			t.Errorf("throw: failed after %d attempts (%s); want 6 and the handler's error", attempts, why)
		}
	})

	t.Run("setReject and forward", func(t *testing.T) {
		m := dialMail(t, smtpAddr)
		for _, s := range []string{"reject", "forward"} {
			if err := m.send("ann@x.example", []string{"orders@shop.example"}, mailMsg(s, "see "+s)); err != nil {
				t.Fatal(err)
			}
		}
		if _, why := awaitState(t, "reject", "rejected"); why != "we do not take orders by mail" {
			t.Errorf("rejected with %q", why)
		}
		seen(t, "forward")
		awaitState(t, "forward", "delivered")
		got := rl.message(t, "forward@x.example")
		if got.from != "orders@shop.example" || strings.Join(got.rcpt, " ") != "boss@x.example" || !strings.Contains(got.data, "see forward") {
			t.Errorf("forwarded: from %q to %v:\n%s", got.from, got.rcpt, got.data)
		}
	})

	t.Run("one message to two apps", func(t *testing.T) {
		other := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
		d.expect(other, 201)
		otherApp := other.field(t, "id").(string)
		d.expect(d.call("POST", "/api/v1/admin/apps/"+otherApp+"/domains", `{"pattern":"other.example"}`), 201)
		otherScript := d.deploy(otherApp, "inbox", emailReceiver, "GET", "/seen-other")
		d.addTrigger(otherScript, `{"type":"email","address":"sales@other.example"}`)
		m := dialMail(t, smtpAddr)
		if err := m.send("ann@x.example", []string{"orders@shop.example", "sales@other.example"}, mailMsg("both", "to two apps")); err != nil {
			t.Fatal(err)
		}
		seen(t, "both")
		testkit.Eventually(t, 30*time.Second, "the other app's handler saw it", func() error {
			return has(`"to":"sales@other.example"`)(d.call("GET", "/seen-other?key=seen:both", "", "Host", "other.example"))
		})
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(DISTINCT app_id) FROM email_inbox WHERE position('Subject: both' in convert_from(message, 'UTF8')) > 0`).Scan(&n); err != nil || n != 2 {
			t.Errorf("rows of the message to two apps: %d apps, %v", n, err)
		}
	})

	t.Run("a client over its rate gets 421", func(t *testing.T) {
		m := dialMail(t, smtpAddr)
		var err error
		for range 31 {
			if err = m.c.Mail("ann@x.example"); err != nil {
				break
			}
			_ = m.c.Reset()
		}
		if code(err) != 421 {
			t.Errorf("31 messages in a row: %v, want 421", err)
		}
	})
}
