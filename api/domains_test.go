package api_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestDomainDispatch(t *testing.T) {
	s := newStack(t, stackOptions{})
	app := func(name string) string {
		res := s.admin("POST", "/api/v1/admin/apps", fmt.Sprintf(`{"name":%q}`, name))
		if res.status != 201 {
			t.Fatalf("create app: %d %s", res.status, res.body)
		}
		return res.json()["id"].(string)
	}
	claim := func(appID, pattern string, want int) {
		t.Helper()
		if res := s.admin("POST", "/api/v1/admin/apps/"+appID+"/domains", fmt.Sprintf(`{"pattern":%q}`, pattern)); res.status != want {
			t.Fatalf("claim %s: %d %s, want %d", pattern, res.status, res.body, want)
		}
	}
	script := func(appID, name, reply string) string {
		res := s.admin("POST", "/api/v1/admin/scripts", fmt.Sprintf(`{"app_id":%q,"name":%q,"source":"export default (req, env, ctx) => %s"}`, appID, name, reply))
		if res.status != 201 {
			t.Fatalf("create script: %d %s", res.status, res.body)
		}
		return res.json()["id"].(string)
	}
	shop, blog := app("shop"), app("blog")
	claim(shop, "shop.example.com", 201)
	claim(blog, "{tenant}.blog.example.com", 201)
	claim(blog, "{who}.blog.example.com", 409) // same hosts, equally specific
	claim(shop, "Shop.Example.com.", 409)      // the same host, canonicalised
	claim(shop, "shop.example.com:8080", 400)
	// The same path in three apps.
	s.bind(script(shop, "a", "'shop'"), "GET", "/hello")
	s.bind(script(blog, "b", "({tenant: ctx.params.tenant, id: ctx.params.id})"), "GET", "/hello")
	s.bind(script(blog, "c", "({tenant: ctx.params.tenant, id: ctx.params.id})"), "GET", "/posts/:id")
	s.bind(s.createScript("d", "export default () => 'default'"), "GET", "/hello")

	get := func(host, path string) response {
		t.Helper()
		return s.do("GET", path, map[string]string{"Host": host}, "")
	}
	for _, tc := range []struct{ host, path, want string }{
		{"shop.example.com", "/hello", "shop"},
		{"SHOP.example.COM:8080", "/hello", "shop"},
		{"shop.example.com.", "/hello", "shop"},
		{"acme.blog.example.com", "/hello", `{"tenant":"acme"}`},
		{"acme.blog.example.com", "/posts/7", `{"tenant":"acme","id":"7"}`},
		{"pi.local:8080", "/hello", "default"},
		{"192.168.1.20", "/hello", "default"},
	} {
		if res := get(tc.host, tc.path); res.status != 200 || res.body != tc.want {
			t.Errorf("GET %s%s = %d %s, want %s", tc.host, tc.path, res.status, res.body, tc.want)
		}
	}
	if res := get("shop.example.com", "/posts/7"); res.status != 404 {
		t.Errorf("a route of another app reached through shop's host: %d %s", res.status, res.body)
	}
	res := s.admin("GET", "/api/v1/admin/routes/match?host=x.blog.example.com&path=/posts/1", nil)
	if !strings.Contains(res.body, `"app_id":"`+blog+`"`) || !strings.Contains(res.body, `"tenant":"x"`) {
		t.Errorf("match with host: %s", res.body)
	}

	// HTTP/1.0 without a Host header is served by the default app.
	if got := rawHTTP10(t, s.srv.Listener.Addr().String(), "/hello"); !strings.HasSuffix(got, "default") {
		t.Errorf("HTTP/1.0 without Host: %q", got)
	}

	// With the fallback off, unclaimed hosts get 404 and claimed ones still work.
	if res := s.admin("PATCH", "/api/v1/admin/settings", `{"default_app_fallback":false}`); res.status != 200 {
		t.Fatalf("settings: %d %s", res.status, res.body)
	}
	if res := get("pi.local", "/hello"); res.status != 404 {
		t.Errorf("unclaimed host with the fallback off: %d %s", res.status, res.body)
	}
	if res := get("shop.example.com", "/hello"); res.body != "shop" {
		t.Errorf("claimed host with the fallback off: %d %s", res.status, res.body)
	}

	// Deleting an app releases its claims and routes.
	if res := s.admin("DELETE", "/api/v1/admin/apps/"+shop, nil); res.status != 204 {
		t.Fatalf("delete app: %d %s", res.status, res.body)
	}
	if res := get("shop.example.com", "/hello"); res.status != 404 {
		t.Errorf("deleted app's host: %d %s", res.status, res.body)
	}
	if res := s.admin("DELETE", "/api/v1/admin/apps/00000000-0000-0000-0000-000000000001", nil); res.status != 400 {
		t.Errorf("delete the default app: %d %s", res.status, res.body)
	}
}

// rawHTTP10 sends an HTTP/1.0 request without a Host header and returns the
// status line and body.
func rawHTTP10(t *testing.T, addr, path string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.0\r\n\r\n", path)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b := new(strings.Builder)
	_, _ = bufio.NewReader(res.Body).WriteTo(b)
	return res.Status + " " + b.String()
}
