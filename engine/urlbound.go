package engine

import (
	"fmt"
	"strings"
)

// maxPathWork bounds the copying that whatwg-url's path serialisation may
// do: it appends each segment to a growing string, so serialising a path
// (href, pathname) costs about segments × length bytes. A URL beyond it is
// refused rather than held for seconds in one call, which the execution's
// time limit cannot interrupt. 16 MiB allows 1,000 segments in a 16 KiB
// path, far beyond real URLs; the canonical path (urlfast.go) is bounded
// the same way because a setter hands it to whatwg-url.
const maxPathWork = 16 << 20

// maxAuthority bounds the user name, password and host of a URL given to
// whatwg-url, which builds them a character at a time into a new string:
// parsing costs the square of their length. 8 KiB is far beyond any real
// host (253 bytes at most in DNS) and credentials, and costs milliseconds.
const maxAuthority = 8 << 10

// tooCostly refuses URL strings (an input and its base) that whatwg-url
// would take more than milliseconds over, in a call that the execution's
// time limit cannot interrupt.
func tooCostly(urls ...string) error {
	for _, s := range urls {
		if n := authorityLen(s); n > maxAuthority {
			return fmt.Errorf("%w: its user name, password and host are %d bytes long, more than the %d PiCloud parses", errInvalidURL, n, maxAuthority)
		}
	}
	if pathWork(urls...) > maxPathWork {
		return fmt.Errorf("%w: its path has more segments than PiCloud serialises at its length", errInvalidURL)
	}
	return nil
}

// authorityLen is the length of the authority (user name, password, host
// and port) that s may have, counted generously: after a special scheme,
// or after two slashes, up to the next "/", "\\", "?" or "#".
func authorityLen(s string) int {
	s = parserView(s)
	if scheme, rest, ok := strings.Cut(s, ":"); ok && validScheme(strings.ToLower(scheme)) {
		s = rest
		if !isSpecialScheme(strings.ToLower(scheme)) && !strings.HasPrefix(s, "//") {
			return 0
		}
	} else if len(s) < 2 || strings.IndexByte("/\\", s[0]) < 0 || strings.IndexByte("/\\", s[1]) < 0 {
		return 0
	}
	s = strings.TrimLeft(s, "/\\")
	if i := strings.IndexAny(s, "/\\?#"); i >= 0 {
		s = s[:i]
	}
	return len(s)
}

// parserView is s as the parser reads it: without leading C0 controls and
// spaces, and without tabs and newlines anywhere.
func parserView(s string) string {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return r <= ' ' })
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	}
	return s
}

// pathWork estimates that cost for the URL strings given: their "/" and
// "\" before any "?" or "#" times the length before it. An opaque path
// ("data:…", "mailto:…") has no segments.
func pathWork(urls ...string) int {
	segments, length := 0, 0
	for _, s := range urls {
		s = parserView(s)
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
		}
		if opaquePath(s) {
			continue
		}
		segments += strings.Count(s, "/") + strings.Count(s, "\\")
		length += len(s)
	}
	return segments * length
}

// opaquePath tells whether the URL string s (as parserView gives it) has
// an opaque path: a scheme that is not special, then no "/".
func opaquePath(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	scheme = strings.ToLower(scheme)
	return ok && validScheme(scheme) && !isSpecialScheme(scheme) && !strings.HasPrefix(rest, "/")
}

// validScheme tells whether s is an ASCII scheme as the parser reads it.
func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func isSpecialScheme(s string) bool {
	switch s {
	case "http", "https", "ws", "wss", "ftp", "file":
		return true
	}
	return false
}
