package engine

import "strings"

// canonicalURL is a URL whose input was already in the standard's
// serialised form, the common case of request.url and of most URLs in
// scripts: its href is the input and its parts are slices of it, so
// parsing and reading it allocate nothing. Anything the check below is not
// sure of goes to the full parser.
type canonicalURL struct {
	href, scheme, host, hostname, port, pathname, search, hash string
}

// parseCanonicalURL accepts s when the URL parser would return s itself:
// an http, https, ws or wss URL with a lower-case ASCII host name that is
// no Punycode, or an IPv4 address written as the parser writes it; no credentials, no default or empty
// port, a path without dot segments, and a path, query and fragment with
// no byte the parser would percent-encode or change.
func parseCanonicalURL(s string) (*canonicalURL, bool) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return nil, false
	}
	defPort := ""
	switch scheme {
	case "http", "ws":
		defPort = "80"
	case "https", "wss":
		defPort = "443"
	default:
		return nil, false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 || rest[end] != '/' {
		return nil, false // no path: the parser adds "/"
	}
	authority, tail := rest[:end], rest[end:]
	hostname, port, hasPort := strings.Cut(authority, ":")
	if !canonicalHostname(hostname) || hasPort && !canonicalPort(port, defPort) {
		return nil, false
	}
	u := &canonicalURL{href: s, scheme: scheme, host: authority, hostname: hostname, port: port}
	if i := strings.IndexByte(tail, '#'); i >= 0 {
		u.hash, tail = tail[i:], tail[:i]
		if !allBytes(u.hash[1:], fragmentByteKept) {
			return nil, false
		}
	}
	if i := strings.IndexByte(tail, '?'); i >= 0 {
		u.search, tail = tail[i:], tail[:i]
		if !allBytes(u.search[1:], specialQueryByteKept) {
			return nil, false
		}
	}
	if !allBytes(tail, pathByteKept) || hasDotSegment(tail) {
		return nil, false
	}
	u.pathname = tail
	return u, true
}

// parseCanonicalRef is parseCanonicalURL for input against base, when
// base is canonical and input is either canonical or a path from the root
// ("/x", not "//x") whose result is canonical.
func parseCanonicalRef(input, base string) (*canonicalURL, bool) {
	b, ok := parseCanonicalURL(base)
	if !ok {
		return nil, false
	}
	if c, ok := parseCanonicalURL(input); ok {
		return c, true
	}
	if !strings.HasPrefix(input, "/") || strings.HasPrefix(input, "//") {
		return nil, false
	}
	return parseCanonicalURL(b.scheme + "://" + b.host + input)
}

// canonicalHostname: a canonical IPv4 address, or labels of a-z, 0-9 and
// "-", none empty, none starting with "xn--", the last starting with a
// letter (so that the IPv4 parser leaves it alone).
func canonicalHostname(h string) bool {
	if canonicalIPv4(h) {
		return true
	}
	for {
		label, rest, more := strings.Cut(h, ".")
		if label == "" || strings.HasPrefix(label, "xn--") {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
		if !more {
			return label[0] >= 'a' && label[0] <= 'z'
		}
		h = rest
	}
}

// canonicalIPv4: four decimal parts from 0 to 255 without leading zeros,
// which the IPv4 parser serializes back as they are (127.0.0.1; not
// 0x7f.1, 127.1, 010.0.0.1 or a trailing dot).
func canonicalIPv4(h string) bool {
	for part := 0; part < 4; part++ {
		label, rest, more := strings.Cut(h, ".")
		if more != (part < 3) || label == "" || len(label) > 3 || label[0] == '0' && len(label) > 1 {
			return false
		}
		n := 0
		for i := 0; i < len(label); i++ {
			if label[i] < '0' || label[i] > '9' {
				return false
			}
			n = n*10 + int(label[i]-'0')
		}
		if n > 255 {
			return false
		}
		h = rest
	}
	return true
}

// canonicalPort: digits without a leading zero, at most 65535, not the
// scheme's default.
func canonicalPort(p, defPort string) bool {
	if p == "" || len(p) > 5 || p == defPort || p[0] == '0' && len(p) > 1 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// hasDotSegment tells whether a path segment could be "." or ".." (also
// percent-encoded), which the parser removes.
func hasDotSegment(path string) bool {
	return strings.Contains(path, "/.") || strings.Contains(path, "/%2") || strings.Contains(path, "\\")
}

func allBytes(s string, kept func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !kept(s[i]) {
			return false
		}
	}
	return true
}

// The bytes the parser copies unchanged into a special URL's path, query
// and fragment: printable ASCII less each percent-encode set (and "\",
// which is a path separator in special URLs).
func pathByteKept(c byte) bool {
	return c > 0x20 && c < 0x7f && strings.IndexByte("\"#<>?\\^`{}", c) < 0
}

func specialQueryByteKept(c byte) bool {
	return c > 0x20 && c < 0x7f && strings.IndexByte("\"#<>'", c) < 0
}

func fragmentByteKept(c byte) bool {
	return c > 0x20 && c < 0x7f && strings.IndexByte("\"<>`", c) < 0
}
