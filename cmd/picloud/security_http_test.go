package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picloud/picloud/tui/client"
)

// echoHeaders is a script that logs and returns the request headers it
// sees, as JSON, in an HTML page.
const echoHeaders = `export default (request) => {
  const h = {}
  for (const [k, v] of request.headers) h[k] = v
  console.log("seen " + JSON.stringify(h))
  return new Response(JSON.stringify(h), { headers: { "Content-Type": "text/html" } })
}`

// setsCookies is a script that tries to set PiCloud's session cookie, under
// several spellings, and HSTS, next to a cookie of its own.
const setsCookies = `export default () => {
  const h = new Headers()
  h.append("Set-Cookie", "picloud_session=planted; Path=/api/v1/admin; HttpOnly")
  h.append("Set-Cookie", "PICLOUD_SESSION=planted2; Path=/")
  h.append("Set-Cookie", "  Picloud_Session =planted3")
  h.append("Set-Cookie", "theme=dark; Path=/")
  h.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
  return new Response("cookies", { headers: h })
}`

// httpFixture is a daemon with two apps, A and B, on their own domains; an
// owner (admin) and a member, eve, who is editor of A only.
type httpFixture struct {
	d, anon, eve *daemon
	appA, appB   string
	// echoA and echoB are echoHeaders in A and B, echoDefault in the
	// default app; each is bound to GET /echo in its app.
	echoA, echoB, echoDefault string
}

const (
	hostA = "a.example.test"
	hostB = "b.example.test"
)

func newHTTPFixture(t *testing.T) *httpFixture {
	t.Helper()
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	f := &httpFixture{d: d, anon: &daemon{t: t, url: d.url}}
	app := func(name, host string) string {
		created := d.call("POST", "/api/v1/admin/apps", mustJSON(map[string]string{"name": name}))
		d.expect(created, 201)
		id := created.field(t, "id").(string)
		d.expect(d.call("POST", "/api/v1/admin/apps/"+id+"/domains", mustJSON(map[string]string{"pattern": host})), 201)
		return id
	}
	f.appA, f.appB = app("app-a", hostA), app("app-b", hostB)
	f.echoA = f.deploy(f.appA, "echo", echoHeaders, "/echo")
	f.echoB = f.deploy(f.appB, "echo", echoHeaders, "/echo")
	f.echoDefault = f.deploy("", "echo", echoHeaders, "/echo")
	f.deploy(f.appA, "cookies", setsCookies, "/cookies")
	f.deploy("", "cookies", setsCookies, "/cookies")

	user := d.call("POST", "/api/v1/admin/users", `{"username":"eve","password":"eve's long password","role":"member"}`)
	d.expect(user, 201)
	d.expect(d.call("POST", "/api/v1/admin/users/"+user.field(t, "id").(string)+"/roles",
		mustJSON(map[string]string{"app_id": f.appA, "role": "editor"})), 204)
	login := f.anon.call("POST", "/api/v1/admin/auth/login", `{"username":"eve","password":"eve's long password"}`)
	f.anon.expect(login, 200)
	f.eve = &daemon{t: t, url: d.url, token: login.field(t, "token").(string)}
	return f
}

// deploy creates a script in an app ("" for the default app) and binds it
// to GET path; it returns the script's id.
func (f *httpFixture) deploy(appID, name, src, path string) string {
	f.d.t.Helper()
	return f.d.deploy(appID, name, src, "GET", path)
}

// seen decodes the headers an echoHeaders script answered with.
func seen(t *testing.T, r reply) map[string]string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("the script did not answer: %d %s", r.status, r.body)
	}
	var h map[string]string
	if err := json.Unmarshal([]byte(r.body), &h); err != nil {
		t.Fatalf("not the headers a script saw: %v: %s", err, r.body)
	}
	return h
}

// within returns d's client for the (sub)test t, so that its failures end t.
func within(t *testing.T, d *daemon) *daemon {
	c := *d
	c.t = t
	return &c
}

