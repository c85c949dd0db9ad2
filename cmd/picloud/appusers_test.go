package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// authScript is an app's sign-up, log-in and members' page on the users
// module, at /auth/<op>.
const authScript = `import { users } from "picloud"
const json = (v, status = 200) => Response.json(v, { status })
export default async (req, env, ctx) => {
  const op = ctx.params.op
  const body = req.method === "POST" && req.headers.get("content-type") === "application/json" ? await req.json() : {}
  try {
    switch (op) {
      case "signup": {
        const user = await users.create({ email: body.email, password: body.password, data: { name: body.name } })
        const { token } = await users.issueVerificationToken(user.id)
        return json({ user, verifyToken: token }, 201)
      }
      case "confirm": {
        const user = await users.confirmEmail(body.token)
        return user ? json({ user }) : json({ error: "bad token" }, 400)
      }
      case "login": {
        const user = await users.verify(body.email, body.password)
        if (!user) return json({ error: "wrong email or password" }, 401)
        const { token, expiresAt } = await users.issueSession(user.id, { ttl: 3600 })
        return json({ token, expiresAt }, 200)
      }
      case "logout":
        return json({ revoked: await users.revokeSession(users.tokenFromRequest(req, { cookie: "sid" })) })
      case "forgot": {
        const user = await users.findByEmail(body.email)
        return json({ token: user ? (await users.issueResetToken(user.id)).token : null })
      }
      case "reset": {
        const user = await users.resetPassword(body.token, body.password)
        return user ? json({ user }) : json({ error: "bad token" }, 400)
      }
      case "me": {
        const user = await users.fromRequest(req, { cookie: "sid" })
        return user ? json({ user }) : json({ error: "log in" }, 401)
      }
      case "peek":
        return json({ byEmail: await users.findByEmail(body.email), byId: await users.get(body.id) })
      case "revokeAll":
        return json({ revoked: await users.revokeSessions(body.id) })
    }
    return json({ error: "no such op" }, 404)
  } catch (e) {
    const status = e.code === "users.throttled" ? 429 : 400
    return json({ error: e.message, code: e.code ?? null }, status)
  }
}`

// authClient calls the auth script of one app, with no admin session.
type authClient struct {
	d    *daemon
	host []string
}

func (c authClient) post(op string, body any, header ...string) reply {
	c.d.t.Helper()
	return c.d.call("POST", "/auth/"+op, mustJSON(body), append(append([]string{}, c.host...), header...)...)
}

func (c authClient) me(header ...string) reply {
	c.d.t.Helper()
	return c.d.call("GET", "/auth/me", "", append(append([]string{}, c.host...), header...)...)
}

// signup creates a user through c and returns its id and verification
// token.
func (c authClient) signup(email, password string) (id, verifyToken string) {
	t := c.d.t
	t.Helper()
	r := c.post("signup", map[string]string{"email": email, "password": password, "name": "Ada"})
	c.d.expect(r, 201, `"verified":false`, `"name":"Ada"`)
	if strings.Contains(r.body, "argon2") || strings.Contains(r.body, password) {
		t.Fatalf("the sign-up's answer shows the password or its hash: %s", r.body)
	}
	user := r.field(t, "user").(map[string]any)
	return user["id"].(string), r.field(t, "verifyToken").(string)
}

