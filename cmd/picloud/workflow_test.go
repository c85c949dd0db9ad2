package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// versioned is a script that answers its version number and whether it
// saw PiCloud's version header.
func versioned(n int) string {
	return fmt.Sprintf(`export default (request) => Response.json({ v: %d, header: request.headers.get("picloud-version") })`, n)
}

// TestDraftVersions saves a draft next to the active version: the public
// keeps getting the active one, admin credentials try the draft by id, and
// the rollback endpoint promotes it.
func TestDraftVersions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	anon := &daemon{t: t, url: d.url}
	const public = "pi.example.net" // an unclaimed host: the default app's
	id := d.deploy("", "greet", versioned(1), "GET", "/greet")
	exec := "/api/v1/execute/" + id

	// A new script's version 1 cannot be a draft.
	d.expect(d.call("POST", "/api/v1/admin/scripts", `{"name":"drafty","source":"export default () => new Response('x')","activate":false}`),
		400, "always active")

	draft := d.call("PUT", "/api/v1/admin/scripts/"+id, mustJSON(map[string]any{"source": versioned(2), "activate": false}))
	d.expect(draft, 200, `"active_version":1`, `"latest_version":2`)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id+"/versions", ""), 200, `"version":2`, `"version":1`)
	if v := d.call("GET", "/api/v1/admin/scripts/"+id+"/versions/2", ""); v.field(t, "active") != false {
		t.Fatalf("the draft is listed as active: %s", v.body)
	}

	// The public reaches only the active version, header or not.
	anon.expect(anon.call("GET", "/greet", "", "Host", public), 200, `"v":1`)
	anon.expect(anon.call("GET", "/greet", "", "Host", public, "PiCloud-Version", "2"), 200, `"v":1`)
	anon.expect(anon.call("GET", exec, "", "Host", public, "PiCloud-Version", "2"), 200, `"v":1`)
	anon.expect(anon.call("GET", exec, "", "PiCloud-Version", "2"), 401)

	// Admin credentials try the draft by id; the header is PiCloud's and
	// does not reach the script.
	d.expect(d.call("GET", exec, ""), 200, `"v":1`)
	d.expect(d.call("GET", exec, "", "PiCloud-Version", "2"), 200, `"v":2`, `"header":null`)
	d.expect(d.call("GET", exec+"/sub", "", "PiCloud-Version", "1"), 200, `"v":1`)
	d.expect(d.call("GET", exec, "", "PiCloud-Version", "9"), 404)
	d.expect(d.call("GET", exec, "", "PiCloud-Version", "two"), 400, "version number")
	anon.expect(anon.call("GET", "/greet", "", "Host", public), 200, `"v":1`)

	// A draft that does not compile is refused like any save.
	d.expect(d.call("PUT", "/api/v1/admin/scripts/"+id, `{"source":"export default (","activate":false}`), 422)

	// Promoting the draft makes it what the public gets.
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+id+"/rollback", `{"version":2}`), 200, `"active_version":2`)
	anon.expect(anon.call("GET", "/greet", "", "Host", public), 200, `"v":2`)
	d.expect(d.call("GET", "/api/v1/admin/audit?limit=5", ""), 200, `"draft":true`)
}

// TestTUISavesADraft saves a draft from the terminal UI's editor: D on the
// diff shown before a save stores the version without making it active.
func TestTUISavesADraft(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("default")
	term.send(enter)
	term.waitFor("no scripts yet")
	term.send("n")
	term.waitFor("name of the new script")
	term.send("greet.js", enter)
	term.waitFor("greet.js · js · version 1 active")
	term.waitFor(`return { hello: "world" }`)
	term.send(arrowD, arrowD, ctrlK, `    return { hello: "draft" }`, ctrlS)
	term.waitFor("D: as a draft")
	term.send("D")
	term.waitFor("saved greet.js version 2 as a draft; version 1 is still active")

	list := d.call("GET", "/api/v1/admin/scripts", "")
	d.expect(list, 200, `"name":"greet.js"`, `"active_version":1`, `"latest_version":2`)
}

