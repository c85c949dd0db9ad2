// Package hosts resolves a request's Host to the app that claims it. Claims
// are exact host names (api.example.com) or patterns whose labels may be
// {name} parameters ({tenant}.example.com); the most specific claim wins:
// exact beats pattern, and more literal labels beat fewer.
package hosts

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// Errors of ParsePattern and NewTable.
var (
	ErrInvalid  = errors.New("invalid domain pattern")
	ErrConflict = errors.New("domain claims overlap")
)

// Pattern is a parsed domain claim.
type Pattern struct {
	canon    string
	labels   []string // literal labels, or "" for a parameter
	params   []string // parameter name per label, "" for literals
	literals int
}

// String is the canonical form, e.g. {tenant}.example.com.
func (p Pattern) String() string { return p.canon }

// Shape is the pattern with parameter names erased ({}.example.com).
func (p Pattern) Shape() string {
	parts := make([]string, len(p.labels))
	for i, l := range p.labels {
		if p.params[i] != "" {
			l = "{}"
		}
		parts[i] = l
	}
	return strings.Join(parts, ".")
}

// Exact reports whether the pattern has no parameters.
func (p Pattern) Exact() bool { return p.literals == len(p.labels) }

// ParsePattern checks a claim: dot-separated labels of letters, digits and
// '-' (at most 63 each, 253 in all), or {name} parameters. Case is folded and
// one trailing dot dropped.
func ParsePattern(s string) (Pattern, error) {
	orig := s
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if s == "" || len(s) > 253 {
		return Pattern{}, fmt.Errorf("%w %q: a host name of 1 to 253 characters is required", ErrInvalid, orig)
	}
	if strings.ContainsAny(s, ":/ *") {
		return Pattern{}, fmt.Errorf("%w %q: give a host name only (no scheme, port, path or *); use {name} for a label that varies", ErrInvalid, orig)
	}
	var p Pattern
	seen := map[string]bool{}
	for _, l := range strings.Split(s, ".") {
		if strings.HasPrefix(l, "{") && strings.HasSuffix(l, "}") {
			name := l[1 : len(l)-1]
			if !validName(name) {
				return Pattern{}, fmt.Errorf("%w %q: parameter {%s} must be a name of letters, digits and _", ErrInvalid, orig, name)
			}
			if seen[name] {
				return Pattern{}, fmt.Errorf("%w %q: parameter {%s} appears twice", ErrInvalid, orig, name)
			}
			seen[name] = true
			p.labels = append(p.labels, "")
			p.params = append(p.params, name)
			continue
		}
		if !validLabel(l) {
			return Pattern{}, fmt.Errorf("%w %q: label %q must be 1-63 letters, digits or '-', not starting or ending with '-'", ErrInvalid, orig, l)
		}
		p.labels = append(p.labels, l)
		p.params = append(p.params, "")
		p.literals++
	}
	parts := make([]string, len(p.labels))
	for i := range p.labels {
		if p.params[i] != "" {
			parts[i] = "{" + p.params[i] + "}"
		} else {
			parts[i] = p.labels[i]
		}
	}
	p.canon = strings.Join(parts, ".")
	return p, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func validLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Canonical turns a request's Host header into the form claims are matched
// against: lower case, without port, brackets or trailing dot.
func Canonical(host string) string {
	host = strings.TrimSpace(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// match reports whether a canonical host matches p, with its parameters.
func (p Pattern) match(labels []string) (map[string]string, bool) {
	if len(labels) != len(p.labels) {
		return nil, false
	}
	var params map[string]string
	for i, l := range labels {
		if p.params[i] == "" {
			if l != p.labels[i] {
				return nil, false
			}
			continue
		}
		if l == "" {
			return nil, false
		}
		if params == nil {
			params = make(map[string]string, 2)
		}
		params[p.params[i]] = l
	}
	return params, true
}

// overlaps reports whether some host would match a and b equally well.
func overlaps(a, b Pattern) bool {
	if len(a.labels) != len(b.labels) || a.literals != b.literals {
		return false
	}
	for i := range a.labels {
		if a.params[i] == "" && b.params[i] == "" && a.labels[i] != b.labels[i] {
			return false
		}
	}
	return true
}