// login logs a user in through c and returns the session token.
func (c authClient) login(email, password string) string {
	c.d.t.Helper()
	r := c.post("login", map[string]string{"email": email, "password": password})
	c.d.expect(r, 200)
	return r.field(c.d.t, "token").(string)
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func TestAppUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_MAX_CONCURRENT_EXECUTIONS=64")
	d.startAsOwner()
	d.deploy("", "auth", authScript, "*", "/auth/:op")
	other := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
	d.expect(other, 201)
	otherID := other.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/apps/"+otherID+"/domains", `{"pattern":"other.test"}`), 201)
	d.deploy(otherID, "auth-other", authScript, "*", "/auth/:op")
	// clients are a subtest's callers of the two apps, with no admin
	// session.
	clients := func(t *testing.T) (*daemon, authClient, authClient) {
		anon := &daemon{t: t, url: d.url}
		return anon, authClient{d: anon}, authClient{d: anon, host: []string{"Host", "other.test"}}
	}

	t.Run("sign-up, log-in, guarded page, log-out", func(t *testing.T) {
		anon, a, _ := clients(t)
		_, verify := a.signup("Ada@Example.org ", "correct horse")
		anon.expect(a.post("signup", map[string]string{"email": "ada@example.org", "password": "another one"}), 400, "users.email_taken")
		anon.expect(a.post("signup", map[string]string{"email": "bob@example.org", "password": "short"}), 400, "at least 8")
		anon.expect(a.post("signup", map[string]string{"email": "not an address", "password": "long enough"}), 400, "not an email address")

		anon.expect(a.me(), 401)
		anon.expect(a.post("login", map[string]string{"email": "ada@example.org", "password": "wrong horse"}), 401)
		token := a.login("ADA@example.org", "correct horse")
		if !strings.HasPrefix(token, "pcu_") {
			t.Fatalf("session token %q", token)
		}
		anon.expect(a.me(bearer(token)...), 200, `"email":"ada@example.org"`, `"verified":false`)
		anon.expect(a.me("Cookie", "theme=dark; sid="+token), 200, `"email":"ada@example.org"`)

		// The verification token works once.
		anon.expect(a.post("confirm", map[string]string{"token": verify}), 200, `"verified":true`)
		anon.expect(a.post("confirm", map[string]string{"token": verify}), 400, "bad token")
		anon.expect(a.me(bearer(token)...), 200, `"verified":true`)

		anon.expect(a.post("logout", nil, bearer(token)...), 200, `"revoked":true`)
		anon.expect(a.me(bearer(token)...), 401)
		anon.expect(a.me("Cookie", "sid="+token), 401)
	})

	t.Run("password reset", func(t *testing.T) {
		anon, a, _ := clients(t)
		a.signup("carol@example.org", "first password")
		s1, s2 := a.login("carol@example.org", "first password"), a.login("carol@example.org", "first password")
		r := a.post("forgot", map[string]string{"email": "carol@example.org"})
		anon.expect(r, 200)
		reset := r.field(t, "token").(string)
		anon.expect(a.post("reset", map[string]string{"token": reset, "password": "short"}), 400, "at least 8")
		anon.expect(a.post("reset", map[string]string{"token": reset, "password": "second password"}), 200, `"carol@example.org"`)
		anon.expect(a.post("reset", map[string]string{"token": reset, "password": "third password"}), 400, "bad token")
		// The reset ends every session and the old password.
		anon.expect(a.me(bearer(s1)...), 401)
		anon.expect(a.me(bearer(s2)...), 401)
		anon.expect(a.post("login", map[string]string{"email": "carol@example.org", "password": "first password"}), 401)
		a.login("carol@example.org", "second password")
	})

	t.Run("apps keep their users apart", func(t *testing.T) {
		anon, a, b := clients(t)
		id, verify := a.signup("dave@example.org", "dave's password")
		token := a.login("dave@example.org", "dave's password")
		anon.expect(a.me(bearer(token)...), 200)
		anon.expect(b.me(bearer(token)...), 401)
		anon.expect(b.post("logout", nil, bearer(token)...), 200, `"revoked":false`)
		anon.expect(a.me(bearer(token)...), 200)
		anon.expect(b.post("login", map[string]string{"email": "dave@example.org", "password": "dave's password"}), 401)
		anon.expect(b.post("peek", map[string]string{"email": "dave@example.org", "id": id}), 200, `"byEmail":null`, `"byId":null`)
		anon.expect(b.post("confirm", map[string]string{"token": verify}), 400, "bad token")
		anon.expect(b.post("revokeAll", map[string]string{"id": id}), 200, `"revoked":0`)
		anon.expect(a.me(bearer(token)...), 200)
		// The same email is a different user in the other app.
		b.signup("dave@example.org", "b's own password")
		anon.expect(a.post("confirm", map[string]string{"token": verify}), 200, `"verified":true`)
		anon.expect(a.post("revokeAll", map[string]string{"id": id}), 200, `"revoked":1`)
		anon.expect(a.me(bearer(token)...), 401)
	})

	t.Run("parallel wrong passwords are throttled", func(t *testing.T) {
		anon, a, _ := clients(t)
		a.signup("erin@example.org", "erin's password")
		const n = 20
		var mu sync.Mutex
		counts := map[int]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				r, err := anon.send(http.DefaultClient, "POST", "/auth/login", mustJSON(map[string]string{"email": "erin@example.org", "password": "a wrong guess"}))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts[r.status]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		if counts[401] < 1 || counts[401] > 5 || counts[429] != n-counts[401] {
			t.Fatalf("%d parallel wrong passwords: %v; want at most 5 checked (401), the rest refused (429)", n, counts)
		}
		// The account is locked for this address, the right password too.
		anon.expect(a.post("login", map[string]string{"email": "erin@example.org", "password": "erin's password"}), 429, "users.throttled")
		// Another account is not.
		a.signup("frank@example.org", "frank's password")
		a.login("frank@example.org", "frank's password")
	})
}

