package tui

import (
	"fmt"
	"testing"

	"github.com/picloud/picloud/tui/client"
)

func TestTryRequest(t *testing.T) {
	m := newTestModel(t, 80, 24)
	s := newTryScreen(m.e, shop, hello, []client.Route{{Method: "*", Path: "/files/*path"}})
	r, err := s.request()
	if err != nil || r.Method != "GET" || r.Path != "/files/path" || len(r.Headers) != 0 {
		t.Fatalf("from a route: %+v %v", r, err)
	}
	s = newTryScreen(m.e, shop, hello, nil)
	s.method.SetValue("post")
	s.host.SetValue("shop.example.com")
	s.headers.SetValue("X-Token: abc\n\nAccept: text/plain")
	s.body.SetValue(`{"customer": {"name": "Ada"}}`)
	r, err = s.request()
	if err != nil || r.Method != "POST" || r.Path != "/api/v1/execute/"+hello.ID || r.Host != "shop.example.com" ||
		r.Headers.Get("X-Token") != "abc" || r.Headers.Get("Accept") != "text/plain" || r.Headers.Get("Content-Type") != "application/json" {
		t.Fatalf("by id, with headers and a JSON body: %+v %v", r, err)
	}
	s.headers.SetValue("Content-Type: text/csv")
	if r, _ = s.request(); r.Headers.Get("Content-Type") != "text/csv" {
		t.Errorf("a Content-Type given: %q", r.Headers.Get("Content-Type"))
	}
	s.headers.SetValue("")
	s.body.SetValue("a,b\n1,2")
	if r, _ = s.request(); r.Headers.Get("Content-Type") != "" {
		t.Errorf("a body that is not JSON got %q", r.Headers.Get("Content-Type"))
	}
	s.headers.SetValue("no colon here")
	if _, err := s.request(); err == nil {
		t.Error("a header without a colon was taken")
	}
}

// TestTryKeepsRequests sends two requests, leaves with a third unsent and
// comes back: the fields are as left, and ctrl+p and ctrl+n go through the
// requests sent, back to the one being edited.
func TestTryKeepsRequests(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			routes := []client.Route{{Method: "GET", Path: "/hello/:name"}}
			tr := open(m, newTryScreen(m.e, shop, hello, routes)).(*tryScreen)
			setPath := func(p string) {
				tr.path.SetValue(p)
			}
			setPath("/hello/ada")
			tr.send()
			setPath("/hello/bob")
			tr.body.SetValue(`{"n": 2}`)
			tr.send()
			setPath("/hello/unsent")
			if _, cmd := m.Update(press("esc")); cmd != nil {
				feed(m, cmd())
			}
			if _, ok := m.top().(*tryScreen); ok {
				t.Fatal("esc did not leave try it")
			}

			tr = open(m, newTryScreen(m.e, shop, hello, routes)).(*tryScreen)
			if got := tr.path.Value(); got != "/hello/unsent" {
				t.Fatalf("reopened, the path is %q, want the one left unsent", got)
			}
			m.Update(ctrl('p'))
			if got := tr.path.Value(); got != "/hello/bob" || tr.body.Value() != `{"n": 2}` {
				t.Fatalf("ctrl+p: %q %q, want the last request sent", got, tr.body.Value())
			}
			golden(t, m, "try_history")
			m.Update(ctrl('p'))
			if got := tr.path.Value(); got != "/hello/ada" || tr.body.Value() != "" {
				t.Fatalf("ctrl+p twice: %q %q", got, tr.body.Value())
			}
			m.Update(ctrl('n'))
			m.Update(ctrl('n'))
			if got := tr.path.Value(); got != "/hello/unsent" {
				t.Fatalf("ctrl+n back past the newest: %q, want the request being edited", got)
			}

			// Left with q from the response, the fields are kept too.
			tr.path.SetValue("/hello/after-response")
			feed(m, responseMsg{to{tr.id()}, client.Response{Status: 200, Body: "ok"}})
			if _, cmd := m.Update(press("q")); cmd != nil {
				feed(m, cmd())
			}
			if _, ok := m.top().(*tryScreen); ok {
				t.Fatal("q on the response did not leave try it")
			}
			tr = open(m, newTryScreen(m.e, shop, hello, routes)).(*tryScreen)
			if got := tr.path.Value(); got != "/hello/after-response" {
				t.Fatalf("left with q, reopened with %q", got)
			}

			// Another script's try it starts from its own route.
			other := open(m, newTryScreen(m.e, shop, orders, []client.Route{{Method: "POST", Path: "/orders"}})).(*tryScreen)
			if got := other.path.Value(); got != "/orders" {
				t.Fatalf("another script's try it: %q", got)
			}
		})
	}
}

// TestTryFillsTheAppsHost: for an app other than the default one, try it
// sends to a host name the app claims, not to the default app.
func TestTryFillsTheAppsHost(t *testing.T) {
	for _, c := range []struct {
		domains []client.Domain
		want    string
	}{
		{[]client.Domain{{Pattern: "*.shop.example.com"}, {Pattern: "shop.example.com"}}, "shop.example.com"},
		{[]client.Domain{{Pattern: "*.shop.example.com"}}, "www.shop.example.com"},
		{nil, ""},
	} {
		if got := hostOf(c.domains); got != c.want {
			t.Errorf("hostOf(%v) = %q, want %q", c.domains, got, c.want)
		}
	}
	m := newTestModel(t, 80, 24)
	tr := open(m, newTryScreen(m.e, client.App{ID: "a1", Name: "shop"}, client.Script{ID: "s1", Name: "hello.js"}, nil)).(*tryScreen)
	feed(m, tryHostMsg{to{tr.id()}, "shop.example.com"})
	if got := tr.host.Value(); got != "shop.example.com" {
		t.Fatalf("host %q after the domains came", got)
	}
	req, err := tr.request()
	if err != nil || req.Host != "shop.example.com" {
		t.Fatalf("request host %q (%v)", req.Host, err)
	}
}
