// Package dashboard serves the browser dashboard: a single-page app built
// from web/ (SvelteKit, see docs/dashboard.md) into build/, which is
// committed and embedded, so that building the daemon needs no Node.js.
//
// Every path under /admin that is not a file of the build answers
// index.html, uncached, and the app's router draws the screen. Hashed
// assets under /admin/_app/immutable/ are cached for a year and served
// pre-compressed (brotli or gzip) when the browser takes it.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed all:build
var files embed.FS

// Prefix is the path the dashboard is served under.
const Prefix = "/admin"

const immutableDir = "_app/immutable/"

// Handler serves the dashboard under Prefix from the embedded build.
type Handler struct {
	files fs.FS
	index []byte
	csp   string
}

// New returns the handler of the embedded build.
func New() (*Handler, error) {
	sub, err := fs.Sub(files, "build")
	if err != nil {
		return nil, fmt.Errorf("dashboard build: %w", err)
	}
	return NewFS(sub)
}

// NewFS returns a handler of the build in fsys (index.html at its root).
func NewFS(fsys fs.FS) (*Handler, error) {
	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard build: %w", err)
	}
	return &Handler{files: fsys, index: index, csp: Policy(index)}, nil
}

// hash is a CSP source of the SHA-256 of s.
func hash(s []byte) string {
	sum := sha256.Sum256(s)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// inlineScript finds the scripts written into a page: SvelteKit's
// bootstrap of the app is one.
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// Policy is the Content-Security-Policy of the dashboard whose page is
// index: nothing from elsewhere, no inline script but the page's own (by
// their hashes), no <style> element (the code editor's styles are
// constructed style sheets), and no framing. Style attributes are allowed:
// SvelteKit's announcer of page changes and the code editor set them, and
// without selectors or outside URLs (img-src) they can neither read the
// page nor send anything away.
func Policy(index []byte) string {
	scripts := []string{"'self'"}
	for _, m := range inlineScript.FindAllSubmatch(index, -1) {
		scripts = append(scripts, hash(m[1]))
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src " + strings.Join(scripts, " "),
		"style-src 'self'",
		"style-src-elem 'self'",
		"style-src-attr 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src 'self'",
		"worker-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// ServeHTTP answers a request for Prefix or a path below it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "the dashboard answers GET and HEAD only, not "+r.Method)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || (rel != "" && rel[0] != '/') {
		writeError(w, http.StatusNotFound, "not part of the dashboard: "+r.URL.Path)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+rel), "/")
	if strings.HasPrefix(name, "_app/") {
		h.serveAsset(w, r, name)
		return
	}
	if name != "" && name != "index.html" {
		if data, err := fs.ReadFile(h.files, name); err == nil {
			hdr.Set("Cache-Control", "no-cache")
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
			return
		}
	}
	// A deep link: the app's router draws the screen of the path.
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(h.index))
}

// serveAsset answers a file of the build's _app directory, or 404: a
// missing script must not be answered with the page.
func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	data, err := fs.ReadFile(h.files, name)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such file of the dashboard: "+r.URL.Path+
			" (a page loaded before an upgrade asks for its old files: reload it)")
		return
	}
	hdr := w.Header()
	if !strings.HasPrefix(name, immutableDir) {
		hdr.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
		return
	}
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Add("Vary", "Accept-Encoding")
	if ctype := contentType(name); ctype != "" {
		hdr.Set("Content-Type", ctype)
	}
	for _, enc := range []struct{ name, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
		if !accepts(r, enc.name) {
			continue
		}
		if packed, err := fs.ReadFile(h.files, name+enc.ext); err == nil {
			hdr.Set("Content-Encoding", enc.name)
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(packed))
			return
		}
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// writeError answers an error as the rest of the API does: JSON with a
// sentence for a person.
func writeError(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Del("Cache-Control")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// contentType is the type of a built file by its extension.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}

// accepts tells whether the request's Accept-Encoding names enc with a
// quality above zero.
func accepts(r *http.Request, enc string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
