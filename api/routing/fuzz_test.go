package routing

import (
	"strings"
	"testing"
)

func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"/", "/users/:id", "/files/*path", "/a//b", "/{x}", "/caf%c3%a9",
		"/api/x", "/:a/:a", "/*/x", "/a%2", "/%3Ax", "/a/", "/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, err := ParsePattern(path)
		if err != nil {
			if p.canon != "" {
				t.Fatalf("error %v with non-zero pattern", err)
			}
			return
		}
		// The canonical form is a fixed point.
		again, err := ParsePattern(p.String())
		if err != nil || again.String() != p.String() || again.Shape() != p.Shape() {
			t.Fatalf("reparse %q -> %q (%v)", p.String(), again.String(), err)
		}
		// A request for the pattern, parameters filled in, matches it.
		tb, err := NewTable([]Route{{ID: "r", Method: "GET", Pattern: p}})
		if err != nil {
			t.Fatalf("NewTable(%q): %v", p, err)
		}
		req := p.String()
		for _, s := range p.segs {
			switch s.kind {
			case segParam:
				req = strings.Replace(req, "/:"+s.text, "/v", 1)
			case segWildcard:
				req = strings.TrimSuffix(strings.TrimSuffix(req, s.text), "*") + "w/x"
			}
		}
		if _, _, ok := tb.Match("GET", req); !ok {
			t.Fatalf("pattern %q does not match request %q", p, req)
		}
	})
}

func FuzzMatch(f *testing.F) {
	tb := table(f,
		"GET /", "GET /a/:x/c", "GET /a/b/d", "* /users/:id", "GET /users/me",
		"GET /users/:id/files/*path", "POST /static/*", "HEAD /h/:x", "GET /caf%C3%A9",
	)
	for _, s := range []string{"/", "/a/b/c", "/users/42", "/users/%zz", "/static/a//b", "//", "/caf%c3%a9?x", ""} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		r, ps, ok := tb.Match(method, path)
		if !ok {
			if ps != nil || r.ID != "" {
				t.Fatalf("no match but route %q params %v", r.ID, ps)
			}
			return
		}
		names := r.Pattern.Params()
		if len(ps) != len(names) {
			t.Fatalf("route %s: params %v, want names %v", r.ID, ps, names)
		}
		for _, n := range names {
			if _, ok := ps[n]; !ok {
				t.Fatalf("route %s: missing param %q in %v", r.ID, n, ps)
			}
		}
	})
}
