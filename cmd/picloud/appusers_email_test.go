package main

import (
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docExample returns the scripts of the members-only area of
// docs/app-users.md, its code blocks in order: auth, then guard.
func docExample(t *testing.T) (auth, guard string) {
	t.Helper()
	b, err := os.ReadFile("../../docs/app-users.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## A members-only area\n")
	if !ok {
		t.Fatal("docs/app-users.md has no section \"A members-only area\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)\n```js\n(.*?)\n```\n").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) != 2 || !strings.Contains(blocks[0], "users.create") || !strings.Contains(blocks[1], "intercept(") {
		t.Fatalf("the members-only area has %d js blocks, want auth then guard:\n%s", len(blocks), strings.Join(blocks, "\n---\n"))
	}
	return blocks[0], blocks[1]
}

// mailText is the decoded text body of a single-part message.
func mailText(t *testing.T, data string) string {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, data)
	}
	var body io.Reader = m.Body
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("the message's body: %v\n%s", err, data)
	}
	return string(b)
}

// TestAppUsersByEmail runs the members-only area of docs/app-users.md,
// its scripts taken from the doc, on a daemon whose relay is an SMTP
// server the test runs: sign-up sends a verification link by email, log-in
// is refused until it is followed (once), the guarded route answers the
// logged-in member and not after log-out; a reset link sent by email sets
// a new password and the old one no longer logs in.
func TestAppUsersByEmail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	auth, guard := docExample(t)
	rl, addr := startRelay(t)
	d := newDaemon(t, buildBinary(t), relaySettings(t, addr, "club@club.example")...)
	d.startAsOwner()
	app := defaultAppID(d)
	for name, value := range map[string]string{"SITE": "https://club.example", "MAIL_FROM": "Club <club@club.example>"} {
		d.expect(d.call("PUT", "/api/v1/admin/apps/"+app+"/variables/"+name, mustJSON(map[string]string{"value": value})), 201)
	}
	d.deploy("", "auth", auth, "*", "/auth/:op")
	r := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "guard", "source": guard}))
	d.expect(r, 201)
	d.expect(d.call("POST", "/api/v1/admin/apps/"+app+"/interceptors",
		mustJSON(map[string]any{"script_id": r.field(t, "id"), "path": "/members/*rest"})), 201)
	d.deploy("", "board", `export default (req, env, ctx) => Response.json({ member: ctx.data.user })`, "GET", "/members/*rest")

	anon := &daemon{t: t, url: d.url}
	post := func(path string, body any) reply {
		t.Helper()
		return anon.call("POST", path, mustJSON(body))
	}
	login := func(email, password string) reply {
		t.Helper()
		return post("/auth/login", map[string]string{"email": email, "password": password})
	}
	// session logs in and returns the cookie the answer set.
	session := func(email, password string) string {
		t.Helper()
		r := login(email, password)
		anon.expect(r, 200, "welcome")
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == "sid" && strings.HasPrefix(c.Value, "pcu_") && c.HttpOnly && c.Secure {
				return "sid=" + c.Value
			}
		}
		t.Fatalf("the log-in set no session cookie: %v", r.header.Values("Set-Cookie"))
		return ""
	}
	board := func(cookie string) reply {
		t.Helper()
		return anon.call("GET", "/members/board", "", "Cookie", cookie)
	}
	// link waits for the message to rcpt with subject and returns the
	// path of the link it holds, on the app's SITE, whose token starts
	// with prefix.
	link := func(rcpt, subject, prefix string) string {
		t.Helper()
		m := rl.await(t, subject+" to "+rcpt, func(m received) bool {
			return slices.Contains(m.rcpt, rcpt) && strings.Contains(m.data, "Subject: "+subject)
		})
		if m.user != "mailer" || m.from != "club@club.example" || !strings.Contains(m.data, `From: "Club" <club@club.example>`) {
			t.Errorf("envelope: user %q, from %q:\n%s", m.user, m.from, m.data)
		}
		text := mailText(t, m.data)
		found := regexp.MustCompile(`https://club\.example(/\S*\?token=` + prefix + `[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)`).FindStringSubmatch(text)
		if found == nil {
			t.Fatalf("the message %q has no link with a %s token:\n%s", subject, prefix, text)
		}
		return found[1]
	}

	anon.expect(post("/auth/signup", map[string]string{"email": "ada@example.org", "password": "correct horse"}), 201, `"id"`)
	confirm := link("ada@example.org", "Confirm your email", "pcv_")
	if !strings.HasPrefix(confirm, "/auth/confirm?token=") {
		t.Fatalf("the verification link is %s", confirm)
	}
	anon.expect(login("ada@example.org", "correct horse"), 403, "confirm your email first")
	anon.expect(anon.call("GET", confirm, ""), 200, "verified")
	anon.expect(anon.call("GET", confirm, ""), 400, "bad or used link")

	anon.expect(board(""), 401, "log in first")
	anon.expect(login("ada@example.org", "wrong horse"), 401)
	sid := session("ada@example.org", "correct horse")
	anon.expect(board(sid), 200, `"email":"ada@example.org"`)
	r = anon.call("POST", "/auth/logout", "", "Cookie", sid)
	anon.expect(r, 200, `"ended":true`)
	anon.expect(board(sid), 401, "log in first")

	// A reset by email: the old password and the sessions end.
	old := session("ada@example.org", "correct horse")
	anon.expect(post("/auth/forgot", map[string]string{"email": "ada@example.org"}), 202)
	reset := link("ada@example.org", "Reset your password", "pcr_")
	_, token, _ := strings.Cut(reset, "?token=")
	anon.expect(post("/auth/reset?token="+token, map[string]string{"password": "second horse"}), 200, "password changed")
	anon.expect(post("/auth/reset?token="+token, map[string]string{"password": "third horse"}), 400, "bad or used link")
	anon.expect(board(old), 401)
	anon.expect(login("ada@example.org", "correct horse"), 401)
	anon.expect(board(session("ada@example.org", "second horse")), 200, `"email":"ada@example.org"`)
	// An unknown email gets the same answer.
	anon.expect(post("/auth/forgot", map[string]string{"email": "nobody@example.org"}), 202, "check your email")
}
