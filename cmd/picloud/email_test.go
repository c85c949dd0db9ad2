package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/picloud/picloud/appliance/testkit"
)

// emailSender sends the message it is posted with email.send, outside a
// transaction or (?tx=commit|rollback) inside one that commits or throws
// after the send, and answers what it resolved to. An attachment posted
// with bytes (an array of numbers) is sent with a Uint8Array content.
const emailSender = `import { email, db } from "picloud"
export default {
  async fetch(request) {
    const msg = await request.json()
    if (msg.attachments) {
      msg.attachments = msg.attachments.map((f) => f.bytes ? { filename: f.filename, contentType: f.contentType, content: new Uint8Array(f.bytes) } : f)
    }
    try {
      switch (new URL(request.url).searchParams.get("tx")) {
        case "rollback":
          await db.transaction(async (tx) => { await tx.email.send(msg); throw new Error("changed my mind") })
          return Response.json({})
        case "commit":
          return Response.json(await db.transaction((tx) => tx.email.send(msg)))
        default:
          return Response.json(await email.send(msg))
      }
    } catch (e) {
      return Response.json({ name: e.name, code: e.code, error: e.message }, { status: 400 })
    }
  },
}`

// received is one message the test's SMTP server accepted.
type received struct {
	user string // who signed in
	from string
	rcpt []string
	data string
}

// relay is an SMTP server for the daemon to send to: it needs a sign-in
// as mailer/relay-pass, answers 451 to RCPT TO busy@… the first two times
// and 550 to nobody@… always, and keeps what it accepts.
type relay struct {
	mu       sync.Mutex
	attempts map[string]int // RCPT TO per recipient
	got      []received
}

func (r *relay) NewSession(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }

type relaySession struct {
	r    *relay
	user string
	msg  received
}

func (s *relaySession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *relaySession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "mailer" || pass != "relay-pass" {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return &smtp.SMTPError{Code: 530, Message: "sign in first"}
	}
	s.msg = received{user: s.user, from: from}
	return nil
}

func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.attempts[to]++
	switch {
	case strings.HasPrefix(to, "busy@") && s.r.attempts[to] <= 2:
		return &smtp.SMTPError{Code: 451, Message: "try again later"}
	case strings.HasPrefix(to, "nobody@"):
		return &smtp.SMTPError{Code: 550, Message: "no such user"}
	}
	s.msg.rcpt = append(s.msg.rcpt, to)
	return nil
}

func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = string(b)
	s.r.mu.Lock()
	s.r.got = append(s.r.got, s.msg)
	s.r.mu.Unlock()
	return nil
}

func (s *relaySession) Reset()        { s.msg = received{user: s.user} }
func (s *relaySession) Logout() error { return nil }

// startRelay serves a relay on a loopback port until the test ends.
func startRelay(t *testing.T) (*relay, string) {
	t.Helper()
	r := &relay{attempts: map[string]int{}}
	srv := smtp.NewServer(r)
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true // loopback only
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r, ln.Addr().String()
}

// message waits for the message whose headers have Message-ID id.
func (r *relay) message(t *testing.T, id string) received {
	t.Helper()
	return r.await(t, id, func(m received) bool { return strings.Contains(m.data, "Message-ID: <"+id+">") })
}

// await waits for the first message that matches, what naming it.
func (r *relay) await(t *testing.T, what string, match func(received) bool) received {
	t.Helper()
	var m received
	testkit.Eventually(t, 60*time.Second, "the relay receives "+what, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, g := range r.got {
			if match(g) {
				m = g
				return nil
			}
		}
		return fmt.Errorf("%d messages so far", len(r.got))
	})
	return m
}

// relaySettings are the daemon's settings for sending to the relay at
// addr, signed in as mailer, from the senders given.
func relaySettings(t *testing.T, addr, senders string) []string {
	t.Helper()
	pass := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pass, []byte("relay-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"PICLOUD_SMTP_RELAY=" + addr, "PICLOUD_SMTP_USER=mailer",
		"PICLOUD_SMTP_PASSWORD_FILE=" + pass, "PICLOUD_SMTP_SENDERS=" + senders}
}

func (r *relay) tries(to string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[to]
}

// sendEmail posts a message to the sender script and returns the reply.
func (d *daemon) sendEmail(tx, msg string) reply {
	d.t.Helper()
	return d.call("POST", "/email?tx="+tx, msg)
}

