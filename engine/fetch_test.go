package engine

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"

	"github.com/picloud/picloud/engine/egress"
	"strings"
	"testing"
	"time"
)

// upstream is an HTTP server scripts fetch from in these tests.
func upstream(t *testing.T) (*httptest.Server, netip.AddrPort) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Seen-Agent", r.UserAgent())
		fmt.Fprintf(w, `{"method":%q,"auth":%q}`, r.Method, r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.WriteHeader(201)
		w.Write(b)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/json", http.StatusFound) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat("x", 5000))) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, netip.MustParseAddrPort(srv.Listener.Addr().String())
}

// fetchExecutor lets scripts reach the upstream server (on loopback, which
// the built-in rules refuse) and nothing else on this machine.
func fetchExecutor(ap netip.AddrPort, mod ...func(*egress.Policy)) *InProcess {
	p := egress.Default()
	p.Allow = []egress.AllowRule{{Net: netip.PrefixFrom(ap.Addr(), 32), Port: int(ap.Port())}}
	p.MaxResponseBytes = 4096
	p.Timeout = 300 * time.Millisecond
	for _, m := range mod {
		m(p)
	}
	return NewInProcess(Options{Fetch: p})
}

func TestFetch(t *testing.T) {
	srv, ap := upstream(t)
	x := fetchExecutor(ap)
	base := func(inv *Invocation) { inv.Env = map[string]string{"UP": srv.URL} }
	tests := []struct{ name, src, want string }{
		{"json with headers", `export default async (req, env) => {
  const r = await fetch(env.UP + "/json", { headers: { Authorization: "Bearer t" } })
  return Response.json({ status: r.status, ok: r.ok, body: await r.json(), agent: r.headers.get("x-seen-agent") })
}`, `{"status":200,"ok":true,"body":{"method":"GET","auth":"Bearer t"},"agent":"PiCloud"}`},
		{"post body", `export default async (req, env) => {
  const r = await fetch(new Request(env.UP + "/echo", { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } }))
  return Response.json({ status: r.status, type: r.headers.get("content-type"), body: await r.text() })
}`, `{"status":201,"type":"application/json","body":"{\"a\":1}"}`},
		{"redirect followed", `export default async (req, env) => {
  const r = await fetch(env.UP + "/redirect")
  return Response.json({ status: r.status, redirected: r.redirected, url: r.url.endsWith("/json") })
}`, `{"status":200,"redirected":true,"url":true}`},
		{"redirect manual", `export default async (req, env) => {
  const r = await fetch(env.UP + "/redirect", { redirect: "manual" })
  return Response.json({ status: r.status, location: r.headers.get("location") })
}`, `{"status":302,"location":"/json"}`},
		{"redirect error", `export default async (req, env) => {
  try { await fetch(env.UP + "/redirect", { redirect: "error" }); return "no" } catch (e) { return e.name }
}`, `TypeError`},
		{"parallel", `export default async (req, env) => {
  const rs = await Promise.all([1, 2, 3].map(() => fetch(env.UP + "/json").then(r => r.json())))
  return String(rs.length)
}`, `3`},
		{"timeout", `export default async (req, env) => {
  try { await fetch(env.UP + "/slow"); return "no" } catch (e) { return e.message.includes("no answer within") ? "timeout" : e.message }
}`, `timeout`},
		{"size cap", `export default async (req, env) => {
  try { await fetch(env.UP + "/big"); return "no" } catch (e) { return e.message.includes("larger than the limit of 4096 bytes") ? "capped" : e.message }
}`, `capped`},
		{"abort", `export default async (req, env) => {
  const c = new AbortController()
  setTimeout(() => c.abort(), 20)
  try { await fetch(env.UP + "/slow", { signal: c.signal }); return "no" } catch (e) { return e.name }
}`, `AbortError`},
		{"abort through the Request's signal", `export default async (req, env) => {
  const c = new AbortController()
  setTimeout(() => c.abort(), 20)
  try { await fetch(new Request(env.UP + "/slow", { signal: c.signal })); return "no" } catch (e) { return e.name }
}`, `AbortError`},
		{"aborted before", `export default async (req, env) => {
  try { await fetch(env.UP + "/json", { signal: AbortSignal.abort("why") }); return "no" } catch (e) { return e }
}`, `why`},
		{"abort signal timeout", `export default async (req, env) => {
  try { await fetch(env.UP + "/slow", { signal: AbortSignal.timeout(10) }); return "no" } catch (e) { return e.name }
}`, `TimeoutError`},
		{"other scheme", `export default async () => {
  try { await fetch("file:///etc/passwd"); return "no" } catch (e) { return e.name + ": " + e.message }
}`, `TypeError: fetch file:///etc/passwd failed: only http and https URLs can be fetched, not "file:"`},
		// Percent signs in a message are data, never formatting directives.
		{"percent signs in a refusal", `export default async () => {
  try { await fetch("http://127.0.0.1:1/a%2fb%2F"); return "no" } catch (e) { return e.name + ": " + e.message }
}`, `TypeError: fetch http://127.0.0.1:1/a%2fb%2F failed: refused by the fetch policy: 127.0.0.1 is this machine`},
		{"percent signs in a bad URL", `export default async () => {
  try { await fetch("http://%d%s/"); return "no" } catch (e) { return e.name + ": " + e.message }
}`, `TypeError: Invalid URL: "http://%d%s/"`},
		// The URL standard keeps a bare "%"; the request still goes out.
		{"bare percent signs in a path", `export default async () => {
  try { await fetch("http://127.0.0.1:1/%d%s"); return "no" } catch (e) { return e.name + ": " + e.message }
}`, `TypeError: fetch http://127.0.0.1:1/%d%s failed: refused by the fetch policy: 127.0.0.1 is this machine`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWith(t, x, JavaScript, tt.src, base)
			if got := respBody(t, res); got != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFetchPolicy(t *testing.T) {
	srv, ap := upstream(t)
	other, _ := upstream(t)
	try := func(x *InProcess, url string) string {
		t.Helper()
		res := runWith(t, x, JavaScript, `export default async (req, env) => {
  try { const r = await fetch(env.URL); return "reached " + r.status } catch (e) { return e.message }
}`, func(inv *Invocation) { inv.Env = map[string]string{"URL": url} })
		return respBody(t, res)
	}
	allowed := fetchExecutor(ap)
	if got := try(allowed, srv.URL+"/json"); got != "reached 200" {
		t.Errorf("allowed address: %s", got)
	}
	// Another port on the same loopback address is this machine: refused.
	if got := try(allowed, other.URL+"/json"); !strings.Contains(got, "refused by the fetch policy") || !strings.Contains(got, "is this machine") {
		t.Errorf("another local port: %s", got)
	}
	// A name that resolves to loopback is refused at dial time.
	port := ap.Port()
	if got := try(NewInProcess(Options{}), fmt.Sprintf("http://localhost:%d/json", port)); !strings.Contains(got, "refused by the fetch policy") {
		t.Errorf("localhost by name: %s", got)
	}
	// The daemon's own port stays refused even when allowed.
	daemon := fetchExecutor(ap, func(p *egress.Policy) { p.DeniedPorts = []int{int(port)} })
	if got := try(daemon, srv.URL+"/json"); !strings.Contains(got, "is PiCloud itself") {
		t.Errorf("daemon port: %s", got)
	}
	// Cloud metadata (link-local) is refused.
	if got := try(NewInProcess(Options{}), "http://169.254.169.254/latest/meta-data/"); !strings.Contains(got, "link-local") {
		t.Errorf("metadata address: %s", got)
	}
	// Hosts are read as the URL standard reads them, so the address
	// dialled, and refused, is the one a browser would reach: numeric,
	// hex and octal IPv4 forms and IDNA names that map to an address.
	for _, tt := range []struct{ url, refusal string }{
		{"http://2130706433/", "127.0.0.1 is this machine"},
		{"http://0x7f.1/", "127.0.0.1 is this machine"},
		{"http://0177.0.0.1/", "127.0.0.1 is this machine"},
		{"http://0x7F000001:1/", "127.0.0.1 is this machine"},
		{"http://\uFF11\uFF12\uFF17.0.0.1/", "127.0.0.1 is this machine"},                                          // full-width digits
		{"http://%EF%BC%91%EF%BC%92%EF%BC%97.1/", "127.0.0.1 is this machine"},                                     // the same, percent-encoded
		{"http://\u2460\u2465\u2468.\u2461\u2464\u2463.\u2460\u2465\u2468.\u2461\u2464\u2463/", "is a link-local"}, // circled digits: 169.254.169.254
		{"http://0xA9.0xFE.0xA9.0xFE/latest/", "is a link-local"},
		{"http://[::ffff:7f00:1]/", "is this machine"},
	} {
		res := runWith(t, NewInProcess(Options{}), JavaScript, `export default async () => {
  try { const r = await fetch("`+tt.url+`"); return "reached " + r.status } catch (e) { return e.message }
}`)
		if got := respBody(t, res); !strings.Contains(got, "refused by the fetch policy") || !strings.Contains(got, tt.refusal) {
			t.Errorf("%s: %s, want a refusal saying %q", tt.url, got, tt.refusal)
		}
	}
	// A host allow list is checked on the URL, before any connection.
	hosts := fetchExecutor(ap, func(p *egress.Policy) { p.Hosts = []string{"*.example.com"} })
	if got := try(hosts, srv.URL+"/json"); !strings.Contains(got, "not in the fetch allow list") {
		t.Errorf("host allow list: %s", got)
	}
}

func TestSubrequestLimit(t *testing.T) {
	srv, ap := upstream(t)
	x := fetchExecutor(ap)
	res := runWith(t, x, JavaScript, `export default async (req, env) => {
  for (let i = 0; i < 10; i++) await fetch(env.UP + "/json")
  return "done"
}`, func(inv *Invocation) {
		inv.Env = map[string]string{"UP": srv.URL}
		inv.Limits.MaxSubrequests = 3
	})
	if res.Error == nil || res.Error.Code != CodeSubrequestLimit {
		t.Fatalf("want %s, got %+v", CodeSubrequestLimit, res.Error)
	}
}

// A fetch still in flight when the execution ends does not hold it up.
func TestFetchOutlivedByExecution(t *testing.T) {
	srv, ap := upstream(t)
	x := fetchExecutor(ap, func(p *egress.Policy) { p.Timeout = 5 * time.Second })
	start := time.Now()
	res := runWith(t, x, JavaScript, `export default (req, env) => { fetch(env.UP + "/slow"); return "early" }`,
		func(inv *Invocation) { inv.Env = map[string]string{"UP": srv.URL} })
	if got := respBody(t, res); got != "early" || time.Since(start) > 2*time.Second {
		t.Errorf("%s after %v", got, time.Since(start))
	}
}
