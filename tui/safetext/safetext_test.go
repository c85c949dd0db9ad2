package safetext

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"/hello/pi", "/hello/pi"},
		{"héllo wörld ✓ 日本 🙂", "héllo wörld ✓ 日本 🙂"},
		{"\x1b]0;PWNED\x07\x1b[31m", `\x1b]0;PWNED\a\x1b[31m`},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"\x00\x01\x7f", `\x00\x01\x7f`},
		{"\u0085\u009b31m", `\u0085\u009b31m`},
		{"abc\u202edef\u2066x\u2069\u202a\u202c\u200e\u200f\u061c", `abc\u202edef\u2066x\u2069\u202a\u202c\u200e\u200f\u061c`},
		{"bad \xff\xc3 end", `bad \xff\xc3 end`},
		{"\xe2\x80", `\xe2\x80`},
		// A backslash is itself: only what a terminal acts on changes.
		{`C:\dir \x1b`, `C:\dir \x1b`},
		// Joiners and other format characters that draw nothing harmful stay.
		{"👩\u200d💻 soft\u00adhyphen", "👩\u200d💻 soft\u00adhyphen"},
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"line one\nline two\n", "line one\nline two\n"},
		{"a\tb", "a    b"},
		{"crlf\r\n\x1b]0;x\x07", "crlf\\r\n\\x1b]0;x\\a"},
		{"\u009b\u202e\xff", `\u009b\u202e\xff`},
	} {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestNothingUnsafeRemains checks, over every rune of the planes in use
// and every byte, that what Line and Text return holds no unsafe rune (but
// Text's newlines) and is valid UTF-8.
func TestNothingUnsafeRemains(t *testing.T) {
	var all []byte
	for r := rune(0); r < 0x30000; r++ {
		all = append(all, string(r)...)
	}
	for b := 0; b < 256; b++ {
		all = append(all, byte(b))
	}
	for name, f := range map[string]func(string) string{"Line": Line, "Text": Text} {
		out := f(string(all))
		if !utf8.ValidString(out) {
			t.Errorf("%s returned invalid UTF-8", name)
		}
		for _, r := range out {
			if Unsafe(r) && !(name == "Text" && r == '\n') {
				t.Errorf("%s left %U", name, r)
			}
		}
	}
}

func TestUnchangedIsTheSameString(t *testing.T) {
	s := "nothing to escape here: ünïcödé"
	if got := Line(s); got != s {
		t.Fatalf("Line(%q) = %q", s, got)
	}
	if got := Text(s + "\nsecond line"); got != s+"\nsecond line" {
		t.Fatalf("Text changed a safe text: %q", got)
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	in := "name\t\x1b]0;PWNED\x07\u202e\r\nnext line\n"
	n, err := w.Write([]byte(in))
	if err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(in))
	}
	if want := "name\t\\x1b]0;PWNED\\a\\u202e\\r\nnext line\n"; b.String() != want {
		t.Fatalf("wrote %q, want %q", b.String(), want)
	}
	if _, err := NewWriter(failing{}).Write([]byte("x")); err == nil {
		t.Fatal("a failed write reported no error")
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }
