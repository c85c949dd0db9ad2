// Package safetext makes text that came from data safe to draw: on a
// terminal, a control character, a bidirectional override or a stray byte
// of invalid UTF-8 in a path, a header, a name or a line of console output
// would be acted on (an escape sequence sets the window title, an override
// reorders what follows) rather than shown. The functions here show each
// such character as an escape instead (\x1b, \u009b, \u202e, \xff), so that
// what is drawn is exactly what the data holds.
//
// Everything that draws data (the terminal UI, the commands' output, a web
// page) passes it through Line or Text on its way to the screen.
package safetext

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Unsafe reports whether r is shown escaped: a C0 control (newline and tab
// too), DEL, a C1 control (U+0080-U+009F), or a bidirectional formatting
// character (the embeddings and overrides U+202A-U+202E, the isolates
// U+2066-U+2069 and the marks U+200E, U+200F and U+061C).
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return r == 0x200e || r == 0x200f || r == 0x061c
}

// Escape is how an unsafe rune is shown: its Go escape, \x1b, \a, \n,
// \u009b, \u202e.
func Escape(r rune) string {
	q := strconv.QuoteRune(r)
	return q[1 : len(q)-1]
}

// Line returns s for one line of a display: every unsafe rune (newline and
// tab too) as its escape and every byte of invalid UTF-8 as \xNN. It
// returns s itself when nothing needs escaping.
func Line(s string) string { return escape(s, oneLine) }

// Text returns s for a display of several lines: newlines stay, tabs
// become four spaces, and every other unsafe rune and byte of invalid
// UTF-8 is escaped as Line does. It returns s itself when nothing needs
// changing.
func Text(s string) string { return escape(s, lines) }

// mode is what escape leaves of newlines and tabs.
type mode int

const (
	oneLine mode = iota // both escaped
	lines               // newlines kept, tabs as spaces
	plain               // both kept
)

// tab is what Text shows for a tab, as the terminal UI's text fields do.
const tab = "    "

// shown is what r becomes in mode m, and whether that differs from r.
func shown(r rune, m mode) (string, bool) {
	switch {
	case r == '\n' && m != oneLine, r == '\t' && m == plain:
		return "", false
	case r == '\t' && m == lines:
		return tab, true
	case Unsafe(r):
		return Escape(r), true
	}
	return "", false
}

func escape(s string, m mode) string {
	i := firstChange(s, m)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		} else if v, ok := shown(r, m); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

const hex = "0123456789abcdef"

// firstChange is the index of the first byte of s that escape changes in
// mode m, -1 for none.
func firstChange(s string, m mode) int {
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		if _, ok := shown(r, m); ok {
			return i
		}
		i += n
	}
	return -1
}

// Writer escapes what it writes to an underlying writer: every unsafe
// rune but newline and tab, and every byte of invalid UTF-8, as Line does.
// It is for a command's plain output, line after line. Each Write should
// be whole text (as fmt's printing functions write): a character split
// across two writes shows as the escapes of its bytes.
type Writer struct{ w io.Writer }

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w} }

// Write writes p escaped; it reports len(p) when all of it was written.
func (w *Writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, escape(string(p), plain)); err != nil {
		return 0, err
	}
	return len(p), nil
}
