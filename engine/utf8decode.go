package engine

import (
	"strings"
	"unicode/utf8"
)

// decodeUTF8 is the Encoding standard's UTF-8 decode: each maximal
// subpart of an ill-formed sequence becomes one U+FFFD, so "%FF%FE" is
// two of them and the truncated "%E2%82" one.
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	out.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		if r, n := utf8.DecodeRune(b[i:]); r != utf8.RuneError || n > 1 {
			out.Write(b[i : i+n])
			i += n
			continue
		}
		i += invalidUTF8Prefix(b[i:])
		out.WriteRune(utf8.RuneError)
	}
	return out.String()
}

// invalidUTF8Prefix is the length of the maximal subpart of an ill-formed
// UTF-8 sequence at the start of b: a lead byte and the continuation
// bytes that still fit it, or 1.
func invalidUTF8Prefix(b []byte) int {
	need, lo, hi := 0, byte(0x80), byte(0xBF)
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b) && b[n] >= lo && b[n] <= hi; n++ {
		lo, hi = 0x80, 0xBF
	}
	return n
}
