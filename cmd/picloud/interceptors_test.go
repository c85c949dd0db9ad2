package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The scripts of the interceptor test: the route's script counts its runs
// and shows what reached it; two guards run in front of it.
const (
	membersScript = `import { kv } from "picloud"
export default async (req, env, ctx) => {
  await kv.collection("runs").incr("members")
  return Response.json({ data: ctx.data, user: req.headers.get("x-user") })
}`
	runsScript = `import { kv } from "picloud"
export default async () => Response.json({ runs: (await kv.collection("runs").get("members")) ?? 0 })`
	guardOne = `export default { intercept(req, env, ctx) {
  if (req.headers.get("x-block")) return new Response("blocked by one", { status: 401 })
  ctx.data.trail = ["one"]
} }`
	guardTwo = `export default { async intercept(req, env, ctx) {
  if (req.headers.get("x-throw")) throw new Error("guard two broke")
  ctx.data.trail.push("two")
  const h = new Headers(req.headers)
  h.set("x-user", "ada")
  return ctx.next(new Request(req.url, { method: req.method, headers: h }))
} }`
	guardElsewhere = `export default { intercept() { return new Response("not here", { status: 418 }) } }`
)

func TestInterceptors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	app := defaultAppID(d)
	d.deploy("", "members", membersScript, "*", "/members/*rest")
	d.deploy("", "runs", runsScript, "GET", "/runs")
	bind := func(appID, name, src, path string, order int) string {
		t.Helper()
		r := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": name, "source": src, "app_id": appID}))
		d.expect(r, 201)
		script := r.field(t, "id").(string)
		r = d.call("POST", "/api/v1/admin/apps/"+appID+"/interceptors", mustJSON(map[string]any{"script_id": script, "path": path, "order": order}))
		d.expect(r, 201)
		return r.field(t, "id").(string)
	}
	// Made out of order: the order field decides.
	bind(app, "guard-two", guardTwo, "/members/*rest", 2)
	bind(app, "guard-one", guardOne, "/members/*rest", 1)
	bind(app, "guard-elsewhere", guardElsewhere, "/elsewhere/*rest", 0)
	// at is the daemon for subtest t: its failures are t's.
	at := func(t *testing.T) *daemon { return &daemon{t: t, url: d.url, token: d.token} }
	runs := func(d *daemon) float64 {
		d.t.Helper()
		r := d.call("GET", "/runs", "")
		d.expect(r, 200)
		return r.field(d.t, "runs").(float64)
	}

	t.Run("routes/match shows the chain in order", func(t *testing.T) {
		d := at(t)
		r := d.call("GET", "/api/v1/admin/routes/match?path=/members/x", "")
		d.expect(r, 200)
		var m struct {
			ScriptName   string `json:"script_name"`
			Interceptors []struct {
				ScriptName string `json:"script_name"`
				Order      int
			}
		}
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			t.Fatal(err)
		}
		if m.ScriptName != "members" || len(m.Interceptors) != 2 || m.Interceptors[0].ScriptName != "guard-one" || m.Interceptors[1].ScriptName != "guard-two" {
			t.Fatalf("match: %s", r.body)
		}
		d.expect(d.call("GET", "/api/v1/admin/routes/match?path=/runs", ""), 200, `"interceptors":[]`)
	})

	t.Run("pass-through in order with ctx.data and a new request", func(t *testing.T) {
		d := at(t)
		r := d.call("GET", "/members/page", "")
		d.expect(r, 200, `"trail":["one","two"]`, `"user":"ada"`)
		if runs(d) != 1 {
			t.Fatalf("the route's script ran %v times, want 1", runs(d))
		}
	})

	t.Run("short-circuit", func(t *testing.T) {
		d := at(t)
		before := runs(d)
		d.expect(d.call("GET", "/members/page", "", "X-Block", "1"), 401, "blocked by one")
		if runs(d) != before {
			t.Fatal("the route's script ran after an interceptor answered")
		}
	})

	t.Run("a throwing interceptor is a clear 500", func(t *testing.T) {
		d := at(t)
		before := runs(d)
		r := d.call("GET", "/members/page", "", "X-Throw", "1")
		d.expect(r, 500, "guard two broke", `interceptor \"guard-two\"`, "script.exception")
		if runs(d) != before {
			t.Fatal("the route's script ran after an interceptor threw")
		}
	})

	t.Run("an interceptor is a script of its app", func(t *testing.T) {
		d := at(t)
		other := d.call("POST", "/api/v1/admin/apps", `{"name":"elsewhere"}`)
		d.expect(other, 201)
		otherID := other.field(t, "id").(string)
		r := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "foreign", "source": guardOne}))
		d.expect(r, 201)
		foreign := r.field(t, "id").(string)
		d.expect(d.call("POST", "/api/v1/admin/apps/"+otherID+"/interceptors", mustJSON(map[string]any{"script_id": foreign, "path": "/x"})), 400, "not a script of app")
		d.expect(d.call("POST", "/api/v1/admin/apps/"+app+"/interceptors", mustJSON(map[string]any{"script_id": foreign, "path": "/api/x"})), 400)
	})

	t.Run("the terminal's routes screen shows the chain", func(t *testing.T) {
		term := startTerminal(t, d.env, bin, "tui")
		term.waitFor("default")
		term.send(enter)
		term.waitFor("members")
		term.send("/", "members", enter)
		term.send("t")
		term.waitFor("/members/*rest")
		term.send("m")
		term.waitFor("request ([host]")
		term.send(ctrlU, "GET /members/x", enter)
		term.waitFor("reaches members version 1, params rest=x")
		term.waitFor("interceptors first: guard-one, guard-two")
		term.send(ctrlC)
	})

	t.Run("no way around the guards by id", func(t *testing.T) {
		d := at(t)
		r := d.call("POST", "/api/v1/admin/apps", `{"name":"guarded"}`)
		d.expect(r, 201)
		g := r.field(t, "id").(string)
		d.expect(d.call("POST", "/api/v1/admin/apps/"+g+"/domains", `{"pattern":"guarded.test"}`), 201)
		secret := d.deploy(g, "secret", `export default () => "the secret"`, "*", "/secret/*rest")
		anon := &daemon{t: t, url: d.url}
		host := []string{"Host", "guarded.test"}
		// Before any interceptor, anyone on the app's domain runs it by id.
		anon.expect(anon.call("GET", "/api/v1/execute/"+secret, "", host...), 200, "the secret")
		bind(g, "guard-secret", guardOne, "/secret/*rest", 0)
		anon.expect(anon.call("GET", "/secret/x", "", append(host, "X-Block", "1")...), 401, "blocked by one")
		anon.expect(anon.call("GET", "/api/v1/execute/"+secret, "", host...), 403, "interceptors")
		anon.expect(anon.call("GET", "/api/v1/execute/"+secret, "", append(host, "X-Block", "1")...), 403, "interceptors")
		// A user who may read the app still tries it by id.
		d.expect(d.call("GET", "/api/v1/execute/"+secret, "", host...), 200, "the secret")
	})

	t.Run("listed and deleted", func(t *testing.T) {
		d := at(t)
		r := d.call("GET", "/api/v1/admin/apps/"+app+"/interceptors", "")
		d.expect(r, 200)
		var l struct{ Interceptors []struct{ ID, Path string } }
		if err := json.Unmarshal([]byte(r.body), &l); err != nil || len(l.Interceptors) != 3 {
			t.Fatalf("list: %s", r.body)
		}
		for _, i := range l.Interceptors {
			if strings.HasPrefix(i.Path, "/members") {
				d.expect(d.call("DELETE", "/api/v1/admin/interceptors/"+i.ID, ""), 204)
			}
		}
		d.expect(d.call("GET", "/members/page", "", "X-Block", "1"), 200, `"data":{}`, `"user":null`)
		d.expect(d.call("GET", "/api/v1/admin/audit?action=interceptor.delete", ""), 200, "interceptor.delete")
	})
}

// defaultAppID is the id of the default app.
func defaultAppID(d *daemon) string {
	d.t.Helper()
	r := d.call("GET", "/api/v1/admin/apps", "")
	d.expect(r, 200)
	var list struct{ Apps []struct{ ID, Name string } }
	if err := json.Unmarshal([]byte(r.body), &list); err != nil {
		d.t.Fatal(err)
	}
	for _, a := range list.Apps {
		if a.Name == "default" {
			return a.ID
		}
	}
	d.t.Fatalf("no default app: %s", r.body)
	return ""
}
