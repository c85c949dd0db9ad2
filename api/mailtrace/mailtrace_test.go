package mailtrace

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// relayed is a message as it arrives after three relays: one Received
// field folded over three lines, one in lower case with a blank before
// its colon, fields whose names only start or end like Received, and a
// body that quotes Received lines of its own.
const relayed = "Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n" +
	"\tby mail.example.org (Postfix) with ESMTPS id 4F1A2B3C\r\n" +
	"\tfor <orders@shop.example>; Mon, 07 Dec 2026 10:00:00 +0000\r\n" +
	"received : from client.example.com by mx.example.net; Mon, 07 Dec 2026 09:59:58 +0000\r\n" +
	"Received-SPF: pass (mx.example.net: domain of ann@x.example designates 192.0.2.9)\r\n" +
	"X-Received: by 2002:a05:6000:1 with SMTP id x; Mon, 07 Dec 2026 09:59:57 -0800\r\n" +
	"Received: from [192.0.2.9] by client.example.com; Mon, 07 Dec 2026 09:59:57 +0000\r\n" +
	"From: Ann <ann@x.example>\r\n" +
	"To: orders@shop.example\r\n" +
	"Subject: Order\r\n" +
	" Received: not a field, a folded subject\r\n" +
	"Message-ID: <order@x.example>\r\n" +
	"\r\n" +
	"Here is the bounce I got:\r\n" +
	"Received: from a by b; Mon, 07 Dec 2026 09:00:00 +0000\r\n" +
	"Received: from c by d; Mon, 07 Dec 2026 09:00:00 +0000\r\n"

func TestHops(t *testing.T) {
	lf := strings.ReplaceAll(relayed, "\r\n", "\n")
	for _, c := range []struct {
		name string
		raw  string
		want int
	}{
		{"CRLF", relayed, 3},
		{"LF", lf, 3},
		{"no body", strings.SplitAfter(relayed, "\r\n\r\n")[0], 3},
		{"a header section without its empty line", "Received: from a by b; Mon, 07 Dec 2026 09:00:00 +0000\r\nSubject: x", 1},
		{"none", "From: a@x.example\r\nSubject: hi\r\n\r\nReceived: from a by b\r\n", 0},
		{"empty", "", 0},
		{"a body only", "\r\nReceived: from a by b\r\n", 0},
	} {
		if got := Hops([]byte(c.raw)); got != c.want {
			t.Errorf("%s: %d hops, want %d", c.name, got, c.want)
		}
	}
	many := strings.Repeat("Received: from a by b; Mon, 07 Dec 2026 09:00:00 +0000\r\n", MaxHops+1) + "Subject: loop\r\n\r\nbody\r\n"
	if got := Hops([]byte(many)); got != MaxHops+1 {
		t.Errorf("a looping message: %d hops, want %d", got, MaxHops+1)
	}
}

func TestPrepend(t *testing.T) {
	at := time.Date(2026, 12, 7, 23, 26, 52, 0, time.FixedZone("", 3600))
	s := Stamp{By: "pi.example", ID: "2f9c0d4e-0000-4000-8000-000000000001", For: "boss@x.example", At: at}
	for _, c := range []struct {
		name, raw, eol string
	}{
		{"CRLF", relayed, "\r\n"},
		{"LF", strings.ReplaceAll(relayed, "\r\n", "\n"), "\n"},
		{"no line end at all", "Subject: x", "\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := Prepend([]byte(c.raw), s)
			want := "Received: from pi.example (PiCloud message.forward)" + c.eol +
				"\tby pi.example id 2f9c0d4e-0000-4000-8000-000000000001" + c.eol +
				"\tfor <boss@x.example>; Mon, 07 Dec 2026 23:26:52 +0100" + c.eol
			if !bytes.HasPrefix(out, []byte(want)) {
				t.Fatalf("prepended:\n%q\nwant it to start with\n%q", out, want)
			}
			if rest := out[len(want):]; string(rest) != c.raw {
				t.Errorf("the message after the new field changed:\n%q\nwant\n%q", rest, c.raw)
			}
			if got, was := Hops(out), Hops([]byte(c.raw)); got != was+1 {
				t.Errorf("%d hops after the prepend, %d before", got, was)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("the forwarded message does not parse: %v", err)
			}
			first := msg.Header["Received"][0]
			date, err := mail.ParseDate(first[strings.LastIndexByte(first, ';')+1:])
			if err != nil || !date.Equal(at) {
				t.Errorf("the new field's date: %v, %v; want %v", date, err, at)
			}
		})
	}
	// Nothing a caller passes can add a field or break this one.
	out := string(Prepend([]byte(relayed), Stamp{By: "evil\r\nBcc: x@y", ID: "a b", For: "a>@x\r\nBcc: y@z", At: at}))
	head := out[:strings.Index(out, relayed)]
	if strings.Contains(head, "Bcc") || strings.Contains(head, " id ") || strings.Contains(head, "\tfor") ||
		!strings.HasPrefix(head, "Received: from localhost (PiCloud message.forward)\r\n\tby localhost; ") {
		t.Errorf("unsafe names went into the field:\n%q", head)
	}
}
