package dashboard

import (
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestDeepLinksAnswerThePage: /admin, /admin/ and any path below that is
// no file answer index.html, uncached, with the dashboard's policy.
func TestDeepLinksAnswerThePage(t *testing.T) {
	h := newHandler(t)
	for _, p := range []string{"/admin", "/admin/", "/admin/apps", "/admin/apps/x/y?z=1", "/admin/index.html", "/admin/../admin/login"} {
		rec := serve(t, h, "GET", p)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<title>PiCloud</title>") {
			t.Errorf("GET %s: %d %.200s", p, rec.Code, rec.Body.String())
			continue
		}
		for name, want := range map[string]string{
			"Cache-Control": "no-cache", "Content-Type": "text/html; charset=utf-8",
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		} {
			if got := rec.Header().Get(name); got != want {
				t.Errorf("GET %s: %s %q, want %q", p, name, got, want)
			}
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "style-src-elem 'self';") || strings.Contains(csp, "*") ||
			strings.Count(csp, "unsafe-inline") != 1 || !strings.Contains(csp, "style-src-attr 'unsafe-inline'") {
			t.Errorf("GET %s: policy %q", p, csp)
		}
	}
	if rec := serve(t, h, "GET", "/administrator"); rec.Code != 404 {
		t.Errorf("GET /administrator: %d, want 404", rec.Code)
	}
	if rec := serve(t, h, "POST", "/admin/apps"); rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" ||
		!strings.Contains(rec.Body.String(), `"error":"the dashboard answers GET and HEAD only, not POST"`) {
		t.Errorf("POST /admin/apps: %d allow %q %s, want a JSON 405", rec.Code, rec.Header().Get("Allow"), rec.Body)
	}
}

// TestPolicyAllowsTheBootstrapOnly: the page's inline script (SvelteKit's
// start of the app) is allowed by its hash, and nothing else inline.
func TestPolicyAllowsTheBootstrapOnly(t *testing.T) {
	h := newHandler(t)
	scripts := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllSubmatch(h.index, -1)
	if len(scripts) != 1 {
		t.Fatalf("index.html has %d inline scripts, want SvelteKit's one", len(scripts))
	}
	sum := sha256.Sum256(scripts[0][1])
	want := "script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"
	if !strings.Contains(h.csp, want) {
		t.Errorf("policy %q lacks %q", h.csp, want)
	}
	other := Policy([]byte("<script>alert(1)</script>"))
	if strings.Contains(other, want) {
		t.Errorf("another page's policy allows the bootstrap: %q", other)
	}
}

// TestAssets: hashed assets are cached for a year and sent compressed as
// the browser accepts; a missing asset is 404, never the page.
func TestAssets(t *testing.T) {
	h := newHandler(t)
	var js string
	err := fs.WalkDir(h.files, "_app/immutable", func(p string, d fs.DirEntry, err error) error {
		if err == nil && js == "" && strings.HasSuffix(p, ".js") {
			if _, err := fs.Stat(h.files, p+".br"); err == nil {
				js = p
			}
		}
		return err
	})
	if err != nil || js == "" {
		t.Fatalf("no compressed script in the build: %v", err)
	}
	plain, _ := fs.ReadFile(h.files, js)
	for _, c := range []struct{ accept, enc string }{
		{"gzip, deflate, br, zstd", "br"}, {"gzip", "gzip"}, {"br;q=0, gzip", "gzip"}, {"", ""}, {"identity", ""},
	} {
		rec := serve(t, h, "GET", "/admin/"+js, "Accept-Encoding", c.accept)
		if rec.Code != 200 || rec.Header().Get("Content-Encoding") != c.enc {
			t.Errorf("%s with %q: %d encoding %q, want %q", js, c.accept, rec.Code, rec.Header().Get("Content-Encoding"), c.enc)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", js, cc)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", js, ct)
		}
		if c.enc == "" && rec.Body.String() != string(plain) {
			t.Errorf("%s without compression: not the file", js)
		}
	}
	for _, p := range []string{"/admin/_app/immutable/chunks/nope.js", "/admin/_app/nope"} {
		rec := serve(t, h, "GET", p)
		if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" ||
			!strings.Contains(rec.Body.String(), `"error":"no such file of the dashboard: `+p) {
			t.Errorf("GET %s: %d %q %s, want a JSON 404", p, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
	if rec := serve(t, h, "GET", "/admin/_app/version.json"); rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("version.json: %d %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
}