// TestTypesCommand writes the editor's type definitions with the binary.
func TestTypesCommand(t *testing.T) {
	d := newDaemon(t, buildBinary(t))
	dir := t.TempDir()
	out, err := d.picloud("", "types", dir)
	if err != nil || !strings.Contains(out, "wrote picloud.d.ts") || !strings.Contains(out, "wrote tsconfig.json") {
		t.Fatalf("picloud types: %v\n%s", err, out)
	}
	for _, f := range []string{"picloud.d.ts", "tsconfig.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if out, err := d.picloud("", "types", dir); err != nil || !strings.Contains(out, "kept the tsconfig.json") {
		t.Errorf("picloud types again: %v\n%s", err, out)
	}
	if out, err := d.picloud("", "types", dir, "extra"); err == nil || !strings.Contains(out, "usage: picloud types") {
		t.Errorf("picloud types with two directories: %v\n%s", err, out)
	}
}

// project writes a project directory's files.
func writeProject(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const deployManifest = `app = "default"

[[scripts]]
file = "src/hello.ts"
routes = ["GET /hello/:name"]

[[scripts]]
name = "ping"
file = "ping.js"
routes = ["/ping"]
`

// defaultApp is the id of the default app.
func defaultApp(d *daemon) string {
	d.t.Helper()
	apps := d.call("GET", "/api/v1/admin/apps", "")
	d.expect(apps, 200)
	var list struct{ Apps []struct{ ID, Name string } }
	if err := json.Unmarshal([]byte(apps.body), &list); err != nil {
		d.t.Fatal(err)
	}
	for _, a := range list.Apps {
		if a.Name == "default" {
			return a.ID
		}
	}
	d.t.Fatalf("no default app: %s", apps.body)
	return ""
}

// appToken makes an API token with app.write on the default app.
func appToken(d *daemon) string {
	d.t.Helper()
	tok := d.call("POST", "/api/v1/admin/tokens", mustJSON(map[string]any{"name": "ci", "apps": []string{defaultApp(d)}, "capabilities": []string{"app.write"}}))
	d.expect(tok, 201)
	return tok.field(d.t, "token").(string)
}

// scriptState is the active and latest version of the script named name.
func scriptState(d *daemon, name string) (active, latest int) {
	d.t.Helper()
	r := d.call("GET", "/api/v1/admin/scripts", "")
	d.expect(r, 200)
	var list struct {
		Scripts []struct {
			Name string
			A    int `json:"active_version"`
			L    int `json:"latest_version"`
		}
	}
	if err := json.Unmarshal([]byte(r.body), &list); err != nil {
		d.t.Fatal(err)
	}
	for _, s := range list.Scripts {
		if s.Name == name {
			return s.A, s.L
		}
	}
	return 0, 0
}

// TestDeploy pushes a project directory with picloud deploy: a TypeScript
// script with a local import, a plan first, nothing to do the second time,
// one changed script the third, and a deploy that fails on the board
// changes nothing.
func TestDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	token := appToken(d)
	dir := t.TempDir()
	writeProject(t, dir, map[string]string{
		"picloud.toml":     deployManifest,
		"src/hello.ts":     "import { greet } from \"./lib/greet\"\nexport default { fetch(req: Request, env: unknown, ctx: { params: { name: string } }) { return Response.json({ msg: greet(ctx.params.name) }) } }\n",
		"src/lib/greet.ts": "export function greet(name: string): string { return `hi ${name}` }\n",
		"ping.js":          "export default () => new Response(\"pong 1\")\n",
	})
	deploy := func(args ...string) (string, error) {
		return d.picloud(token+"\n", append([]string{"deploy", "--target", d.url, "--token-stdin"}, append(args, dir)...)...)
	}

	out, err := deploy()
	if err != nil {
		t.Fatalf("first deploy: %v\n%s", err, out)
	}
	for _, want := range []string{"+ script hello.ts (version 1)", "+ script ping (version 1)", "+ route GET /hello/:name → hello.ts", "+ route * /ping → ping", "deployed 4 change(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("first deploy's output lacks %q:\n%s", want, out)
		}
	}
	d.expect(d.call("GET", "/hello/pi", ""), 200, `"msg":"hi pi"`)
	d.expect(d.call("GET", "/ping", ""), 200, "pong 1")

	// The same directory again: nothing to do, no new version.
	if out, err := deploy(); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second deploy: %v\n%s", err, out)
	}
	if a, l := scriptState(d, "hello.ts"); a != 1 || l != 1 {
		t.Fatalf("an unchanged script got a new version: active %d, latest %d", a, l)
	}

	// One script edited: the dry run shows it alone and changes nothing.
	writeProject(t, dir, map[string]string{"ping.js": "export default () => new Response(\"pong 2\")\n"})
	out, err = deploy("--dry-run")
	if err != nil || !strings.Contains(out, "~ script ping (version 2)") || !strings.Contains(out, "1 to change, 3 unchanged") || strings.Contains(out, "deployed") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/ping", ""), 200, "pong 1")
	if a, l := scriptState(d, "ping"); a != 1 || l != 1 {
		t.Fatalf("the dry run saved a version: active %d, latest %d", a, l)
	}
	if out, err := deploy(); err != nil || !strings.Contains(out, "deployed 1 change(s)") {
		t.Fatalf("third deploy: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/ping", ""), 200, "pong 2")

	// A deploy that fails on the board half-way changes nothing: ping's
	// new version and the new script are not saved.
	writeProject(t, dir, map[string]string{
		"ping.js":      "export default () => new Response(\"pong 3\")\n",
		"nodefault.js": "export const x = 1\n",
		"picloud.toml": deployManifest + "\n[[scripts]]\nfile = \"nodefault.js\"\n",
	})
	if out, err := deploy(); err == nil || !strings.Contains(out, "nodefault.js") || !strings.Contains(out, "no default export") {
		t.Fatalf("a deploy with a script that does not compile: %v\n%s", err, out)
	}
	// A route that conflicts with one of a script outside the project.
	d.deploy("", "other", "export default () => new Response('other')", "GET", "/taken")
	writeProject(t, dir, map[string]string{
		"picloud.toml": strings.Replace(deployManifest, `routes = ["/ping"]`, `routes = ["/ping", "GET /taken"]`, 1),
	})
	if out, err := deploy(); err == nil || !strings.Contains(out, "conflicts with GET /taken") {
		t.Fatalf("a deploy with a conflicting route: %v\n%s", err, out)
	}
	// The same, straight to the board without a dry run first: the new
	// version saved before the route failed is rolled back with it.
	d.expect(d.call("POST", "/api/v1/admin/apps/"+defaultApp(d)+"/deploy", mustJSON(map[string]any{
		"scripts": []map[string]string{{"name": "ping", "source": "export default () => new Response('pong 3')"}},
		"routes":  []map[string]string{{"script": "ping", "method": "GET", "path": "/taken"}},
	})), 409, "conflicts with GET /taken")
	d.expect(d.call("GET", "/ping", ""), 200, "pong 2")
	d.expect(d.call("GET", "/taken", ""), 200, "other")
	if a, l := scriptState(d, "ping"); a != 2 || l != 2 {
		t.Fatalf("a failed deploy saved a version: active %d, latest %d", a, l)
	}
	if a, _ := scriptState(d, "nodefault.js"); a != 0 {
		t.Fatal("a failed deploy created a script")
	}

	// A route taken out of the manifest is removed from the board.
	writeProject(t, dir, map[string]string{"picloud.toml": strings.Replace(deployManifest, `routes = ["/ping"]`, `routes = []`, 1)})
	if out, err := deploy(); err != nil || !strings.Contains(out, "- route * /ping → ping") || !strings.Contains(out, "~ script ping (version 3)") {
		t.Fatalf("deploy without ping's route: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/ping", ""), 404)

	// Cron triggers: listed, they are created; the same list again is
	// nothing to do; an empty list removes them; left out, they stay.
	withCron := strings.Replace(deployManifest, `routes = ["GET /hello/:name"]`, `routes = ["GET /hello/:name"]`+"\ncrons = [\"*/5 * * * *\"]", 1)
	writeProject(t, dir, map[string]string{"picloud.toml": withCron})
	if out, err := deploy(); err != nil || !strings.Contains(out, "+ trigger cron */5 * * * * → hello.ts") || !strings.Contains(out, "+ route * /ping → ping") {
		t.Fatalf("deploy with a cron trigger: %v\n%s", err, out)
	}
	if out, err := deploy(); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("deploy with the same cron trigger: %v\n%s", err, out)
	}
	writeProject(t, dir, map[string]string{"picloud.toml": deployManifest})
	if out, err := deploy(); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("deploy without crons: %v\n%s", err, out)
	}
	helloID := ""
	{
		r := d.call("GET", "/api/v1/admin/scripts", "")
		var list struct{ Scripts []struct{ ID, Name string } }
		_ = json.Unmarshal([]byte(r.body), &list)
		for _, s := range list.Scripts {
			if s.Name == "hello.ts" {
				helloID = s.ID
			}
		}
	}
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+helloID+"/triggers", ""), 200, `"schedule":"*/5 * * * *"`)
	writeProject(t, dir, map[string]string{"picloud.toml": strings.Replace(withCron, `crons = ["*/5 * * * *"]`, `crons = []`, 1)})
	if out, err := deploy(); err != nil || !strings.Contains(out, "- trigger cron */5 * * * * → hello.ts") {
		t.Fatalf("deploy with no crons: %v\n%s", err, out)
	}
	if r := d.call("GET", "/api/v1/admin/scripts/"+helloID+"/triggers", ""); strings.Contains(r.body, "schedule") {
		t.Fatalf("the trigger is still there: %s", r.body)
	}
}