// TestAppUsersAdmin drives the admin API of app users: listed and
// searched, disabled (sessions end, log-in refused), enabled, sessions
// revoked, deleted; each change audited.
func TestAppUsersAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	d.deploy("", "auth", authScript, "*", "/auth/:op")
	app := defaultAppID(d)
	anon := &daemon{t: t, url: d.url}
	a := authClient{d: anon}
	id, _ := a.signup("gina@example.org", "gina's password")
	a.signup("hal@example.org", "hal's password")
	base := "/api/v1/admin/apps/" + app + "/users"

	r := d.call("GET", base+"?search=gina", "")
	d.expect(r, 200, `"email":"gina@example.org"`, `"complete":true`)
	if strings.Contains(r.body, "hal@") || strings.Contains(r.body, "argon2") {
		t.Fatalf("search: %s", r.body)
	}
	d.expect(d.call("GET", base+"?limit=1", ""), 200, `"complete":false`)

	token := a.login("gina@example.org", "gina's password")
	d.expect(d.call("GET", "/api/v1/admin/system", ""), 200, `"app_users":{"users":2,"sessions":1}`)
	d.expect(d.call("PATCH", base+"/"+id, `{"disabled":true}`), 200, `"disabled":true`)
	anon.expect(a.me(bearer(token)...), 401)
	anon.expect(a.post("login", map[string]string{"email": "gina@example.org", "password": "gina's password"}), 401)
	d.expect(d.call("PATCH", base+"/"+id, `{"disabled":false}`), 200, `"disabled":false`)
	// Disabling ended the session: enabling does not bring it back.
	anon.expect(a.me(bearer(token)...), 401)
	token = a.login("gina@example.org", "gina's password")
	d.expect(d.call("POST", base+"/"+id+"/revoke-sessions", ""), 200, `"revoked":1`)
	anon.expect(a.me(bearer(token)...), 401)
	d.expect(d.call("DELETE", base+"/"+id, ""), 204)
	d.expect(d.call("DELETE", base+"/"+id, ""), 404)
	anon.expect(a.post("login", map[string]string{"email": "gina@example.org", "password": "gina's password"}), 401)
	for _, action := range []string{"app_user.disable", "app_user.enable", "app_user.revoke_sessions", "app_user.delete"} {
		d.expect(d.call("GET", "/api/v1/admin/audit?action="+action, ""), 200, action, "gina@example.org")
	}
}

