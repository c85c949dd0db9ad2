package routing

import (
	"strings"
)

const (
	// MaxPathLen is the longest accepted pattern, in bytes.
	MaxPathLen = 1024
	// MaxSegments is the largest number of segments in a pattern.
	MaxSegments = 32
)

// reserved lists first segments the daemon serves itself.
var reserved = []string{"api", "admin", "healthz", "version"}

type segKind uint8

const (
	segStatic segKind = iota
	segParam
	segWildcard
)

type segment struct {
	kind segKind
	// text is the decoded text of a static segment, or the name of a
	// parameter or wildcard ("*" for a bare wildcard).
	text string
}

// Pattern is a parsed route path. The zero Pattern is not valid; obtain one
// from ParsePattern. Patterns are immutable and safe to share.
type Pattern struct {
	canon string
	shape string
	segs  []segment
}

// String returns the canonical form of the pattern, e.g. "/users/:id".
// Parsing it again yields an equal Pattern.
func (p Pattern) String() string { return p.canon }

// Shape returns the pattern with parameter names erased, e.g.
// "/users/:/files/*". Routes with the same method and shape conflict.
func (p Pattern) Shape() string { return p.shape }

// IsZero reports whether p is the zero Pattern (not produced by ParsePattern).
func (p Pattern) IsZero() bool { return p.canon == "" }

// Params returns the names of the pattern's parameters and wildcard, in
// order; a bare wildcard is named "*".
func (p Pattern) Params() []string {
	var names []string
	for _, s := range p.segs {
		if s.kind != segStatic {
			names = append(names, s.text)
		}
	}
	return names
}

// ParsePattern parses and validates a route path; see the package
// documentation for the syntax. Errors are *PatternError values wrapping
// ErrInvalid or ErrReserved.
func ParsePattern(path string) (Pattern, error) {
	switch {
	case path == "":
		return Pattern{}, invalid(path, "empty path; a route path starts with /")
	case len(path) > MaxPathLen:
		return Pattern{}, invalid(path[:32]+"...", "longer than %d bytes", MaxPathLen)
	case path[0] != '/':
		return Pattern{}, invalid(path, "must start with /")
	case strings.ContainsAny(path, "?#"):
		return Pattern{}, invalid(path, "must not contain a query (?) or fragment (#)")
	}
	if path == "/" {
		return Pattern{canon: "/", shape: "/"}, nil
	}
	body := strings.TrimSuffix(path[1:], "/") // a single trailing slash is normalised away
	raw := strings.Split(body, "/")
	if len(raw) > MaxSegments {
		return Pattern{}, invalid(path, "more than %d segments", MaxSegments)
	}
	segs := make([]segment, 0, len(raw))
	var canon, shape strings.Builder
	for i, r := range raw {
		s, err := parseSegment(path, r, i, len(raw))
		if err != nil {
			return Pattern{}, err
		}
		for _, prev := range segs {
			if prev.kind != segStatic && s.kind != segStatic && prev.text == s.text {
				return Pattern{}, invalid(path, "parameter name %q used twice", s.text)
			}
		}
		segs = append(segs, s)
		canon.WriteByte('/')
		shape.WriteByte('/')
		switch s.kind {
		case segStatic:
			c := canonicalStatic(s.text)
			canon.WriteString(c)
			shape.WriteString(c)
		case segParam:
			canon.WriteString(":" + s.text)
			shape.WriteByte(':')
		case segWildcard:
			if s.text == "*" {
				canon.WriteByte('*')
			} else {
				canon.WriteString("*" + s.text)
			}
			shape.WriteByte('*')
		}
	}
	return Pattern{canon: canon.String(), shape: shape.String(), segs: segs}, nil
}

// parseSegment parses raw, the i-th of n segments of path.
func parseSegment(path, raw string, i, n int) (segment, error) {
	if raw == "" {
		return segment{}, invalid(path, "empty segment (//)")
	}
	if strings.ContainsAny(raw, "{}") {
		return segment{}, invalid(path, "segment %q: use :name for parameters ({name} is for domain patterns)", raw)
	}
	switch raw[0] {
	case ':':
		if !validName(raw[1:]) {
			return segment{}, invalid(path, "parameter %q: a name is a letter or _ followed by letters, digits or _", raw)
		}
		return segment{kind: segParam, text: raw[1:]}, nil
	case '*':
		if i != n-1 {
			return segment{}, invalid(path, "wildcard %q must be the last segment", raw)
		}
		name := raw[1:]
		if name == "" {
			name = "*"
		} else if !validName(name) {
			return segment{}, invalid(path, "wildcard %q: a name is a letter or _ followed by letters, digits or _", raw)
		}
		return segment{kind: segWildcard, text: name}, nil
	}
	for j := 0; j < len(raw); j++ {
		c := raw[j]
		switch {
		case c == '*':
			return segment{}, invalid(path, "segment %q: * is only allowed as a trailing wildcard segment (*name)", raw)
		case c == '%':
			if j+2 >= len(raw) || !isHex(raw[j+1]) || !isHex(raw[j+2]) {
				return segment{}, invalid(path, "segment %q: %% must start an escape of two hex digits", raw)
			}
			j += 2
		case !isLiteral(c):
			return segment{}, invalid(path, "segment %q: character %q is not allowed in a URL path (percent-encode it)", raw, c)
		}
	}
	text := unescape(raw)
	if text == "." || text == ".." {
		return segment{}, invalid(path, "dot segment %q is not allowed", raw)
	}
	if i == 0 {
		for _, r := range reserved {
			if strings.EqualFold(text, r) {
				return segment{}, &PatternError{Path: path, Err: ErrReserved,
					Reason: "/" + r + " is reserved for PiCloud itself (reserved: /api, /admin, /healthz, /version)"}
			}
		}
	}
	return segment{kind: segStatic, text: text}, nil
}

// validName reports whether s matches [A-Za-z_][A-Za-z0-9_]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