// TestDeployRefusesBadManifests refuses manifests with the file, the line
// and the reason, before reaching any board.
func TestDeployRefusesBadManifests(t *testing.T) {
	d := newDaemon(t, buildBinary(t))
	for _, c := range []struct {
		name, manifest, want string
	}{
		{"unknown key", "app = \"default\"\n\n[[scripts]]\nfile = \"a.js\"\nroute = [\"/a\"]\n", `picloud.toml:5: unknown key "scripts.route"`},
		{"missing file", "app = \"default\"\n[[scripts]]\nfile = \"a.js\"\n[[scripts]]\nfile = \"gone.js\"\n", `picloud.toml:5: file "gone.js" does not exist`},
		{"invalid route", "app = \"default\"\n[[scripts]]\nfile = \"a.js\"\nroutes = [\"GET hello\"]\n", `picloud.toml:4: route "GET hello"`},
		{"invalid method", "app = \"default\"\n[[scripts]]\nfile = \"a.js\"\nroutes = [\"FETCH /a\"]\n", `picloud.toml:4: route "FETCH /a": method "FETCH" is not supported`},
		{"secret with a value", "app = \"default\"\nsecrets = [\"A\"]\n[[scripts]]\nfile = \"a.js\"\n\n[secrets]\nAPI_KEY = \"hunter2\"\n", "picloud.toml:6: secrets lists the names of secrets only"},
		{"secret inline", "app = \"default\"\nsecrets = { API_KEY = \"hunter2\" }\n[[scripts]]\nfile = \"a.js\"\n", "picloud.toml:2: secrets lists the names of secrets only"},
		{"syntax", "app = \"default\"\n[[scripts]\n", "picloud.toml:2:"},
		{"wrong type", "app = 3\n", "picloud.toml:1: app is a TOML integer; it must be a string"},
		{"wrong type in a script", "app = \"default\"\n[[scripts]]\nfile = \"a.js\"\nroutes = \"/a\"\n", "picloud.toml:4: routes is a TOML string; it must be a list of strings"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeProject(t, dir, map[string]string{"picloud.toml": c.manifest, "a.js": "export default () => new Response('a')\n"})
			out, err := d.picloud("pca_not-a-token\n", "deploy", "--target", "http://127.0.0.1:9", "--token-stdin", dir)
			if err == nil || !strings.Contains(out, filepath.Join(dir, c.want)) || strings.Contains(out, "hunter2") {
				t.Fatalf("got %v, want %q:\n%s", err, c.want, out)
			}
		})
	}
}