// TestTUIAppUsers drives the app users screen of picloud tui: the users a
// script made are listed, searched, disabled (their log-in then fails),
// logged out and deleted.
func TestTUIAppUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	d.deploy("", "auth", authScript, "*", "/auth/:op")
	anon := &daemon{t: t, url: d.url}
	a := authClient{d: anon}
	a.signup("ivy@example.org", "ivy's password")
	a.signup("jon@example.org", "jon's password")

	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("admin (owner)")
	term.waitFor("default")
	term.send("U")
	term.waitFor("users of default")
	term.waitFor("ivy@example.org")
	term.waitFor("jon@example.org")
	term.send("S")
	term.waitFor("emails containing")
	term.send("jon", enter)
	term.waitFor(`users of default matching "jon"`)
	term.send("x")
	term.waitFor("no        yes") // verified no, disabled yes
	anon.expect(a.post("login", map[string]string{"email": "jon@example.org", "password": "jon's password"}), 401)
	term.send("d")
	term.waitFor("delete the user jon@example.org of default?")
	term.send("y")
	term.waitFor("no users")
	term.send(ctrlC)
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("picloud tui did not quit on ctrl+c")
	}
	d.expect(d.call("GET", "/api/v1/admin/audit?limit=5", ""), 200, "app_user.delete", "app_user.disable")
	a.login("ivy@example.org", "ivy's password")
}

// sessionsScript signs a user up with the session options it is given
// (/s/signup), reads the user back (/s/me) and issues tokens with bad
// options (/s/bad).
const sessionsScript = `import { users } from "picloud"
export default async (req, env, ctx) => {
  const body = req.method === "POST" ? await req.json() : {}
  try {
    switch (ctx.params.op) {
      case "signup": {
        const user = await users.create({ email: body.email, password: "a long password", data: { about: body.about ?? "" } })
        return Response.json(await users.issueSession(user.id, body.options), { status: 201 })
      }
      case "me": {
        const user = await users.fromRequest(req)
        return user ? Response.json({ user }) : Response.json({ error: "log in" }, { status: 401 })
      }
      case "bad": {
        const user = await users.findByEmail(body.email)
        return Response.json(body.verify ? await users.issueVerificationToken(user.id, body.options) : await users.issueSession(user.id, body.options))
      }
    }
    return Response.json({ error: "no such op" }, { status: 404 })
  } catch (e) {
    return Response.json({ error: e.message, code: e.code ?? null }, { status: 400 })
  }
}`

