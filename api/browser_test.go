package api_test

import (
	"strings"
	"testing"

	"github.com/picloud/picloud/api/hosts"
)

// TestCrossOriginProtection sends admin changes as a browser on another
// site would: refused with the session cookie, allowed with a bearer token.
func TestCrossOriginProtection(t *testing.T) {
	s := newStack(t, stackOptions{})
	cookie := "picloud_session=TOKEN"
	for _, tc := range []struct {
		name   string
		method string
		path   string
		header map[string]string
		body   string
		want   int
	}{
		{"cookie, cross-site", "POST", "/api/v1/admin/apps", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"}, `{"name":"a1"}`, 403},
		{"cookie, same-site other origin", "POST", "/api/v1/admin/apps", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-site"}, `{"name":"a2"}`, 403},
		{"cookie, foreign Origin", "DELETE", "/api/v1/admin/apps/00000000-0000-0000-0000-000000000001", map[string]string{"Cookie": cookie, "Origin": "http://evil.example"}, "", 403},
		{"login, cross-site", "POST", "/api/v1/admin/auth/login", map[string]string{"Sec-Fetch-Site": "cross-site"}, `{"username":"alice","password":"correct horse battery"}`, 403},
		{"cookie, cross-site read", "GET", "/api/v1/admin/apps", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"}, "", 200},
		{"cookie, same origin", "POST", "/api/v1/admin/apps", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}, `{"name":"b1"}`, 201},
		{"cookie, no browser headers", "POST", "/api/v1/admin/apps", map[string]string{"Cookie": cookie}, `{"name":"b2"}`, 201},
		{"bearer, cross-site", "POST", "/api/v1/admin/apps", map[string]string{"Authorization": "Bearer TOKEN", "Sec-Fetch-Site": "cross-site"}, `{"name":"b3"}`, 201},
		{"bearer, foreign Origin", "POST", "/api/v1/admin/apps", map[string]string{"Authorization": "Bearer TOKEN", "Origin": "http://evil.example"}, `{"name":"b4"}`, 201},
	} {
		before := s.auditCount()
		res := s.do(tc.method, tc.path, tc.header, tc.body)
		if res.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, res.status, res.body, tc.want)
		}
		if tc.want == 403 && (!strings.Contains(res.body, "cross-origin request refused") || s.auditCount() != before) {
			t.Errorf("%s: %s, audit records %d → %d", tc.name, res.body, before, s.auditCount())
		}
	}
}

// TestAdminHostGuard sends admin requests with Host names that are not the
// board's: 421, whatever the credentials. User routes answer on any host.
func TestAdminHostGuard(t *testing.T) {
	s := newStack(t, stackOptions{})
	s.bind(s.createScript("page", `export default () => new Response("<p>hi</p>", {headers: {"content-type": "text/html", "content-security-policy": "default-src 'self'"}})`), "GET", "/page")
	shop := s.admin("POST", "/api/v1/admin/apps", `{"name":"shop"}`).json()["id"].(string)
	if res := s.admin("POST", "/api/v1/admin/apps/"+shop+"/domains", `{"pattern":"shop.example.com"}`); res.status != 201 {
		t.Fatal(res.body)
	}
	authed := func(host string) map[string]string {
		return map[string]string{"Host": host, "Authorization": "Bearer TOKEN"}
	}
	for host, want := range map[string]int{
		"localhost": 200, "LOCALHOST:8080": 200, "127.0.0.1": 200, "[::1]:8080": 200, "192.168.1.20": 200,
		"testhost": 200, "testhost.local:8080": 200,
		"evil.example": 421, "testhost.evil.example": 421, "shop.example.com": 421, "localhost.evil.example": 421,
	} {
		res := s.do("GET", "/api/v1/admin/auth/me", authed(host), "")
		if res.status != want {
			t.Errorf("admin API on %s: %d %s, want %d", host, res.status, res.body, want)
		}
		if want == 421 && !strings.Contains(res.body, "PICLOUD_ADMIN_HOSTS") {
			t.Errorf("admin API on %s: unclear error %s", host, res.body)
		}
	}
	for _, req := range []struct{ method, path, body string }{
		{"POST", "/api/v1/admin/auth/login", `{"username":"alice","password":"correct horse battery"}`},
		{"GET", "/api/v1/admin/setup", ""},
		{"GET", "/admin/", ""},
		{"GET", "/api/v1/admin/audit", ""},
	} {
		if res := s.do(req.method, req.path, map[string]string{"Host": "evil.example"}, req.body); res.status != 421 {
			t.Errorf("%s %s on evil.example: %d, want 421", req.method, req.path, res.status)
		}
	}
	// User routes are not the admin API: any host, and the default app
	// answers on unclaimed ones. On an admin host, a page is sandboxed into
	// an origin of its own, besides its own policy.
	page := s.do("GET", "/page", map[string]string{"Host": "localhost:8080"}, "")
	if csp := page.header.Values("Content-Security-Policy"); page.status != 200 || len(csp) != 2 || !strings.HasPrefix(csp[1], "sandbox allow-scripts") {
		t.Errorf("page on localhost: %d, policies %q", page.status, csp)
	}
	page = s.do("GET", "/page", map[string]string{"Host": "evil.example"}, "")
	if csp := page.header.Values("Content-Security-Policy"); page.status != 200 || len(csp) != 1 {
		t.Errorf("page on an unclaimed other host: %d, policies %q", page.status, csp)
	}

	// A board reached by its own name only: IP addresses no longer count.
	named := newStack(t, stackOptions{adminHosts: hosts.NewAdminHosts([]string{"pi.example.com"}, false)})
	for host, want := range map[string]int{"pi.example.com": 200, "localhost": 200, "192.168.1.20": 421, "testhost": 421} {
		if res := named.do("GET", "/api/v1/admin/auth/me", map[string]string{"Host": host, "Authorization": "Bearer TOKEN"}, ""); res.status != want {
			t.Errorf("named board, admin API on %s: %d, want %d", host, res.status, want)
		}
	}
}

// TestAppsCannotClaimAdminHosts: no app shares a host name with the admin
// API.
func TestAppsCannotClaimAdminHosts(t *testing.T) {
	s := newStack(t, stackOptions{})
	app := s.admin("POST", "/api/v1/admin/apps", `{"name":"grabby"}`).json()["id"].(string)
	for pattern, want := range map[string]int{
		"localhost": 409, "testhost": 409, "TestHost.local": 409, "{x}.local": 409, "{name}": 409,
		"127.0.0.1": 409, "192.168.1.20": 409, "{a}.{b}.{c}.{d}": 409, "10.{b}.0.1": 409,
		"app.localhost": 201, "{x}.testhost.local": 201, "shop.example.com": 201,
	} {
		res := s.admin("POST", "/api/v1/admin/apps/"+app+"/domains", `{"pattern":"`+pattern+`"}`)
		if res.status != want {
			t.Errorf("claim %s: %d %s, want %d", pattern, res.status, res.body, want)
		}
		if want == 409 && !strings.Contains(res.body, "admin API") {
			t.Errorf("claim %s: unclear refusal %s", pattern, res.body)
		}
	}
}