// TestEmailOutbound drives email.send through the real daemon to an SMTP
// server the test runs: a message arrives with its headers, body and
// envelope, after a sign-in; one sent in a rolled-back transaction never
// arrives; a 4xx answer is retried until the message goes through; a 5xx
// answer leaves it failed after one attempt; bad messages and senders
// that are not allowed are refused with a clear error and nothing sent.
func TestEmailOutbound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	rl, addr := startRelay(t)
	d := newDaemon(t, buildBinary(t), append(relaySettings(t, addr, "@shop.example,alerts@other.example"),
		"TEST_EMAIL_RETRY_UNIT_MS=100", "PICLOUD_MAX_REQUEST_BODY_BYTES=4194304")...) // room for an oversize message
	t.Cleanup(func() { killCluster(t, d.dataDir) })
	d.startAsOwner()
	d.deploy("", "mail", emailSender, "POST", "/email")
	sent := func(r reply) string {
		t.Helper()
		d.expect(r, 200, `"messageId"`)
		return r.field(t, "messageId").(string)
	}

	t.Run("bad messages are refused", func(t *testing.T) {
		many := `"` + strings.TrimSuffix(strings.Repeat(`r@x.example","`, 51), `,"`)
		for _, c := range []struct {
			msg  string
			want []string
		}{
			{`{"from":"not an address","to":"a@x.example","text":"t"}`, []string{`"code":"data.invalid"`, "from"}},
			{`{"from":"s@shop.example","to":"a@@x","text":"t"}`, []string{`"code":"data.invalid"`, "to"}},
			{`{"from":"s@shop.example","to":"a@x.example","subject":"a\r\nBcc: b@x.example","text":"t"}`, []string{`"code":"data.invalid"`, "subject"}},
			{`{"from":"s@shop.example","to":[` + many + `],"text":"t"}`, []string{`"code":"data.invalid"`, "51 recipients"}},
			{`{"from":"s@shop.example","text":"t"}`, []string{`"code":"data.invalid"`, "at least one recipient"}},
			{`{"from":"s@shop.example","to":"a@x.example"}`, []string{`"code":"data.invalid"`, "text or an html body"}},
			{`{"from":"s@shop.example","to":"a@x.example","text":"t","attachments":[{"filename":"a/b","content":"x"}]}`, []string{`"code":"data.invalid"`, "filename"}},
			{`{"from":"s@shop.example","to":"a@x.example","text":"t","attachments":[{"filename":"a","content":1}]}`, []string{`"code":"data.invalid"`, "content must be"}},
			{`{"from":"s@shop.example","to":"a@x.example","text":"` + strings.Repeat("x", 1<<20) + `"}`, []string{`"code":"data.too_large"`}},
			{`{"from":"boss@bank.example","to":"a@x.example","text":"t"}`, []string{`"code":"email.sender_refused"`, "boss@bank.example"}},
			{`{"from":"x@other.example","to":"a@x.example","text":"t"}`, []string{`"code":"email.sender_refused"`}},
		} {
			d.expect(d.sendEmail("", c.msg), 400, c.want...)
		}
	})

	t.Run("a message arrives", func(t *testing.T) {
		id := sent(d.sendEmail("", `{"from":"Shop <orders@shop.example>","to":["Ann <ann@x.example>"],"cc":"cc@x.example",`+
			`"bcc":["hidden@x.example"],"replyTo":"help@shop.example","subject":"Your order","text":"Thanks for your order.","html":"<p>Thanks!</p>",`+
			`"attachments":[{"filename":"notes.txt","content":"hello file","contentType":"text/plain"},{"filename":"data.bin","bytes":[0,1,2,255]}]}`))
		m := rl.message(t, id)
		if m.user != "mailer" || m.from != "orders@shop.example" ||
			strings.Join(m.rcpt, " ") != "ann@x.example cc@x.example hidden@x.example" {
			t.Errorf("envelope: user %q, from %q, to %v", m.user, m.from, m.rcpt)
		}
		for _, want := range []string{`From: "Shop" <orders@shop.example>`, `To: "Ann" <ann@x.example>`, "Cc: <cc@x.example>",
			"Reply-To: <help@shop.example>", "Subject: Your order", "multipart/alternative", "Thanks for your order.", "<p>Thanks!</p>",
			`filename="notes.txt"`, base64.StdEncoding.EncodeToString([]byte("hello file")),
			`filename="data.bin"`, "application/octet-stream", base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255})} {
			if !strings.Contains(m.data, want) {
				t.Errorf("the message has no %q:\n%s", want, m.data)
			}
		}
		if strings.Contains(m.data, "hidden@") {
			t.Errorf("the message shows its bcc recipient:\n%s", m.data)
		}
	})

	t.Run("a rolled-back send never arrives", func(t *testing.T) {
		d.expect(d.sendEmail("rollback", `{"from":"alerts@other.example","to":"tx@x.example","subject":"rolled-back","text":"no"}`), 400, "changed my mind")
		committed := sent(d.sendEmail("commit", `{"from":"alerts@other.example","to":"tx@x.example","subject":"committed","text":"yes"}`))
		after := sent(d.sendEmail("", `{"from":"alerts@other.example","to":"tx@x.example","subject":"after","text":"yes"}`))
		rl.message(t, committed)
		rl.message(t, after)
		// The outbox is sent oldest first: the rolled-back message, had it
		// been stored, would have come before these.
		rl.mu.Lock()
		defer rl.mu.Unlock()
		for _, g := range rl.got {
			if strings.Contains(g.data, "Subject: rolled-back") {
				t.Errorf("the rolled-back message arrived:\n%s", g.data)
			}
		}
	})

	db := txDB(t, d)
	state := func(id string) (string, int, string) {
		t.Helper()
		var st, lastErr string
		var attempts int
		err := db.QueryRow(context.Background(), `SELECT state, attempts, coalesce(last_error, '') FROM email_outbox WHERE message_id = $1`, id).
			Scan(&st, &attempts, &lastErr)
		if err != nil {
			t.Fatalf("outbox row of %s: %v", id, err)
		}
		return st, attempts, lastErr
	}

	t.Run("a 4xx answer is retried", func(t *testing.T) {
		id := sent(d.sendEmail("", `{"from":"orders@shop.example","to":"busy@x.example","subject":"retried","text":"at last"}`))
		rl.message(t, id)
		if n := rl.tries("busy@x.example"); n != 3 {
			t.Errorf("the relay was asked %d times, want 3 (two 451 answers, then accepted)", n)
		}
		testkit.Eventually(t, 30*time.Second, "the message is marked sent", func() error {
			if st, attempts, _ := state(id); st != "sent" || attempts != 3 {
				return fmt.Errorf("it is %s after %d attempts", st, attempts)
			}
			return nil
		})
	})

	t.Run("a 5xx answer leaves the message failed", func(t *testing.T) {
		from := d.output.Len()
		id := sent(d.sendEmail("", `{"from":"orders@shop.example","to":"nobody@x.example","subject":"bounced","text":"never"}`))
		testkit.Eventually(t, 60*time.Second, "the message is failed", func() error {
			if st, _, _ := state(id); st != "failed" {
				return fmt.Errorf("it is %s", st)
			}
			return nil
		})
		d.logged(from, "email failed")
		if st, attempts, lastErr := state(id); attempts != 1 || !strings.Contains(lastErr, "550") {
			t.Errorf("failed message: %s after %d attempts, last error %q; want 1 attempt and the 550 answer", st, attempts, lastErr)
		}
		// A later message goes through, and the failed one is not tried
		// again meanwhile.
		later := sent(d.sendEmail("", `{"from":"orders@shop.example","to":"ok@x.example","subject":"later","text":"fine"}`))
		rl.message(t, later)
		if n := rl.tries("nobody@x.example"); n != 1 {
			t.Errorf("the refused recipient was asked %d times, want 1", n)
		}
	})

	t.Run("the owner restricts an app's senders", func(t *testing.T) {
		const senders = "/api/v1/admin/apps/00000000-0000-0000-0000-000000000001/email-senders"
		d.expect(d.call("GET", senders, ""), 200, `"senders":null`, `"board":["@shop.example","alerts@other.example"]`)
		d.expect(d.call("PUT", senders, `{"senders":["@bank.example"]}`), 400, `not among the board's senders`)
		d.expect(d.call("PUT", senders, `{"senders":["orders"]}`), 400, "neither an address")
		d.expect(d.call("PUT", senders, `{}`), 400, "senders is required")
		d.expect(d.call("PUT", senders, `{"senders":["Orders@shop.example"]}`), 200, `"senders":["orders@shop.example"]`)
		rl.message(t, sent(d.sendEmail("", `{"from":"orders@shop.example","to":"ok@x.example","subject":"own sender","text":"fine"}`)))
		d.expect(d.sendEmail("", `{"from":"sales@shop.example","to":"ok@x.example","text":"no"}`), 400,
			`"code":"email.sender_refused"`, "not one of this app's senders")
		d.expect(d.call("PUT", senders, `{"senders":null}`), 200, `"senders":null`)
		rl.message(t, sent(d.sendEmail("", `{"from":"sales@shop.example","to":"ok@x.example","subject":"board again","text":"fine"}`)))
	})
}
