package hosts

import (
	"errors"
	"testing"
)

func mustParse(t *testing.T, s string) Pattern {
	t.Helper()
	p, err := ParsePattern(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParsePattern(t *testing.T) {
	for in, want := range map[string]string{
		"API.Example.com.":       "api.example.com",
		"{tenant}.example.com":   "{tenant}.example.com",
		"{a}.{b}.example.com":    "{a}.{b}.example.com",
		"pi":                     "pi",
		"x-1.example.com":        "x-1.example.com",
		" {Sub}.example.com ":    "{sub}.example.com", // case folds, names too
		"xn--bcher-kva.example":  "xn--bcher-kva.example",
		"192.168.1.10":           "192.168.1.10",
		"{t}.eu.example.com":     "{t}.eu.example.com",
		"{under_score}.pi.local": "{under_score}.pi.local",
	} {
		if got := mustParse(t, in).String(); got != want {
			t.Errorf("ParsePattern(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", ".", "a..b", "-a.com", "a-.com", "*.example.com", "http://x.com", "x.com:80",
		"x.com/path", "{}.x.com", "{a}.{a}.x.com", "{1a}.x.com", "a b.com", "ünï.com", "{a.x.com"} {
		if _, err := ParsePattern(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePattern(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM:8080": "example.com", "example.com.": "example.com", "[::1]:80": "::1",
		"[::1]": "::1", "10.0.0.2:80": "10.0.0.2", "": "", "pi.local": "pi.local",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolvePrecedence(t *testing.T) {
	table, err := NewTable([]Claim{
		{ID: "exact", AppID: "a1", Pattern: mustParse(t, "api.example.com")},
		{ID: "tenant", AppID: "a2", Pattern: mustParse(t, "{tenant}.example.com")},
		{ID: "deep", AppID: "a3", Pattern: mustParse(t, "{svc}.{region}.example.com")},
		{ID: "eu", AppID: "a4", Pattern: mustParse(t, "{svc}.eu.example.com")},
		{ID: "any2", AppID: "a5", Pattern: mustParse(t, "{a}.{b}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host, id string
		params   map[string]string
	}{
		{"api.example.com", "exact", nil},
		{"acme.example.com", "tenant", map[string]string{"tenant": "acme"}},
		{"db.eu.example.com", "eu", map[string]string{"svc": "db"}},
		{"db.us.example.com", "deep", map[string]string{"svc": "db", "region": "us"}},
		{"pi.local", "any2", map[string]string{"a": "pi", "b": "local"}},
		{"example.com", "any2", map[string]string{"a": "example", "b": "com"}},
		{"a.b.c.example.com", "", nil},
		{"localhost", "", nil},
		{"", "", nil},
	} {
		c, params, ok := table.Resolve(tc.host)
		if ok != (tc.id != "") || c.ID != tc.id {
			t.Errorf("Resolve(%q) = %q %v, want %q", tc.host, c.ID, ok, tc.id)
			continue
		}
		if len(params) != len(tc.params) {
			t.Errorf("Resolve(%q) params = %v, want %v", tc.host, params, tc.params)
		}
		for k, v := range tc.params {
			if params[k] != v {
				t.Errorf("Resolve(%q) params = %v, want %v", tc.host, params, tc.params)
			}
		}
	}
}

func TestOverlaps(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"api.example.com", "api.example.com", true},
		{"api.example.com", "{x}.example.com", false}, // exact wins
		{"{a}.example.com", "{b}.example.com", true},
		{"{a}.b.c", "a.{b}.c", true}, // a.b.c matches both, two literals each
		{"{a}.b.c", "{a}.{b}.c", false},
		{"{a}.example.com", "{a}.example.org", false},
		{"{a}.example.com", "{a}.{b}.example.com", false},
	} {
		if got := overlaps(mustParse(t, tc.a), mustParse(t, tc.b)); got != tc.want {
			t.Errorf("overlaps(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	_, err := NewTable([]Claim{{ID: "1", Pattern: mustParse(t, "{a}.x.com")}, {ID: "2", Pattern: mustParse(t, "{b}.x.com")}})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("NewTable with overlapping claims: %v", err)
	}
	table, _ := NewTable([]Claim{{ID: "1", Pattern: mustParse(t, "{a}.x.com")}})
	if cs := table.Conflicts(mustParse(t, "{zz}.x.com")); len(cs) != 1 || cs[0].ID != "1" {
		t.Fatalf("Conflicts = %v", cs)
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("{a}.example.com", "x.example.com")
	f.Fuzz(func(t *testing.T, pattern, host string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		table, _ := NewTable([]Claim{{ID: "1", Pattern: p}})
		table.Resolve(Canonical(host))
	})
}