// TestAppUserSlidingSessions issues a sliding session from a script and
// reads it back: the lookup renews it when less than half of its ttl is
// left (the test moves its expiry in the database), not a fixed one. Bad
// options are refused with what is wrong; and app users count in the
// app's storage quota, their deletes freeing it.
func TestAppUserSlidingSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	d.deploy("", "sessions", sessionsScript, "*", "/s/:op")
	anon := &daemon{t: t, url: d.url}
	db := txDB(t, d)
	ctx := context.Background()

	r := anon.call("POST", "/s/signup", mustJSON(map[string]any{"email": "kim@example.org", "options": map[string]any{"ttl": 3600, "sliding": true, "maxTtl": 7200}}))
	anon.expect(r, 201, `"token":"pcu_`)
	sliding := r.field(t, "token").(string)
	if exp, limit := r.field(t, "expiresAt").(float64), r.field(t, "maxExpiresAt").(float64); limit-exp != 3600e3 {
		t.Errorf("a sliding session of an hour up to two: expires at %v, limit %v", exp, limit)
	}
	r = anon.call("POST", "/s/signup", mustJSON(map[string]any{"email": "lee@example.org", "options": map[string]any{"ttl": 3600}}))
	anon.expect(r, 201)
	fixed := r.field(t, "token").(string)
	if strings.Contains(r.body, "maxExpiresAt") {
		t.Errorf("a fixed session has a limit: %s", r.body)
	}
	anon.expect(anon.call("GET", "/s/me", "", bearer(sliding)...), 200, `"email":"kim@example.org"`)
	anon.expect(anon.call("GET", "/s/me", "", bearer(fixed)...), 200, `"email":"lee@example.org"`)

	// Ten minutes left of each: the sliding one is renewed to an hour from
	// the lookup, the fixed one stays.
	if _, err := db.Exec(ctx, `UPDATE app_user_tokens SET expires_at = date_trunc('second', now()) + interval '10 minutes' WHERE kind = 'session'`); err != nil {
		t.Fatal(err)
	}
	var soon time.Time
	if err := db.QueryRow(ctx, `SELECT max(expires_at) FROM app_user_tokens`).Scan(&soon); err != nil {
		t.Fatal(err)
	}
	anon.expect(anon.call("GET", "/s/me", "", bearer(sliding)...), 200, `"email":"kim@example.org"`)
	anon.expect(anon.call("GET", "/s/me", "", bearer(fixed)...), 200, `"email":"lee@example.org"`)
	var renewed, limit, still time.Time
	err := db.QueryRow(ctx, `SELECT (SELECT expires_at FROM app_user_tokens WHERE sliding_ttl IS NOT NULL),
  (SELECT max_expires_at FROM app_user_tokens WHERE sliding_ttl IS NOT NULL),
  (SELECT expires_at FROM app_user_tokens WHERE sliding_ttl IS NULL)`).Scan(&renewed, &limit, &still)
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.After(soon.Add(30*time.Minute)) || renewed.After(limit) {
		t.Errorf("the sliding session expires at %v after the lookup (was %v, limit %v): not renewed to an hour", renewed, soon, limit)
	}
	if !still.Equal(soon) {
		t.Errorf("the fixed session moved from %v to %v", soon, still)
	}

	// Bad options issue nothing and say what is wrong.
	for _, c := range []struct {
		options map[string]any
		verify  bool
		says    string
	}{
		{map[string]any{"ttl": -5, "sliding": true}, false, "ttl must be a number of seconds, at least 1"},
		{map[string]any{"ttl": 7200, "sliding": true, "maxTtl": 3600}, false, "maxTtl (3600 seconds) is shorter than ttl (7200 seconds)"},
		{map[string]any{"ttl": 3600, "maxTtl": 7200}, false, "add sliding: true"},
		{map[string]any{"sliding": "yes"}, false, "sliding must be true or false"},
		{map[string]any{"sliding": true, "maxTtl": 400 * 86400}, false, "maxTtl must be from 1 to 31536000 seconds"},
		{map[string]any{"ttl": 40 * 86400, "sliding": true}, false, "longer than the default maxTtl"},
		{map[string]any{"sliding": true}, true, "only sessions slide"},
	} {
		anon.expect(anon.call("POST", "/s/bad", mustJSON(map[string]any{"email": "kim@example.org", "options": c.options, "verify": c.verify})), 400, c.says)
	}
	var tokens int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM app_user_tokens`).Scan(&tokens); err != nil || tokens != 2 {
		t.Errorf("%d tokens after the refusals (%v), want the 2 sessions", tokens, err)
	}

	// The users count in the app's usage; past the quota, a sign-up is
	// refused with limit.storage and makes no user.
	app := defaultAppID(d)
	u := usageOf(t, d.call("GET", "/api/v1/admin/apps/"+app+"/usage", ""))
	if len(u.Stores) != 3 || u.Stores[2].Kind != "users" || u.Stores[2].Items != 2 || u.UsedBytes != u.Stores[2].Bytes || u.UsedBytes < 2*128 {
		t.Fatalf("the usage of two users: %+v", u)
	}
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+app+"/limits", fmt.Sprintf(`{"storage_bytes": %d}`, u.UsedBytes+300)), 200)
	anon.expect(anon.call("POST", "/s/signup", mustJSON(map[string]any{"email": "max@example.org", "about": strings.Repeat("x", 400)})), 400, `"code":"limit.storage"`, "storage quota")
	if u := usageOf(t, d.call("GET", "/api/v1/admin/apps/"+app+"/usage", "")); u.Stores[2].Items != 2 {
		t.Errorf("the refused sign-up made a user: %+v", u)
	}
	// An administrator deletes a user: its room is free at once.
	r = d.call("GET", "/api/v1/admin/apps/"+app+"/users?search=lee@", "")
	d.expect(r, 200, `"email":"lee@example.org"`)
	lee := r.field(t, "users").([]any)[0].(map[string]any)["id"].(string)
	d.expect(d.call("DELETE", "/api/v1/admin/apps/"+app+"/users/"+lee, ""), 204)
	anon.expect(anon.call("POST", "/s/signup", mustJSON(map[string]any{"email": "max@example.org", "about": strings.Repeat("x", 100)})), 201)
}
