package routing

// Characters and percent-escapes of URL paths (RFC 3986, section 3.3).

// isLiteral reports whether b may appear unescaped in a static segment of a
// canonical pattern: unreserved, sub-delims except "*", ":" and "@".
func isLiteral(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	switch b {
	case '-', '.', '_', '~', // unreserved
		'!', '$', '&', '\'', '(', ')', '+', ',', ';', '=', // sub-delims but "*"
		':', '@':
		return true
	}
	return false
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func unhex(b byte) byte {
	switch {
	case '0' <= b && b <= '9':
		return b - '0'
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10
	default:
		return b - 'A' + 10
	}
}

// validEscapes reports whether every "%" in s starts a two-digit hex escape.
func validEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

// unescape decodes percent-escapes in s, which must satisfy validEscapes.
// It returns s itself (no allocation) when there is nothing to decode.
// "+" is left alone: it means a space only in query strings.
func unescape(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			n++
		}
	}
	if n == 0 {
		return s
	}
	return string(unescapeAppend(make([]byte, 0, len(s)-2*n), s))
}

// unescapeAppend appends s, percent-decoded, to b; s must satisfy
// validEscapes.
func unescapeAppend(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return b
}

// canonicalStatic encodes decoded static text in canonical form: literal
// characters stay, every other byte becomes an upper-case %XX escape, and a
// leading ":" is escaped so it does not read as a parameter.
func canonicalStatic(decoded string) string {
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(decoded))
	for i := 0; i < len(decoded); i++ {
		c := decoded[i]
		if isLiteral(c) && !(i == 0 && c == ':') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}