// TestPullEditDeploy writes a project from a board's app, edits one
// script, and deploys it back: the plan names that script alone, and a
// second deploy has nothing to do.
func TestPullEditDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	helloID := d.deploy("", "hello.ts", "export default { fetch() { return new Response('hello 1') } }\n", "GET", "/hello")
	d.expect(d.call("PUT", "/api/v1/admin/scripts/"+helloID+"/limits", `{"wall_time_ms":2000}`), 200)
	pingID := d.deploy("", "ping", "export default () => new Response('pong 1')\n", "*", "/ping")
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+pingID+"/triggers", `{"type":"cron","schedule":"@hourly"}`), 201)
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+defaultApp(d)+"/variables/MAIL_KEY", `{"value":"hunter2","secret":true}`), 201)
	token := appToken(d)
	dir := filepath.Join(t.TempDir(), "app")
	board := []string{"--target", d.url, "--token-stdin"}

	out, err := d.picloud(token+"\n", append(append([]string{"pull"}, board...), dir)...)
	if err != nil || !strings.Contains(out, "pulled 2 script(s) of app default") {
		t.Fatalf("pull: %v\n%s", err, out)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, "picloud.toml"))
	for _, want := range []string{`app = 'default'`, `'MAIL_KEY'`, `file = 'hello.ts'`, `'GET /hello'`, `name = 'ping'`, `file = 'ping.js'`, `'/ping'`, `crons = ['@hourly']`, `[scripts.limits]`, `wall_time_ms = 2000`} {
		if !strings.Contains(string(manifest), want) {
			t.Errorf("the pulled manifest lacks %s:\n%s", want, manifest)
		}
	}
	if strings.Contains(string(manifest), "hunter2") {
		t.Errorf("the pulled manifest holds a secret's value:\n%s", manifest)
	}
	if out, err := d.picloud(token+"\n", append(append([]string{"pull"}, board...), dir)...); err == nil || !strings.Contains(out, "already exists") {
		t.Errorf("a second pull into the same directory: %v\n%s", err, out)
	}

	deploy := func(args ...string) (string, error) {
		return d.picloud(token+"\n", append(append(append([]string{"deploy"}, board...), args...), dir)...)
	}
	if out, err := deploy(); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("deploy of what was pulled: %v\n%s", err, out)
	}
	writeProject(t, dir, map[string]string{"ping.js": "export default () => new Response('pong 2')\n"})
	out, err = deploy()
	// Unchanged: hello.ts, its limits, its route, ping's route and its
	// trigger.
	if err != nil || !strings.Contains(out, "~ script ping (version 2)") || !strings.Contains(out, "1 to change, 5 unchanged") {
		t.Fatalf("deploy of one edited script: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/ping", ""), 200, "pong 2")
	d.expect(d.call("GET", "/hello", ""), 200, "hello 1")
	if out, err := deploy(); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("deploy again: %v\n%s", err, out)
	}

	// Limits: changed in the manifest, set on the board; over the
	// administrator's ceiling, refused with nothing changed.
	manifest, _ = os.ReadFile(filepath.Join(dir, "picloud.toml"))
	writeProject(t, dir, map[string]string{"picloud.toml": strings.Replace(string(manifest), "wall_time_ms = 2000", "wall_time_ms = 3000", 1)})
	if out, err := deploy(); err != nil || !strings.Contains(out, "~ limits hello.ts") {
		t.Fatalf("deploy of new limits: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+helloID+"/limits", ""), 200, `"limits":{"wall_time_ms":3000}`)
	writeProject(t, dir, map[string]string{"picloud.toml": strings.Replace(string(manifest), "wall_time_ms = 2000", "wall_time_ms = 99999999", 1)})
	if out, err := deploy(); err == nil || !strings.Contains(out, "above the administrator's ceiling") {
		t.Fatalf("deploy of limits over the ceiling: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+helloID+"/limits", ""), 200, `"limits":{"wall_time_ms":3000}`)
	writeProject(t, dir, map[string]string{"picloud.toml": strings.Replace(string(manifest), "wall_time_ms = 2000", "wall_time_ms = 3000", 1)})

	// --draft saves the change as a draft: the public keeps version 2
	// until a deploy without it promotes the draft, with no new version.
	writeProject(t, dir, map[string]string{"ping.js": "export default () => new Response('pong 3')\n"})
	if out, err := deploy("--draft"); err != nil || !strings.Contains(out, "~ script ping (version 3)") || !strings.Contains(out, "drafts") {
		t.Fatalf("deploy --draft: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/ping", ""), 200, "pong 2")
	if out, err := deploy("--draft"); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("deploy --draft again: %v\n%s", err, out)
	}
	if out, err := deploy(); err != nil || !strings.Contains(out, "~ script ping (version 3)") {
		t.Fatalf("deploy promoting the draft: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/ping", ""), 200, "pong 3")
	if a, l := scriptState(d, "ping"); a != 3 || l != 3 {
		t.Fatalf("after promoting the draft: active %d, latest %d; want 3 and 3", a, l)
	}
}

// varsManifest is a project with plain variables and a cron trigger with
// its settings; %s is the [vars] table's lines, %s the cron's time zone.
const varsManifest = `app = "default"
secrets = ["MAIL_KEY"]

[vars]
%s
[[scripts]]
file = "env.js"
routes = ["GET /env"]

[[scripts.cron]]
schedule = "30 8 * * 1-5"
timezone = "%s"
misfire = "skip"
max_retries = 0
`

// TestDeployVariablesAndCronSettings deploys [vars] and a
// [[scripts.cron]] with a time zone: plain variables are added, changed
// and removed in the deploy, a secret is never touched and its name is
// refused in [vars] at its line, a changed time zone is a change, and a
// pulled directory deploys to nothing to do.
func TestDeployVariablesAndCronSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	app := defaultApp(d)
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+app+"/variables/MAIL_KEY", `{"value":"hunter2","secret":true}`), 201)
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+app+"/variables/OLD", `{"value":"from the board"}`), 201)
	token := appToken(d)
	board := []string{"--target", d.url, "--token-stdin"}
	dir := t.TempDir()
	manifest := func(vars, tz string) string { return fmt.Sprintf(varsManifest, vars, tz) }
	writeProject(t, dir, map[string]string{
		"picloud.toml": manifest("GREETING = \"hello\"\nMODE = \"a\"\n", "Europe/Berlin"),
		"env.js":       "export default (req, env) => Response.json({ g: env.GREETING ?? null, m: env.MODE ?? null, old: env.OLD ?? null, key: env.MAIL_KEY })\n",
	})
	deploy := func(dir string, args ...string) (string, error) {
		return d.picloud(token+"\n", append(append(append([]string{"deploy"}, board...), args...), dir)...)
	}
	envID := func() string {
		t.Helper()
		r := d.call("GET", "/api/v1/admin/scripts", "")
		var list struct{ Scripts []struct{ ID, Name string } }
		_ = json.Unmarshal([]byte(r.body), &list)
		for _, s := range list.Scripts {
			if s.Name == "env.js" {
				return s.ID
			}
		}
		t.Fatalf("no script env.js: %s", r.body)
		return ""
	}
	triggers := func() string {
		t.Helper()
		r := d.call("GET", "/api/v1/admin/scripts/"+envID()+"/triggers", "")
		d.expect(r, 200)
		return r.body
	}

	// Added and removed: the board's OLD is not in [vars]; the secret stays.
	out, err := deploy(dir)
	if err != nil {
		t.Fatalf("first deploy: %v\n%s", err, out)
	}
	for _, want := range []string{"+ variable GREETING", "+ variable MODE", "- variable OLD",
		"+ trigger cron 30 8 * * 1-5 (Europe/Berlin, misfire skip, max_retries 0) → env.js"} {
		if !strings.Contains(out, want) {
			t.Errorf("first deploy's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "MAIL_KEY") {
		t.Errorf("the plan names the secret:\n%s", out)
	}
	d.expect(d.call("GET", "/env", ""), 200, `{"g":"hello","m":"a","old":null,"key":"hunter2"}`)
	d.expect(d.call("GET", "/api/v1/admin/apps/"+app+"/variables/MAIL_KEY", ""), 200, `"secret":true`)
	d.expect(d.call("GET", "/api/v1/admin/apps/"+app+"/variables/OLD", ""), 404)
	d.expect(d.call("GET", "/api/v1/admin/audit?limit=3", ""), 200, `"app.deploy"`, `"kind":"variable"`)
	if r := triggers(); !strings.Contains(r, `"timezone":"Europe/Berlin"`) || !strings.Contains(r, `"misfire":"skip"`) || !strings.Contains(r, `"max_retries":0`) {
		t.Fatalf("the trigger's settings: %s", r)
	}
	if out, err := deploy(dir); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second deploy: %v\n%s", err, out)
	}
	// A queue's trigger is not the manifest's: deploys leave it alone.
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+envID()+"/triggers", `{"type":"queue","queue":"jobs"}`), 201)

	// Changed and removed; a changed time zone is a change.
	writeProject(t, dir, map[string]string{"picloud.toml": manifest("MODE = \"b\"\n", "America/New_York")})
	out, err = deploy(dir, "--dry-run")
	for _, want := range []string{"~ variable MODE", "- variable GREETING",
		"~ trigger cron 30 8 * * 1-5 (America/New_York, misfire skip, max_retries 0) → env.js", "3 to change"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("dry run's output lacks %q: %v\n%s", want, err, out)
		}
	}
	d.expect(d.call("GET", "/env", ""), 200, `"g":"hello","m":"a"`)
	if out, err := deploy(dir); err != nil || !strings.Contains(out, "deployed 3 change(s)") {
		t.Fatalf("deploy of changed vars and time zone: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/env", ""), 200, `{"g":null,"m":"b","old":null,"key":"hunter2"}`)
	if r := triggers(); !strings.Contains(r, `"timezone":"America/New_York"`) || strings.Count(r, `"schedule"`) != 1 || !strings.Contains(r, `"queue":"jobs"`) {
		t.Fatalf("after the time zone changed: %s", r)
	}

	// A secret's name in [vars] is refused at its line, by picloud deploy
	// and by the board; nothing changes.
	bad := strings.Replace(manifest("MODE = \"c\"\nMAIL_KEY = \"oops\"\n", "America/New_York"), `secrets = ["MAIL_KEY"]`, `secrets = []`, 1)
	writeProject(t, dir, map[string]string{"picloud.toml": bad})
	if out, err := deploy(dir); err == nil || !strings.Contains(out, filepath.Join(dir, "picloud.toml")+":6: MAIL_KEY is a secret of app default") {
		t.Fatalf("deploy of a secret's name in [vars]: %v\n%s", err, out)
	}
	d.expect(d.call("POST", "/api/v1/admin/apps/"+app+"/deploy", mustJSON(map[string]any{
		"scripts": []map[string]string{}, "vars": map[string]string{"MODE": "c", "MAIL_KEY": "oops"},
	})), 400, "variable MAIL_KEY is a secret of the app")
	d.expect(d.call("GET", "/env", ""), 200, `{"g":null,"m":"b","old":null,"key":"hunter2"}`)

	// Pulled back: the variables and the cron with its settings; the
	// pulled directory deploys to nothing to do.
	pulled := filepath.Join(t.TempDir(), "pulled")
	if out, err := d.picloud(token+"\n", append(append([]string{"pull"}, board...), pulled)...); err != nil {
		t.Fatalf("pull: %v\n%s", err, out)
	}
	text, _ := os.ReadFile(filepath.Join(pulled, "picloud.toml"))
	for _, want := range []string{"[vars]\nMODE = 'b'\n", "[[scripts.cron]]\nschedule = '30 8 * * 1-5'\ntimezone = 'America/New_York'\nmisfire = 'skip'\nmax_retries = 0\n", "'MAIL_KEY'"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the pulled manifest lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(string(text), "hunter2") || strings.Contains(string(text), "crons") {
		t.Errorf("the pulled manifest:\n%s", text)
	}
	if out, err := deploy(pulled); err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("deploy of the pulled directory: %v\n%s", err, out)
	}

	// An empty [vars] removes every plain variable; the secret stays.
	writeProject(t, dir, map[string]string{"picloud.toml": manifest("", "America/New_York")})
	if out, err := deploy(dir); err != nil || !strings.Contains(out, "- variable MODE") || !strings.Contains(out, "deployed 1 change(s)") {
		t.Fatalf("deploy of an empty [vars]: %v\n%s", err, out)
	}
	d.expect(d.call("GET", "/env", ""), 200, `{"g":null,"m":null,"old":null,"key":"hunter2"}`)
	if r := triggers(); !strings.Contains(r, `"queue":"jobs"`) {
		t.Fatalf("the queue's trigger is gone: %s", r)
	}
}
