package routing

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// route builds a Route whose ID and Target are "METHOD path".
func route(t testing.TB, method, path string) Route {
	t.Helper()
	p, err := ParsePattern(path)
	if err != nil {
		t.Fatalf("ParsePattern(%q): %v", path, err)
	}
	id := method + " " + path
	return Route{ID: id, Method: method, Pattern: p, Target: id}
}

func table(t testing.TB, specs ...string) *Table {
	t.Helper()
	var rs []Route
	for _, s := range specs {
		m, p, _ := strings.Cut(s, " ")
		rs = append(rs, route(t, m, p))
	}
	tb, err := NewTable(rs)
	if err != nil {
		t.Fatalf("NewTable: %v", err)
	}
	return tb
}

type matchCase struct {
	method, path string
	want         string            // route ID, "" for no match
	params       map[string]string // nil when none
}

func checkMatches(t *testing.T, tb *Table, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		r, ps, ok := tb.Match(c.method, c.path)
		if c.want == "" {
			if ok {
				t.Errorf("Match(%s %q) = %s %v, want no match", c.method, c.path, r.ID, ps)
			}
			continue
		}
		if !ok || r.ID != c.want || r.Target != c.want {
			t.Errorf("Match(%s %q) = %q, %v; want %q", c.method, c.path, r.ID, ok, c.want)
			continue
		}
		if !reflect.DeepEqual(ps, c.params) {
			t.Errorf("Match(%s %q) params = %v, want %v", c.method, c.path, ps, c.params)
		}
	}
}

type P = map[string]string

func TestMatchPrecedence(t *testing.T) {
	tb := table(t,
		"GET /",
		"GET /a/:x/c",
		"GET /a/b/d",
		"GET /users",
		"GET /users/me",
		"GET /users/:id",
		"GET /users/:id/files/*path",
		"GET /users/*rest",
		"GET /static/*",
		"GET /p/:a/:b",
		"GET /p/x/*w",
	)
	checkMatches(t, tb, []matchCase{
		{"GET", "/", "GET /", nil},
		{"GET", "/a/b/c", "GET /a/:x/c", P{"x": "b"}}, // backtrack from static b
		{"GET", "/a/b/d", "GET /a/b/d", nil},
		{"GET", "/a/z/c", "GET /a/:x/c", P{"x": "z"}},
		{"GET", "/a/b/e", "", nil},
		{"GET", "/users", "GET /users", nil},
		{"GET", "/users/", "GET /users", nil}, // trailing slash ignored
		{"GET", "/users/me", "GET /users/me", nil},
		{"GET", "/users/42", "GET /users/:id", P{"id": "42"}},
		{"GET", "/users/42/files/a/b.txt", "GET /users/:id/files/*path", P{"id": "42", "path": "a/b.txt"}},
		{"GET", "/users/42/files", "GET /users/:id/files/*path", P{"id": "42", "path": ""}},
		{"GET", "/users/42/files/", "GET /users/:id/files/*path", P{"id": "42", "path": ""}},
		{"GET", "/users/42/files/d/", "GET /users/:id/files/*path", P{"id": "42", "path": "d"}},
		{"GET", "/users/me/files/x", "GET /users/:id/files/*path", P{"id": "me", "path": "x"}}, // backtrack from static me
		{"GET", "/users/42/other", "GET /users/*rest", P{"rest": "42/other"}},
		{"GET", "/users/me/x", "GET /users/*rest", P{"rest": "me/x"}},
		{"GET", "/static", "GET /static/*", P{"*": ""}},
		{"GET", "/static/css/a.css", "GET /static/*", P{"*": "css/a.css"}},
		{"GET", "/static/a//b", "GET /static/*", P{"*": "a//b"}},
		// static x beats :a at the second segment, so the wildcard under x
		// wins over the deeper parameter route
		{"GET", "/p/x/y", "GET /p/x/*w", P{"w": "y"}},
		{"GET", "/p/q/y", "GET /p/:a/:b", P{"a": "q", "b": "y"}},
		{"GET", "/p/x/y/z", "GET /p/x/*w", P{"w": "y/z"}},
		{"GET", "/p/x", "GET /p/x/*w", P{"w": ""}},
		{"GET", "/p/q", "", nil},
		{"GET", "/nope", "", nil},
		{"GET", "//", "", nil},
		{"GET", "/users//", "GET /users/*rest", P{"rest": "/"}}, // wildcards take anything
		{"GET", "/a/b//", "", nil},
		{"GET", "/users//42", "GET /users/*rest", P{"rest": "/42"}},
		{"GET", "", "", nil},
		{"GET", "users", "", nil},
		{"GET", "*", "", nil},
	})
}

func TestMatchRootWildcard(t *testing.T) {
	tb := table(t, "GET /*all", "GET /x")
	checkMatches(t, tb, []matchCase{
		{"GET", "/", "GET /*all", P{"all": ""}},
		{"GET", "/x", "GET /x", nil},
		{"GET", "/x/", "GET /x", nil},
		{"GET", "/x/y", "GET /*all", P{"all": "x/y"}},
		{"GET", "/y?q=1", "GET /*all", P{"all": "y"}},
	})
}

