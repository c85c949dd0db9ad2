package tui

import (
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
