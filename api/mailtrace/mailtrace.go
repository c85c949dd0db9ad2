// Package mailtrace reads and writes a message's trace header fields
// (RFC 5321 section 4.4): it counts the Received: lines that tell how many
// relays a message went through, and prepends one for a hop of PiCloud's
// own, so that a forwarding loop ends instead of going round for ever.
package mailtrace

import (
	"bytes"
	"strings"
	"time"
)

// MaxHops is how many Received: header fields a message may carry. RFC
// 5321 section 6.3 has a server detect a routing loop by counting them
// and refuse a message that has too many; Postfix's hopcount_limit is 50.
// The SMTP listener refuses a message with more than MaxHops with 554
// 5.4.6 (RFC 3463's "routing loop detected"), and message.forward one
// with MaxHops already, as its own hop would be one too many.
const MaxHops = 50

// Hops counts the Received: fields of raw's header section, which ends at
// the first empty line (CRLF or LF line ends). A field's name is matched
// in any case, with or without blanks before its colon (RFC 5322's
// obsolete syntax); folded continuation lines, and anything in the body,
// do not count.
func Hops(raw []byte) int {
	n := 0
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break // the end of the header section
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // a folded field's continuation
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		if strings.EqualFold(string(bytes.TrimRight(line[:colon], " \t")), "Received") {
			n++
		}
	}
	return n
}

// Stamp is what a Received: field says of a hop.
type Stamp struct {
	// By is the name of the host that handles the message: this board.
	By string
	// ID names the hop, an atom (a UUID).
	ID string
	// For is the recipient the message goes to, a bare address.
	For string
	// At is when.
	At time.Time
}

// Prepend returns raw with a Received: field for s in front, the rest
// byte for byte as it was. The field's lines end as raw's first line does
// (LF when it ends with a bare LF, else CRLF), and it is folded so that
// no line is long:
//
//	Received: from pi.example (PiCloud message.forward)
//		by pi.example id 2f9c…
//		for <boss@example.com>; Mon, 07 Dec 2026 23:26:52 +0000
//
// A name or address that would break the field's syntax (a blank, a
// control character, an angle bracket) is left out: localhost for the
// host, no for clause for the recipient.
func Prepend(raw []byte, s Stamp) []byte {
	eol := "\r\n"
	if i := bytes.IndexByte(raw, '\n'); i >= 0 && (i == 0 || raw[i-1] != '\r') {
		eol = "\n"
	}
	by := s.By
	if !safe(by) {
		by = "localhost"
	}
	var b strings.Builder
	b.WriteString("Received: from " + by + " (PiCloud message.forward)" + eol + "\tby " + by)
	if safe(s.ID) {
		b.WriteString(" id " + s.ID)
	}
	if safe(s.For) {
		b.WriteString(eol + "\tfor <" + s.For + ">")
	}
	b.WriteString("; " + s.At.Format(time.RFC1123Z) + eol)
	out := make([]byte, 0, b.Len()+len(raw))
	return append(append(out, b.String()...), raw...)
}

// safe reports whether s can stand in a Received: field as a name or an
// address: not empty, no blank, control character, angle bracket,
// parenthesis, semicolon or backslash.
func safe(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("<>();\\", r) {
			return false
		}
	}
	return true
}