func TestMatchMethods(t *testing.T) {
	tb := table(t,
		"GET /m",
		"* /m",
		"POST /m",
		"HEAD /h",
		"GET /h",
		"* /any",
		"GET /g",
		"GET /b/:x",
		"* /b/c",
		"POST /d/:x",
		"GET /d/c",
	)
	checkMatches(t, tb, []matchCase{
		{"GET", "/m", "GET /m", nil},
		{"POST", "/m", "POST /m", nil},
		{"PUT", "/m", "* /m", nil},
		{"HEAD", "/m", "GET /m", nil}, // HEAD falls back to GET before "*"
		{"PROPFIND", "/m", "* /m", nil},
		{"get", "/m", "* /m", nil}, // request methods are case-sensitive
		{"HEAD", "/h", "HEAD /h", nil},
		{"GET", "/h", "GET /h", nil},
		{"DELETE", "/any", "* /any", nil},
		{"HEAD", "/g", "GET /g", nil},
		{"POST", "/g", "", nil},
		{"OPTIONS", "/g", "", nil},
		// path precedence first: static /b/c accepts GET through "*"
		{"GET", "/b/c", "* /b/c", nil},
		// method mismatch on the static path backtracks to the parameter
		{"POST", "/d/c", "POST /d/:x", P{"x": "c"}},
		{"GET", "/d/c", "GET /d/c", nil},
		{"PUT", "/d/c", "", nil},
	})
}

func TestMatchDecoding(t *testing.T) {
	tb := table(t,
		"GET /files/:name",
		"GET /raw/*rest",
		"GET /caf%C3%A9",
		"GET /a%2Fb",
		"GET /s/~x",
	)
	checkMatches(t, tb, []matchCase{
		{"GET", "/files/a%20b", "GET /files/:name", P{"name": "a b"}},
		{"GET", "/files/a+b", "GET /files/:name", P{"name": "a+b"}},
		{"GET", "/files/a%2Fb", "GET /files/:name", P{"name": "a/b"}},
		{"GET", "/files/%E2%82%AC", "GET /files/:name", P{"name": "€"}},
		{"GET", "/files/a%zzb", "", nil},
		{"GET", "/files/a%2", "", nil},
		{"GET", "/files/ok?x=%zz", "GET /files/:name", P{"name": "ok"}},
		{"GET", "/raw/a%20b/c%2Fd", "GET /raw/*rest", P{"rest": "a b/c/d"}},
		{"GET", "/raw/%", "", nil},
		{"GET", "/caf%c3%a9", "GET /caf%C3%A9", nil},
		{"GET", "/caf%C3%A9", "GET /caf%C3%A9", nil},
		{"GET", "/a%2fb", "GET /a%2Fb", nil},
		{"GET", "/a/b", "", nil}, // two segments, not a%2Fb
		{"GET", "/s/%7Ex", "GET /s/~x", nil},
	})
}

func TestNewTableConflicts(t *testing.T) {
	conflicting := [][2]string{
		{"GET /users/:id", "GET /users/:name"},
		{"GET /files/*a", "GET /files/*"},
		{"GET /a", "get /a/"},
		{"* /a/:x", "* /a/:y"},
		{"POST /~x", "POST /%7Ex"},
	}
	for _, c := range conflicting {
		m1, p1, _ := strings.Cut(c[0], " ")
		m2, p2, _ := strings.Cut(c[1], " ")
		_, err := NewTable([]Route{route(t, m1, p1), route(t, m2, p2)})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("NewTable(%q, %q) error = %v, want ErrConflict", c[0], c[1], err)
		} else if !strings.Contains(err.Error(), c[0]) || !strings.Contains(err.Error(), c[1]) {
			t.Errorf("conflict error %q does not name both routes", err)
		}
	}
	// Not conflicting: different methods, "*" vs exact, HEAD vs GET,
	// different shapes.
	tb := table(t, "GET /a/:x", "* /a/:y", "HEAD /a/:z", "POST /a/:x", "GET /a/b", "GET /a/*w", "GET /a/:x/c")
	if tb.Len() != 7 {
		t.Fatalf("Len() = %d, want 7", tb.Len())
	}
	pat := func(s string) Pattern { return route(t, "GET", s).Pattern }
	tests := []struct {
		method, path string
		want         []string
	}{
		{"GET", "/a/:other", []string{"GET /a/:x"}},
		{"get", "/a/:other", []string{"GET /a/:x"}},
		{"*", "/a/:q", []string{"* /a/:y"}},
		{"HEAD", "/a/:q", []string{"HEAD /a/:z"}},
		{"PUT", "/a/:q", nil},
		{"GET", "/a/*", []string{"GET /a/*w"}},
		{"GET", "/a/c", nil},
		{"BOGUS", "/a/:x", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range tb.Conflicts(tt.method, pat(tt.path)) {
			got = append(got, r.ID)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Conflicts(%s %s) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestNewTableBadMethod(t *testing.T) {
	r := route(t, "GET", "/a")
	r.Method = "FETCH"
	if _, err := NewTable([]Route{r}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewTable with method FETCH: %v, want ErrInvalid", err)
	}
}

func TestNilAndEmptyTable(t *testing.T) {
	var nilTable *Table
	if _, _, ok := nilTable.Match("GET", "/"); ok {
		t.Error("nil table matched")
	}
	tb := table(t)
	if _, _, ok := tb.Match("GET", "/"); ok {
		t.Error("empty table matched")
	}
}

func TestManyStaticChildrenUseMap(t *testing.T) {
	var specs []string
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
		specs = append(specs, "GET /"+s, "GET /x/"+s+"/:id")
	}
	tb := table(t, specs...)
	if tb.root.staticMap == nil {
		t.Fatal("root with 12 static children has no map")
	}
	checkMatches(t, tb, []matchCase{
		{"GET", "/k", "GET /k", nil},
		{"GET", "/%6B", "GET /k", nil},
		{"GET", "/x/j/7", "GET /x/j/:id", P{"id": "7"}},
		{"GET", "/z", "", nil},
	})
}

func TestConcurrentMatch(t *testing.T) {
	tb := table(t, "GET /users/:id", "GET /static/*p", "GET /health")
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 1000; i++ {
				if _, ps, ok := tb.Match("GET", "/users/7"); !ok || ps["id"] != "7" {
					t.Error("concurrent match failed")
					return
				}
			}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}
