package engine

import (
	"strings"
	"testing"
)

func emailMessage(raw string) func(*Invocation) {
	return func(inv *Invocation) {
		inv.Email = &EmailMessage{ID: "m1", From: "ann@x.example", To: "orders@shop.example", Raw: []byte(raw)}
	}
}

const orderMail = "From: Ann <ann@x.example>\r\nSubject: Order 7\r\nX-Tag: a\r\n\r\nTwo apples.\r\n"

// TestEmailHandlerSeesTheMessage checks the email handler's message: the
// envelope, the headers as a read-only Headers, raw as a stream a
// Response reads, rawSize; and that setReject travels with the result.
func TestEmailHandlerSeesTheMessage(t *testing.T) {
	res := run(t, `export default {
		fetch() { throw new Error("fetch must not run") },
		async email(message, env, ctx) {
			console.log(message.from, message.to, message.rawSize, message.headers instanceof Headers, message.headers.get("subject"), message.headers.get("x-tag"))
			try { message.headers.set("subject", "changed") } catch (e) { console.log(e.name) }
			console.log(JSON.stringify(await new Response(message.raw).text()))
			try { await new Response(message.raw).text() } catch (e) { console.log("again:", e.name) }
			message.setReject("no thanks")
		},
	}`, emailMessage(orderMail))
	if res.Error != nil {
		t.Fatalf("error: %+v", res.Error)
	}
	var lines []string
	for _, l := range res.Logs {
		lines = append(lines, l.Message)
	}
	want := []string{
		"ann@x.example orders@shop.example 70 true Order 7 a",
		"TypeError",
		`"From: Ann <ann@x.example>\r\nSubject: Order 7\r\nX-Tag: a\r\n\r\nTwo apples.\r\n"`,
		"again: TypeError",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !res.Rejected || res.RejectReason != "no thanks" {
		t.Errorf("rejected %v %q, want the reason given", res.Rejected, res.RejectReason)
	}
}

// TestEmailHandlerErrors checks a script without an email handler, a
// throwing one, and setReject's checks.
func TestEmailHandlerErrors(t *testing.T) {
	res := run(t, `export default { fetch() { return "hi" } }`, emailMessage(orderMail))
	if res.Error == nil || res.Error.Code != CodeNoHandler || !strings.Contains(res.Error.Message, "email(message, env, ctx)") {
		t.Errorf("no handler: %+v", res.Error)
	}
	res = run(t, `export default { email() { throw new Error("boom") } }`, emailMessage(orderMail))
	if res.Error == nil || res.Error.Code != CodeException || res.Rejected {
		t.Errorf("throwing handler: %+v, rejected %v", res.Error, res.Rejected)
	}
	res = run(t, `export default { email(m) { m.setReject(42) } }`, emailMessage(orderMail))
	if res.Error == nil || !strings.Contains(res.Error.Message, "setReject: the reason must be a string") || res.Rejected {
		t.Errorf("setReject(42): %+v", res.Error)
	}
}