// TestAdminCredentialsAndHostBoundary drives the real daemon through the
// ways an admin credential could reach a user script, and through the
// execute endpoint's Host→app boundary.
func TestAdminCredentialsAndHostBoundary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	f := newHTTPFixture(t)

	t.Run("session cookie is scoped to the admin API", func(t *testing.T) {
		anon := within(t, f.anon)
		login := anon.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"s3cret-passw0rd"}`)
		anon.expect(login, 200)
		var session *http.Cookie
		for _, c := range (&http.Response{Header: login.header}).Cookies() {
			if c.Name == "picloud_session" && c.MaxAge >= 0 {
				session = c
			}
		}
		if session == nil || session.Path != "/api/v1/admin" || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
			t.Fatalf("session cookie %+v, want Path=/api/v1/admin, HttpOnly, SameSite=Strict; Set-Cookie %q", session, login.header.Values("Set-Cookie"))
		}
		// The cookie still authenticates the admin API.
		anon.expect(anon.call("GET", "/api/v1/admin/auth/me", "", "Cookie", "picloud_session="+session.Value), 200, `"username":"admin"`)
	})

	t.Run("session cookie is cut from what scripts see", func(t *testing.T) {
		d, anon := within(t, f.d), within(t, f.anon)
		// A browser holding a cookie from before (Path=/) still sends it
		// to script routes on the admin host names.
		cookie := "theme=dark; picloud_session=" + d.token + "; lang=en"
		for _, host := range []string{"127.0.0.1", hostA} {
			h := seen(t, anon.call("GET", "/echo", "", "Host", host, "Cookie", cookie))
			if h["cookie"] != "theme=dark; lang=en" {
				t.Errorf("on %s the script saw the cookies %q, want only theme and lang", host, h["cookie"])
			}
		}
		h := seen(t, anon.call("GET", "/echo", "", "Host", hostA, "Cookie", "PICLOUD_SESSION="+d.token))
		if v, ok := h["cookie"]; ok {
			t.Errorf("the script saw a cookie header %q made only of the session", v)
		}
	})

	t.Run("PiCloud tokens in Authorization are cut, others kept", func(t *testing.T) {
		d, anon := within(t, f.d), within(t, f.anon)
		token := d.call("POST", "/api/v1/admin/tokens", mustJSON(map[string]any{"name": "ci", "apps": []string{f.appA}, "capabilities": []string{"app.read"}}))
		d.expect(token, 201)
		apiToken := token.field(t, "token").(string)
		for _, auth := range []string{"Bearer " + d.token, "bearer " + d.token, "Bearer  " + apiToken} {
			if h := seen(t, anon.call("GET", "/echo", "", "Host", hostA, "Authorization", auth)); h["authorization"] != "" {
				t.Errorf("the script saw Authorization %q", h["authorization"])
			}
		}
		if h := seen(t, anon.call("GET", "/echo", "", "Host", hostA, "Authorization", "Bearer the-app's-own-token")); h["authorization"] != "Bearer the-app's-own-token" {
			t.Errorf("an app's own Authorization reached its script as %q", h["authorization"])
		}
	})

	t.Run("no admin credential in the execution log", func(t *testing.T) {
		d, anon := within(t, f.d), within(t, f.anon)
		anon.expect(anon.call("GET", "/echo", "", "Host", hostA, "Cookie", "picloud_session="+d.token, "Authorization", "Bearer "+d.token, "X-Marker", "logged"), 200)
		logs := d.await("the execution logged", "GET", "/api/v1/admin/logs?app_id="+f.appA+"&limit=100", "", has("logged"))
		d.expect(logs, 200, "x-marker")
		if strings.Contains(logs.body, d.token) {
			t.Errorf("the owner's session token is in the execution log: %s", logs.body)
		}
	})

	t.Run("scripts cannot set the session cookie or HSTS on admin host names", func(t *testing.T) {
		anon := within(t, f.anon)
		for _, host := range []string{"127.0.0.1", "localhost", hostA} {
			r := anon.call("GET", "/cookies", "", "Host", host)
			anon.expect(r, 200, "cookies")
			cookies := r.header.Values("Set-Cookie")
			for _, c := range cookies {
				if strings.Contains(strings.ToLower(c), "picloud_session") {
					t.Errorf("on %s a script set %q", host, c)
				}
			}
			if len(cookies) != 1 || !strings.HasPrefix(cookies[0], "theme=dark") {
				t.Errorf("on %s the script's own cookie: %q", host, cookies)
			}
			hsts := r.header.Get("Strict-Transport-Security")
			if admin := host != hostA; admin && hsts != "" {
				t.Errorf("on the admin host %s a script set HSTS %q", host, hsts)
			} else if !admin && hsts == "" {
				t.Errorf("on its own domain %s the app lost its HSTS header", host)
			}
		}
	})

	t.Run("execute by id answers anonymously only on the script's app's hosts", func(t *testing.T) {
		d, anon := within(t, f.d), within(t, f.anon)
		// Another app's domain: nothing runs, nothing is said of the script.
		other := anon.call("GET", "/api/v1/execute/"+f.echoA, "", "Host", hostB, "Cookie", "b_session=secret-of-b")
		anon.expect(other, 404)
		if strings.Contains(other.body, "secret-of-b") {
			t.Errorf("A's script ran on B's domain: %s", other.body)
		}
		// Its own domain: it runs, like a route.
		if h := seen(t, anon.call("GET", "/api/v1/execute/"+f.echoA, "", "Host", hostA, "Cookie", "a_session=1")); h["cookie"] != "a_session=1" {
			t.Errorf("A's script on A's domain saw cookies %q", h["cookie"])
		}
		// An unclaimed host that the default app serves (the fallback).
		seen(t, anon.call("GET", "/api/v1/execute/"+f.echoDefault, "", "Host", "pi.example.net"))
		// The admin host names need a credential, even for the default
		// app, and the session cookie is not one here.
		for _, id := range []string{f.echoA, f.echoDefault} {
			anon.expect(anon.call("GET", "/api/v1/execute/"+id, ""), 401)
			anon.expect(anon.call("GET", "/api/v1/execute/"+id, "", "Cookie", "picloud_session="+d.token), 401)
			anon.expect(anon.call("GET", "/api/v1/execute/"+id+"/sub/path", "", "Host", "localhost"), 401)
		}
	})

	t.Run("execute by id with a credential runs what its user may run", func(t *testing.T) {
		d, eve := within(t, f.d), within(t, f.eve)
		// eve, editor of A: A's script on the admin host, without her
		// credential reaching it, in a sandbox.
		r := eve.call("GET", "/api/v1/execute/"+f.echoA, "", "Cookie", "theme=dark")
		h := seen(t, r)
		if h["authorization"] != "" || h["cookie"] != "" {
			t.Errorf("eve's script saw Authorization %q, Cookie %q", h["authorization"], h["cookie"])
		}
		if !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("A's page on an admin host name without a sandbox: %q", r.header.Values("Content-Security-Policy"))
		}
		// Not B's, nor the default app's: she has no role there.
		eve.expect(eve.call("GET", "/api/v1/execute/"+f.echoB, ""), 404)
		eve.expect(eve.call("GET", "/api/v1/execute/"+f.echoDefault, ""), 404)
		eve.expect(eve.call("GET", "/api/v1/execute/"+f.echoB, "", "Host", hostA), 404)
		// A bad token is refused, not taken for anonymous.
		bad := &daemon{t: t, url: d.url, token: "pcs_" + strings.Repeat("A", 43)}
		bad.expect(bad.call("GET", "/api/v1/execute/"+f.echoA, ""), 401)
		// The owner may run A's script on B's domain, as a test: sandboxed,
		// and without B's cookies.
		r = d.call("GET", "/api/v1/execute/"+f.echoA, "", "Host", hostB, "Cookie", "b_session=secret-of-b")
		h = seen(t, r)
		if h["cookie"] != "" || h["authorization"] != "" {
			t.Errorf("A's script on B's domain saw Cookie %q, Authorization %q", h["cookie"], h["authorization"])
		}
		if !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("A's page on B's domain without a sandbox: %q", r.header.Values("Content-Security-Policy"))
		}
	})

	t.Run("the terminal's try it runs scripts by id", func(t *testing.T) {
		d, eve := within(t, f.d), within(t, f.eve)
		ctx := context.Background()
		// Over the admin socket, as the board's local owner.
		sock := client.New("http://localhost", client.UnixSocket(filepath.Join(d.dataDir, "admin.sock")), "")
		res, err := sock.Send(ctx, client.Request{Method: "GET", Path: "/api/v1/execute/" + f.echoA})
		if err != nil || res.Status != 200 {
			t.Errorf("try it over the socket: %v %d %s", err, res.Status, res.Body)
		}
		// Over the network with eve's session, on the admin host name and
		// on A's domain; her token never reaches the script.
		net := client.New(d.url, nil, eve.token)
		for _, host := range []string{"", hostA} {
			res, err := net.Send(ctx, client.Request{Method: "GET", Path: "/api/v1/execute/" + f.echoA, Host: host})
			if err != nil || res.Status != 200 || strings.Contains(res.Body, eve.token) {
				t.Errorf("try it with a token on %q: %v %d %s", host, err, res.Status, res.Body)
			}
		}
	})

	t.Run("a refused domain claim names nothing of another app", func(t *testing.T) {
		d, eve := within(t, f.d), within(t, f.eve)
		claimB := d.call("POST", "/api/v1/admin/apps/"+f.appB+"/domains", `{"pattern":"{tenant}.shop.example.test"}`)
		d.expect(claimB, 201)
		claimID := claimB.field(t, "id").(string)
		refused := eve.call("POST", "/api/v1/admin/apps/"+f.appA+"/domains", `{"pattern":"{who}.shop.example.test"}`)
		eve.expect(refused, 409, "taken")
		for _, secret := range []string{f.appB, claimID, "{tenant}"} {
			if strings.Contains(refused.body, secret) {
				t.Errorf("the refusal tells eve %q of app B: %s", secret, refused.body)
			}
		}
		// The owner, who may read B, is told which claim is in the way.
		d.expect(d.call("POST", "/api/v1/admin/apps/"+f.appA+"/domains", `{"pattern":"{who}.shop.example.test"}`), 409, claimID, f.appB)
	})
}

// TestSetupTokenNotInLog starts the daemon without users: the setup token
// is in its file, and the log says where, never what it is.
func TestSetupTokenNotInLog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.start()
	file := filepath.Join(d.dataDir, "setup-token")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("setup token file: %v", err)
	}
	token := strings.TrimSpace(string(raw))
	d.stop() // the log is complete, and no longer written to
	out := d.output.String()
	if !strings.HasPrefix(token, "pci_") || strings.Contains(out, token) || strings.Contains(out, token[:12]) {
		t.Fatalf("the setup token %q is in the daemon's log:\n%s", token, out)
	}
	if !strings.Contains(out, file) {
		t.Errorf("the log does not say where the setup token is (%s):\n%s", file, out)
	}
}
