package engine

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// formPair is one name/value pair of a urlencoded list.
type formPair struct{ name, value string }

// parseURLEncoded parses application/x-www-form-urlencoded text.
func parseURLEncoded(s string) []formPair {
	var out []formPair
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = append(out, formPair{percentDecode(strings.ReplaceAll(name, "+", " ")),
			percentDecode(strings.ReplaceAll(value, "+", " "))})
	}
	return out
}

// percentDecode decodes %XX escapes leniently: malformed ones stay as they
// are, and invalid UTF-8 becomes U+FFFD.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return decodeUTF8(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// lessUTF16 orders strings by their UTF-16 code units, as JavaScript
// compares strings: a character beyond U+FFFF (a surrogate pair) sorts
// before U+E000..U+FFFF, unlike in UTF-8 byte order.
func lessUTF16(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ha, la := utf16Units(ra)
			hb, lb := utf16Units(rb)
			return ha < hb || ha == hb && la < lb
		}
		a, b = a[na:], b[nb:]
	}
	return a == "" && b != ""
}

// utf16Units are the UTF-16 code units of r (the second 0 when there is
// one).
func utf16Units(r rune) (rune, rune) {
	if r >= 0x10000 {
		return utf16.EncodeRune(r)
	}
	return r, 0
}

// encodeURLEncoded serialises pairs as application/x-www-form-urlencoded.
func encodeURLEncoded(pairs []formPair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		formEscape(&b, p.name)
		b.WriteByte('=')
		formEscape(&b, p.value)
	}
	return b.String()
}

func formEscape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '*' || c == '-' || c == '.' || c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}
