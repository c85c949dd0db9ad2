package hosts

import (
	"fmt"
	"sort"
	"strings"
)

// Claim is one app's claim on a pattern.
type Claim struct {
	ID      string
	AppID   string
	Pattern Pattern
}

// Table resolves hosts to claims. It is immutable and safe for concurrent use.
type Table struct {
	exact    map[string]Claim
	patterns []Claim // most literal labels first
}

// NewTable builds a table; overlapping claims are an error.
func NewTable(claims []Claim) (*Table, error) {
	t := &Table{exact: map[string]Claim{}}
	for i, c := range claims {
		for _, d := range claims[:i] {
			if overlaps(c.Pattern, d.Pattern) {
				return nil, fmt.Errorf("%w: %s (%s) and %s (%s)", ErrConflict, c.Pattern, c.ID, d.Pattern, d.ID)
			}
		}
		if c.Pattern.Exact() {
			t.exact[c.Pattern.canon] = c
		} else {
			t.patterns = append(t.patterns, c)
		}
	}
	sort.SliceStable(t.patterns, func(i, j int) bool {
		return t.patterns[i].Pattern.literals > t.patterns[j].Pattern.literals
	})
	return t, nil
}

// Resolve returns the most specific claim on a host (as Canonical makes it)
// and the values of its parameters.
func (t *Table) Resolve(host string) (Claim, map[string]string, bool) {
	if t == nil {
		return Claim{}, nil, false
	}
	if c, ok := t.exact[host]; ok {
		return c, nil, true
	}
	if len(t.patterns) == 0 || host == "" {
		return Claim{}, nil, false
	}
	labels := strings.Split(host, ".")
	for _, c := range t.patterns {
		if params, ok := c.Pattern.match(labels); ok {
			return c, params, true
		}
	}
	return Claim{}, nil, false
}

// Conflicts lists the claims that a new claim on p would overlap.
func (t *Table) Conflicts(p Pattern) []Claim {
	var out []Claim
	if t == nil {
		return out
	}
	for _, c := range t.exact {
		if overlaps(c.Pattern, p) {
			out = append(out, c)
		}
	}
	for _, c := range t.patterns {
		if overlaps(c.Pattern, p) {
			out = append(out, c)
		}
	}
	return out
}
