package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// noEmailHandler is a script with a fetch handler and no email handler.
const noEmailHandler = `export default { fetch() { return new Response("no mail here") } }`

// inboxEntry is a received message as the admin API lists it.
type inboxEntry struct {
	ID           string `json:"id"`
	ScriptID     string `json:"script_id"`
	From         string `json:"from"`
	To           string `json:"to"`
	Subject      string `json:"subject"`
	Size         int    `json:"size"`
	State        string `json:"state"`
	Attempts     int    `json:"attempts"`
	LastError    string `json:"last_error"`
	RejectReason string `json:"reject_reason"`
	ReceivedAt   string `json:"received_at"`
	SettledAt    string `json:"settled_at"`
	Raw          *string
}

// TestEmailInboxAdmin drives an app's received email through the admin
// API of the real daemon: the list (newest first, subjects decoded, no
// message bodies, pages by cursor, bad filters refused), one message with
// its text, the retry of a failed or rejected message (audited; a
// delivered one is refused), the delete (audited); and a script with no
// email handler fails its message at the first attempt.
func TestEmailInboxAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d, smtpAddr, _ := mailDaemon(t, "TEST_EMAIL_RETRY_UNIT_MS=100")
	const app = "00000000-0000-0000-0000-000000000001"
	inbox := "/api/v1/admin/apps/" + app + "/email/inbox"
	d.expect(d.call("POST", "/api/v1/admin/apps/"+app+"/domains", `{"pattern":"shop.example"}`), 201)
	receiver := d.deploy("", "inbox", emailReceiver, "GET", "/seen")
	d.addTrigger(receiver, `{"type":"email","address":"orders@shop.example"}`)
	plain := d.deploy("", "plain", noEmailHandler, "GET", "/plain")
	d.addTrigger(plain, `{"type":"email","address":"plain@shop.example"}`)

	list := func(query string) ([]inboxEntry, string) {
		t.Helper()
		r := d.call("GET", inbox+query, "")
		d.expect(r, 200)
		var out struct {
			Messages   []inboxEntry `json:"messages"`
			NextCursor string       `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatalf("list %s: %v: %s", query, err, r.body)
		}
		if strings.Contains(r.body, `"raw"`) || strings.Contains(r.body, "see ") {
			t.Errorf("the list shows message text: %s", r.body)
		}
		return out.Messages, out.NextCursor
	}
	bySubject := func() map[string]inboxEntry {
		ms, _ := list("")
		out := map[string]inboxEntry{}
		for _, m := range ms {
			out[m.Subject] = m
		}
		return out
	}
	await := func(subject, state string) inboxEntry {
		t.Helper()
		var m inboxEntry
		testkit.Eventually(t, 60*time.Second, subject+" is "+state, func() error {
			m = bySubject()[subject]
			if m.State != state {
				return fmt.Errorf("it is %q after %d attempts (%s)", m.State, m.Attempts, m.LastError)
			}
			return nil
		})
		return m
	}

	// Sent one by one, so that their order of arrival is known.
	// The last one's subject is encoded (RFC 2047).
	cafeMsg := "From: ann@x.example\r\nTo: orders@shop.example\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\nsee the cafe\r\n"
	for _, msg := range []string{mailMsg("hello", "see hello"), mailMsg("throw", "see throw"), mailMsg("reject", "see reject"), cafeMsg} {
		m := dialMail(t, smtpAddr)
		if err := m.send("ann@x.example", []string{"orders@shop.example"}, msg); err != nil {
			t.Fatalf("send %q: %v", msg, err)
		}
	}
	m := dialMail(t, smtpAddr)
	if err := m.send("bob@x.example", []string{"plain@shop.example"}, mailMsg("unhandled", "see nothing")); err != nil {
		t.Fatal(err)
	}

	t.Run("a script without an email handler fails at once", func(t *testing.T) {
		got := await("unhandled", "failed")
		if got.Attempts != 1 || !strings.Contains(got.LastError, "script.no_handler") || !strings.Contains(got.LastError, "no email handler") {
			t.Errorf("failed after %d attempts with %q; want 1 and script.no_handler", got.Attempts, got.LastError)
		}
		if got.ScriptID != plain || got.To != "plain@shop.example" || got.From != "bob@x.example" {
			t.Errorf("listed as %+v", got)
		}
	})

	hello := await("hello", "delivered")
	throw := await("throw", "failed")
	reject := await("reject", "rejected")
	cafe := await("café", "delivered")

	t.Run("the list", func(t *testing.T) {
		if hello.From != "ann@x.example" || hello.To != "orders@shop.example" || hello.ScriptID != receiver ||
			hello.Size != len(mailMsg("hello", "see hello")) || hello.ReceivedAt == "" || hello.SettledAt == "" {
			t.Errorf("hello listed as %+v", hello)
		}
		if throw.Attempts != 6 || !strings.Contains(throw.LastError, "handler failed, try 6") {
			t.Errorf("throw listed as %+v", throw)
		}
		if reject.RejectReason != "we do not take orders by mail" {
			t.Errorf("reject listed as %+v", reject)
		}
		all, next := list("")
		var order []string
		for _, m := range all {
			order = append(order, m.Subject)
		}
		if strings.Join(order, ",") != "unhandled,café,reject,throw,hello" || next != "" {
			t.Errorf("listed %v (next %q), want the newest first and no next page", order, next)
		}
		failed, _ := list("?state=failed")
		if len(failed) != 2 || failed[0].Subject != "unhandled" || failed[1].Subject != "throw" {
			t.Errorf("the failed ones: %+v", failed)
		}
		first, next := list("?limit=2")
		if len(first) != 2 || next != first[1].ID {
			t.Fatalf("a page of 2: %d messages, next %q", len(first), next)
		}
		rest, last := list("?limit=3&cursor=" + next)
		if len(rest) != 3 || rest[0].Subject != "reject" || rest[2].Subject != "hello" || last != rest[2].ID {
			t.Errorf("the next page: %+v, next %q", rest, last)
		}
		if end, none := list("?limit=3&cursor=" + last); len(end) != 0 || none != "" {
			t.Errorf("past the last page: %+v, next %q", end, none)
		}
		for q, want := range map[string]string{
			"?state=lost":       `state \"lost\": it is queued, delivered, rejected or failed`,
			"?limit=0":          "limit must be a number of messages, from 1",
			"?limit=501":        "limit is 501: it is between 1 and 500",
			"?cursor=not-an-id": `cursor \"not-an-id\" is not a received message of this app`,
		} {
			d.expect(d.call("GET", inbox+q, ""), 400, want)
		}
	})

	t.Run("one message", func(t *testing.T) {
		r := d.call("GET", inbox+"/"+cafe.ID, "")
		d.expect(r, 200, `"subject":"café"`, `"state":"delivered"`)
		var got inboxEntry
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Raw == nil || *got.Raw != cafeMsg {
			t.Errorf("its raw message: %v", got.Raw)
		}
		d.expect(d.call("GET", inbox+"/00000000-0000-0000-0000-000000000000", ""), 404)
		d.expect(d.call("GET", inbox+"/nonsense", ""), 404)
	})

	audited := func(t *testing.T, action, target string) {
		t.Helper()
		d.expect(d.call("GET", "/api/v1/admin/audit?app_id="+app, ""), 200, `"action":"`+action+`"`, `"target":"`+target+`"`)
	}

	t.Run("retry", func(t *testing.T) {
		d.expect(d.call("POST", inbox+"/"+hello.ID+"/retry", ""), 409, "it is delivered; only a failed or rejected message is delivered again")
		d.expect(d.call("POST", inbox+"/"+throw.ID+"/retry", ""), 204)
		audited(t, "email.inbox.retry", throw.ID)
		// The handler throws on every try: six more, from one.
		testkit.Eventually(t, 60*time.Second, "throw tried six more times", func() error {
			return has("12")(d.call("GET", "/seen?key=tries:throw", ""))
		})
		if got := await("throw", "failed"); got.Attempts != 6 || !strings.Contains(got.LastError, "try 12") {
			t.Errorf("retried: %+v", got)
		}
		d.expect(d.call("POST", inbox+"/"+reject.ID+"/retry", ""), 204)
		testkit.Eventually(t, 60*time.Second, "reject delivered again", func() error {
			got := bySubject()["reject"]
			if got.State != "rejected" || got.SettledAt == reject.SettledAt {
				return fmt.Errorf("it is %+v", got)
			}
			return nil
		})
		d.expect(d.call("POST", inbox+"/00000000-0000-0000-0000-000000000000/retry", ""), 404)
	})

	t.Run("delete", func(t *testing.T) {
		d.expect(d.call("DELETE", inbox+"/"+hello.ID, ""), 204)
		audited(t, "email.inbox.delete", hello.ID)
		d.expect(d.call("GET", inbox+"/"+hello.ID, ""), 404)
		d.expect(d.call("DELETE", inbox+"/"+hello.ID, ""), 404)
		if _, ok := bySubject()["hello"]; ok {
			t.Error("a deleted message is still listed")
		}
	})
}
