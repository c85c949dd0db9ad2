package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

const backupPassphrase = "correct horse battery staple"

// envScript answers with its app's variables, the secret among them.
const envScript = `export default (req, env) => Response.json({ mode: env.MODE, key: env.API_KEY })`

// listings fetches every admin listing of a board that a restore must
// bring back, by path: apps with their domains and variables, users with
// their keys, scripts with their versions, routes and limits, settings.
func listings(d *daemon) map[string]string {
	d.t.Helper()
	out := map[string]string{}
	get := func(path string) []map[string]any {
		r := d.call("GET", path, "")
		d.expect(r, 200)
		out[path] = r.body
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			return nil
		}
		for _, v := range m {
			var items []map[string]any
			if json.Unmarshal(v, &items) == nil {
				return items
			}
		}
		return nil
	}
	get("/api/v1/admin/settings")
	for _, a := range get("/api/v1/admin/apps") {
		id := a["id"].(string)
		get("/api/v1/admin/apps/" + id)
		get("/api/v1/admin/apps/" + id + "/domains")
		get("/api/v1/admin/apps/" + id + "/variables")
	}
	for _, a := range get("/api/v1/admin/apps") {
		id := a["id"].(string)
		get("/api/v1/admin/apps/" + id + "/interceptors")
		get("/api/v1/admin/apps/" + id + "/users")
		queues := "/api/v1/admin/apps/" + id + "/queues"
		for _, q := range get(queues) {
			get(queues + "/" + q["queue"].(string) + "/messages")
		}
		delete(out, queues) // has the oldest message's age, which grows
	}
	for _, u := range get("/api/v1/admin/users") {
		get("/api/v1/admin/users/" + u["id"].(string) + "/keys")
	}
	for _, s := range get("/api/v1/admin/scripts") {
		id := s["id"].(string)
		get("/api/v1/admin/scripts/" + id)
		get("/api/v1/admin/scripts/" + id + "/routes")
		get("/api/v1/admin/scripts/" + id + "/limits")
		get("/api/v1/admin/scripts/" + id + "/triggers")
		for _, v := range get("/api/v1/admin/scripts/" + id + "/versions") {
			get(fmt.Sprintf("/api/v1/admin/scripts/%s/versions/%v", id, v["version"]))
		}
	}
	return out
}

// scriptAnswers calls every script route of the round trip's boards.
// backupMembersScript signs up an app user and queues a message for her
// (POST), or checks her password (GET); as an interceptor it lets every
// request through, marked.
const backupMembersScript = `import { users, queue } from "picloud"
export default {
  async intercept(request, env, ctx) { ctx.data.guarded = true },
  async fetch(request, env, ctx) {
    if (request.method === "POST") {
      const u = await users.create({ email: "ann@shop.test", password: "ann-passw0rd-1", data: { plan: "gold" } })
      await queue("welcome").send({ user: u.id })
      return Response.json({ id: u.id }, { status: 201 })
    }
    const u = await users.verify("ann@shop.test", "ann-passw0rd-1")
    return Response.json({ user: u && u.email, plan: u && u.data.plan, guarded: ctx.data.guarded === true })
  }
}`

func scriptAnswers(d *daemon) map[string]string {
	d.t.Helper()
	shop := []string{"Host", "shop.test"}
	out := map[string]string{}
	for name, r := range map[string]reply{
		"hello":      d.call("GET", "/hello", ""),
		"env":        d.call("GET", "/env", "", shop...),
		"kv list":    d.call("POST", "/kv", mustJSON(map[string]any{"op": "list", "collection": "c", "args": []any{}})),
		"kv get":     d.call("POST", "/kv", mustJSON(map[string]any{"op": "get", "collection": "c", "args": []any{"k1"}}), shop...),
		"docs find":  d.call("POST", "/docs", mustJSON(map[string]any{"op": "find", "collection": "people", "args": []any{map[string]any{}}})),
		"docs email": d.call("POST", "/docs", mustJSON(map[string]any{"op": "find", "collection": "people", "args": []any{map[string]any{"email": "ann@example.com"}}})),
		"app user":   d.call("GET", "/members/in", "", shop...),
	} {
		out[name] = fmt.Sprintf("%d %s", r.status, r.body)
	}
	return out
}

// restoreInto runs picloud restore on d's board, returning its output.
func (d *daemon) restoreInto(stdin string, args ...string) (string, error) {
	return d.picloud(stdin, append([]string{"restore"}, args...)...)
}

// login signs in as the owner that startAsOwner makes.
func (d *daemon) login() {
	d.t.Helper()
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"s3cret-passw0rd"}`)
	d.expect(login, 200)
	d.token = login.field(d.t, "token").(string)
}

func TestBackupRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	a := newDaemon(t, bin)
	a.startAsOwner()

	// Board A: the default app and "shop" with a domain, scripts with two
	// versions and limits, routes, a variable and a secret, kv and docs
	// data with a unique index, a member with a role and an SSH key.
	hello := a.deploy("", "hello", `export default () => new Response("hello v1")`, "GET", "/hello")
	a.expect(a.call("PUT", "/api/v1/admin/scripts/"+hello, mustJSON(map[string]string{"source": `export default () => new Response("hello v2")`})), 200)
	a.expect(a.call("PUT", "/api/v1/admin/scripts/"+hello+"/limits", `{"wall_time_ms":1500}`), 200)
	a.deploy("", "kv", kvScript, "*", "/kv")
	a.deploy("", "docs", docsScript, "*", "/docs")
	shop := a.call("POST", "/api/v1/admin/apps", `{"name":"shop","description":"the shop"}`)
	a.expect(shop, 201)
	shopID := shop.field(t, "id").(string)
	a.expect(a.call("POST", "/api/v1/admin/apps/"+shopID+"/domains", `{"pattern":"shop.test"}`), 201)
	oldDomain := a.call("POST", "/api/v1/admin/apps/"+shopID+"/domains", `{"pattern":"old.shop.test"}`)
	a.expect(oldDomain, 201)
	a.deploy(shopID, "env", envScript, "GET", "/env")
	a.deploy(shopID, "kv-shop", kvScript, "*", "/kv")
	vars := "/api/v1/admin/apps/" + shopID + "/variables/"
	a.expect(a.call("PUT", vars+"API_KEY", `{"value":"k-secret-123","secret":true}`), 201)
	a.expect(a.call("PUT", vars+"MODE", `{"value":"live"}`), 201)
	member := a.call("POST", "/api/v1/admin/users", `{"username":"mia","password":"mia-passw0rd-1"}`)
	a.expect(member, 201)
	miaID := member.field(t, "id").(string)
	a.expect(a.call("POST", "/api/v1/admin/users/"+miaID+"/roles", mustJSON(map[string]string{"app_id": shopID, "role": "editor"})), 204)
	// Events and app users: a cron trigger, an interceptor, an app user
	// (with her password) and a queued message no consumer took yet.
	a.expect(a.call("POST", "/api/v1/admin/scripts/"+hello+"/triggers", `{"type":"cron","schedule":"@yearly","timezone":"Europe/Berlin"}`), 201)
	members := a.deploy(shopID, "members", backupMembersScript, "*", "/members/*rest")
	a.expect(a.call("POST", "/api/v1/admin/apps/"+shopID+"/interceptors", mustJSON(map[string]string{"script_id": members, "path": "/members/*rest"})), 201)
	a.expect(a.call("POST", "/members/signup", "", "Host", "shop.test"), 201)
	a.expect(a.call("POST", "/api/v1/admin/users/"+miaID+"/keys", mustJSON(map[string]string{"public_key": authorizedKey(newSigner(t))})), 201)
	kvA := kvClient{d: a}
	kvA.ok("put", "c", "k1", "v1")
	kvA.ok("put", "c", "k2", map[string]any{"n": 2})
	kvClient{d: a, host: []string{"Host", "shop.test"}}.ok("put", "c", "k1", "shop value")
	docsA := kvClient{d: a, path: "/docs"}
	docsA.ok("ensureIndex", "people", []string{"email"}, map[string]any{"unique": true})
	docsA.ok("insert", "people", map[string]any{"email": "ann@example.com", "name": "Ann"})
	docsA.ok("insert", "people", map[string]any{"email": "bob@example.com", "name": "Bob"})

	wantLists, wantAnswers := listings(a), scriptAnswers(a)
	if !strings.Contains(wantAnswers["env"], "k-secret-123") {
		t.Fatalf("board A's script does not read its secret: %s", wantAnswers["env"])
	}
	if want := `200 {"user":"ann@shop.test","plan":"gold","guarded":true}`; wantAnswers["app user"] != want {
		t.Fatalf("board A's app user, behind its interceptor: %s, want %s", wantAnswers["app user"], want)
	}

	file := filepath.Join(t.TempDir(), "board.pcb")
	if out, err := a.picloud(backupPassphrase+"\n", "backup", "-o", file, "--passphrase-stdin"); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}

	t.Run("the admin API streams the same backup", func(t *testing.T) {
		parent := a.t
		a.t = t // its failures are the subtest's
		defer func() { a.t = parent }()
		r := a.call("POST", "/api/v1/admin/backups", mustJSON(map[string]string{"passphrase": backupPassphrase}))
		if r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(r.body, "PICLOUD BACKUP 1\n") {
			t.Fatalf("POST /api/v1/admin/backups: %d %s %.40q", r.status, r.header, r.body)
		}
		api := filepath.Join(t.TempDir(), "api.pcb")
		if err := os.WriteFile(api, []byte(r.body), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := a.picloud(backupPassphrase+"\n", "restore", "--dry-run", "--passphrase-stdin", api)
		if err != nil || !strings.Contains(out, "a good backup of the board") || !strings.Contains(out, "app_variables: 2 rows") {
			t.Fatalf("restore --dry-run of the API's backup: %v\n%s", err, out)
		}
		a.expect(a.call("POST", "/api/v1/admin/backups", `{"app":"nope"}`), 404, "no app is named")
		a.expect(a.call("GET", "/api/v1/admin/audit", ""), 200, `"backup.create"`)
	})

	b := newDaemon(t, bin)
	t.Run("bad files are refused and change nothing", func(t *testing.T) {
		refuseBadFiles(t, b, file)
	})

	out, err := b.restoreInto(backupPassphrase+"\n", file, "--passphrase-stdin")
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	b.start()
	// A's session is not carried over: B does not know it.
	b.token = a.token
	b.expect(b.call("GET", "/api/v1/admin/apps", ""), 401)
	b.login()

	gotLists, gotAnswers := listings(b), scriptAnswers(b)
	for path, want := range wantLists {
		if got := gotLists[path]; got != want {
			t.Errorf("GET %s on the restored board:\n got %s\nwant %s", path, got, want)
		}
	}
	if len(gotLists) != len(wantLists) {
		t.Errorf("the restored board has %d listings, the original %d", len(gotLists), len(wantLists))
	}
	for name, want := range wantAnswers {
		if got := gotAnswers[name]; got != want {
			t.Errorf("script %s on the restored board: %s, want %s", name, got, want)
		}
	}
	// The docs index was made again: it still refuses a duplicate.
	kvClient{d: b, path: "/docs"}.fails("Error", "data.duplicate", "insert", "people", map[string]any{"email": "ann@example.com"})
	// New data gets new versions and works as before.
	kvClient{d: b}.ok("put", "c", "k3", "after")
	b.stop()

	t.Run("an app restored next to its original", func(t *testing.T) {
		a.t = t
		appRestore(t, a, shopID, oldDomain.field(t, "id").(string))
	})

	t.Run("a restore killed half-way changes nothing", func(t *testing.T) {
		a.t, b.t = t, t // their failures are the subtest's
		killedRestore(t, a, b)
	})
}

// appRestore backs up app shop of board a, gives up one of its domain
// claims, and restores the backup next to it: renamed, the claim still
// held refused, the other one served at once with the secret and data.
func appRestore(t *testing.T, a *daemon, shopID, oldDomainID string) {
	file := filepath.Join(t.TempDir(), "shop.pcb")
	if out, err := a.picloud(backupPassphrase+"\n", "backup", "--app", "shop", "-o", file, "--passphrase-stdin"); err != nil {
		t.Fatalf("backup --app: %v\n%s", err, out)
	}
	a.expect(a.call("DELETE", "/api/v1/admin/apps/"+shopID+"/domains/"+oldDomainID, ""), 204)
	// A request now makes the daemon read its routes again: what the
	// restore adds later, it must be told about.
	a.expect(a.call("GET", "/env", "", "Host", "old.shop.test"), 404)
	before := a.call("GET", "/api/v1/admin/apps", "")

	out, err := a.restoreInto(backupPassphrase+"\n", "--app", file, "--passphrase-stdin", "--dry-run")
	for _, want := range []string{"as shop-restored (renamed: the name shop is taken)", "domain old.shop.test: claimed",
		"domain shop.test (claimed by app shop): left out", "scripts: 3 rows",
		"triggers: 0 rows", "app_users: 1 rows", "interceptors: 1 rows", "queue_messages: 1 rows", "dry run: nothing was changed"} {
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("restore --app --dry-run: %v, no %q in\n%s", err, want, out)
		}
	}
	if after := a.call("GET", "/api/v1/admin/apps", ""); after.body != before.body {
		t.Fatalf("a dry run changed the apps: %s", after.body)
	}
	if out, err = a.restoreInto(backupPassphrase+"\n", "--app", file, "--passphrase-stdin"); err != nil || !strings.Contains(out, "restored app shop-restored") {
		t.Fatalf("restore --app: %v\n%s", err, out)
	}
	// The running daemon serves it without a call of the admin API: the
	// secret opens under the app's new id, its data came along.
	copyHost := []string{"Host", "old.shop.test"}
	testkit.Eventually(t, 30*time.Second, "the restored app answers on its domain", func() error {
		if r := a.call("GET", "/env", "", copyHost...); r.status != 200 || !strings.Contains(r.body, "k-secret-123") {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
	if got := (kvClient{d: a, host: copyHost}).ok("get", "c", "k1"); got != `"shop value"` {
		t.Fatalf("the restored app's kv: %s", got)
	}
	// The original is untouched and still answers on its own domain.
	if r := a.call("GET", "/env", "", "Host", "shop.test"); r.status != 200 || !strings.Contains(r.body, "k-secret-123") {
		t.Fatalf("the original app: %d %s", r.status, r.body)
	}
	apps := a.call("GET", "/api/v1/admin/apps", "")
	a.expect(apps, 200, `"shop-restored"`, `"shop"`)
}

// refuseBadFiles checks that damaged, truncated, tampered and too-new
// files, and a protected file without its passphrase, are each refused
// before anything changes: the fresh board's data directory is not even
// made.
func refuseBadFiles(t *testing.T, b *daemon, good string) {
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0x20
	newer := append([]byte("PICLOUD BACKUP 2\n"), raw[len("PICLOUD BACKUP 1\n"):]...)
	for _, c := range []struct {
		name, file, stdin, want string
	}{
		{"a flipped byte", write("flipped", flipped), backupPassphrase, "damaged"},
		{"truncated", write("truncated", raw[:len(raw)*2/3]), backupPassphrase, ""},
		{"a newer format", write("newer", newer), backupPassphrase, "newer than this build reads"},
		{"not a backup", write("text", []byte("hello\n")), backupPassphrase, "not a PiCloud backup"},
		{"no passphrase", good, "", "protected by a passphrase"},
		{"a wrong passphrase", good, "wrong horse battery staple", "does not open"},
	} {
		args := []string{c.file}
		if c.stdin != "" {
			args = append(args, "--passphrase-stdin")
		}
		out, err := b.restoreInto(c.stdin+"\n", args...)
		if err == nil || !strings.Contains(out, c.want) || !strings.Contains(out, "nothing was changed") {
			t.Errorf("%s: %v\n%s", c.name, err, out)
		}
		if c.name == "truncated" && !strings.Contains(out, "truncated") && !strings.Contains(out, "damaged") {
			t.Errorf("truncated: %s", out)
		}
	}
	if _, err := os.Stat(b.dataDir); !os.IsNotExist(err) {
		t.Errorf("a refused restore made the board's data directory: %v", err)
	}
}

// killedRestore kills a restore with SIGKILL while it copies rows, and
// checks that board b is as it was before.
func killedRestore(t *testing.T, a, b *daemon) {
	// A large table, so that the restore is still copying when killed.
	big := a.deploy("", "fill", `import { kv } from "picloud"
export default async () => {
  const c = kv.collection("big")
  for (let i = 0; i < 40; i++) await c.put("k" + i, (i + ":").repeat(250000))
  return new Response("filled")
}`, "POST", "/fill")
	_ = big
	a.expect(a.call("POST", "/fill", ""), 200, "filled")
	file := filepath.Join(t.TempDir(), "big.pcb")
	if out, err := a.picloud(backupPassphrase+"\n", "backup", "-o", file, "--passphrase-stdin"); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	// Board b differs from the backup: an app of its own.
	b.start()
	b.expect(b.call("POST", "/api/v1/admin/apps", `{"name":"only-on-b"}`), 201)
	b.stop()

	// Without --force, a board that is not fresh is refused.
	if out, err := b.restoreInto(backupPassphrase+"\n", file, "--passphrase-stdin"); err == nil || !strings.Contains(out, "not fresh") {
		t.Fatalf("a restore onto a board with apps and users: %v\n%s", err, out)
	}
	cmd := exec.Command(b.bin, "restore", file, "--passphrase-stdin", "--force")
	cmd.Env = b.env
	cmd.Stdin = strings.NewReader(backupPassphrase + "\n")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The rows of apps are in when it says so; kv_entries comes later.
	lines := bufio.NewScanner(stdout)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if strings.HasPrefix(lines.Text(), "restored apps:") {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(seen) == 0 || !strings.HasPrefix(seen[len(seen)-1], "restored apps:") {
		t.Fatalf("the restore did not start copying:\n%s", strings.Join(seen, "\n"))
	}
	for _, l := range seen {
		if strings.HasPrefix(l, "restored kv_entries") {
			t.Fatalf("the restore was past the large table when killed:\n%s", strings.Join(seen, "\n"))
		}
	}

	b.start()
	apps := b.call("GET", "/api/v1/admin/apps", "")
	b.expect(apps, 200, `"only-on-b"`)
	if r := b.call("POST", "/fill", ""); r.status != 404 {
		t.Fatalf("the killed restore left part of the backup: POST /fill answers %d %s", r.status, r.body)
	}
	b.stop()
	if out, err := b.restoreInto(backupPassphrase+"\n", file, "--passphrase-stdin", "--force"); err != nil {
		t.Fatalf("a restore after the killed one: %v\n%s", err, out)
	}
	b.start()
	b.expect(b.call("GET", "/api/v1/admin/apps", ""), 401) // sessions went with the board
	b.login()
	b.expect(b.call("POST", "/fill", ""), 200, "filled")
	if apps := b.call("GET", "/api/v1/admin/apps", ""); strings.Contains(apps.body, "only-on-b") {
		t.Fatalf("a forced restore kept an app of the board it replaced: %s", apps.body)
	}
}

// tickScript moves the load's state one step: the kv key n to the
// request's n, then a document {n}. At any instant the documents number
// n or n+1: a restored state outside that was torn.
const tickScript = `import { kv, docs } from "picloud"
export default async (req) => {
  const { n } = await req.json()
  await kv.collection("load").put("n", n)
  await docs.collection("seq").insert({ n })
  return new Response("ok")
}`

// stateScript answers the load's state: kv's n and the documents' count.
const stateScript = `import { kv, docs } from "picloud"
export default async () => Response.json({
  n: await kv.collection("load").get("n"),
  count: await docs.collection("seq").count({}),
})`

type loadState struct{ N, Count int64 }

func (d *daemon) loadState() loadState {
	d.t.Helper()
	r := d.call("GET", "/state", "")
	d.expect(r, 200)
	var s loadState
	if err := json.Unmarshal([]byte(r.body), &s); err != nil {
		d.t.Fatalf("state %s: %v", r.body, err)
	}
	return s
}

func TestBackupUnderWriteLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	a := newDaemon(t, bin)
	a.startAsOwner()
	a.deploy("", "tick", tickScript, "POST", "/tick")
	a.deploy("", "state", stateScript, "GET", "/state")
	// Data that takes a while to copy, between the kv key and the
	// documents in the file: a backup that did not read one snapshot
	// would see the documents of many later ticks.
	a.deploy("", "fill", `import { kv } from "picloud"
export default async () => {
  const c = kv.collection("big")
  for (let i = 0; i < 40; i++) await c.put("k" + i, (i + ":").repeat(250000))
  return new Response("filled")
}`, "POST", "/fill")
	a.expect(a.call("POST", "/fill", ""), 200, "filled")

	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			res, err := http.Post(a.url+"/tick", "application/json", strings.NewReader(fmt.Sprintf(`{"n":%d}`, n)))
			if err != nil {
				done <- err
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				done <- fmt.Errorf("tick %d: %d", n, res.StatusCode)
				return
			}
		}
	}()
	testkit.Eventually(t, 30*time.Second, "the load runs", func() error {
		if s := a.loadState(); s.Count < 10 {
			return fmt.Errorf("%d ticks", s.Count)
		}
		return nil
	})
	before := a.loadState()
	file := filepath.Join(t.TempDir(), "load.pcb")
	if out, err := a.picloud("", "backup", "-o", file); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	after := a.loadState()
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if after.Count <= before.Count {
		t.Fatalf("the load made no progress during the backup: %+v then %+v", before, after)
	}

	b := newDaemon(t, bin)
	if out, err := b.restoreInto("", file); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	b.start()
	got := b.loadState()
	if got.Count != got.N && got.Count != got.N+1 {
		t.Fatalf("the restored state is torn: kv n=%d with %d documents (during the backup: %+v to %+v)", got.N, got.Count, before, after)
	}
	if got.Count < before.Count || got.Count > after.Count {
		t.Fatalf("the restored state %+v is not between %+v and %+v", got, before, after)
	}
	t.Logf("restored the state at tick %d (the load went from %d to %d during the backup)", got.N, before.Count, after.Count)
}

// fillScript writes 40 values of 1 MiB to kv, their keys after the
// request's offset: 40 MiB of data per call. The values are random text
// (each a rotation of one random MiB, too far apart for the compressor's
// window to find), so that the file is about as large as real data's.
const fillScript = `import { kv } from "picloud"
export default async (req) => {
  const { from } = await req.json()
  const parts = []
  for (let n = 0; n < 1048576; n += 10) parts.push(Math.random().toString(36).slice(2, 12).padEnd(10, "0"))
  const base = parts.join("").slice(0, 1048576)
  const c = kv.collection("bulk")
  for (let i = from; i < from + 40; i++) {
    const at = (i * 26153) % base.length
    await c.put("k" + i, base.slice(at) + base.slice(0, at))
  }
  return new Response("filled")
}`

// measuredBackup runs a backup to a file and returns the file's size, the
// peak resident memory of the backup process and how long it took.
func measuredBackup(t *testing.T, d *daemon, file string) (size, peakRSS int64, took time.Duration) {
	t.Helper()
	cmd := exec.Command(d.bin, "backup", "-o", file)
	cmd.Env = d.env
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	took = time.Since(start)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size(), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024, took
}

// TestBackupMemoryStaysFlat backs up 40 MiB and then 200 MiB of kv data:
// the backup's peak memory must not grow with the data. It logs the
// figures that docs/performance.md records.
func TestBackupMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, starts PostgreSQL and writes 200 MiB")
	}
	bin := buildBinary(t)
	// A quota above the default 256 MiB, for measurements of more.
	a := newDaemon(t, bin, "PICLOUD_SANDBOX_WALL_TIME_MS=30000", "PICLOUD_SANDBOX_STORAGE_MB=4096")
	a.startAsOwner()
	a.deploy("", "fill", fillScript, "POST", "/fill")
	fill := func(from, to int) {
		for i := from; i < to; i += 40 {
			a.expect(a.call("POST", "/fill", fmt.Sprintf(`{"from":%d}`, i)), 200, "filled")
		}
	}
	dir := t.TempDir()
	const mib = 1 << 20
	fill(0, 40)
	_, small, _ := measuredBackup(t, a, filepath.Join(dir, "small.pcb"))
	// 200 MiB in CI; TEST_BACKUP_MIB sets more for a measurement
	// (docs/performance.md records one of 1 GiB).
	total := 200
	if v := os.Getenv("TEST_BACKUP_MIB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 80 {
			t.Fatalf("TEST_BACKUP_MIB=%q: want a number of MiB, 80 or more", v)
		}
		total = (n + 39) / 40 * 40
	}
	fill(40, total)
	size, large, took := measuredBackup(t, a, filepath.Join(dir, "large.pcb"))
	t.Logf("backup of %d MiB of kv values: file %.1f MiB, peak RSS %.1f MiB (40 MiB of values: %.1f MiB), %.1f s, %.1f MiB/s of values",
		total, float64(size)/mib, float64(large)/mib, float64(small)/mib, took.Seconds(), float64(total)/took.Seconds())
	if large > small+32*mib {
		t.Errorf("the backup's peak memory grew with the data: %d MiB for 40 MiB, %d MiB for %d MiB", small/mib, large/mib, total)
	}

	b := newDaemon(t, bin)
	start := time.Now()
	if out, err := b.restoreInto("", filepath.Join(dir, "large.pcb")); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	restoreTook := time.Since(start)
	t.Logf("restore of it onto a new board (its first start included): %.1f s, %.1f MiB/s of values", restoreTook.Seconds(), float64(total)/restoreTook.Seconds())
}

func TestScheduledBackups(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	pass := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(pass, []byte(backupPassphrase+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, bin, "PICLOUD_BACKUP_DIR="+dir, "PICLOUD_BACKUP_SCHEDULE=1s", "PICLOUD_BACKUP_KEEP=2",
		"PICLOUD_BACKUP_PASSPHRASE_FILE="+pass)
	d.startAsOwner()
	testkit.Eventually(t, 60*time.Second, "three scheduled backups are written", func() error {
		if n := strings.Count(d.output.String(), "scheduled backup written"); n < 3 {
			return fmt.Errorf("%d written", n)
		}
		return nil
	})
	d.stop()
	files, err := filepath.Glob(filepath.Join(dir, "picloud-*.pcb"))
	if err != nil || len(files) != 2 {
		t.Fatalf("the backup directory holds %v (%v), want the 2 newest", files, err)
	}
	out, err := d.picloud(backupPassphrase+"\n", "restore", "--dry-run", "--passphrase-stdin", files[1])
	if err != nil || !strings.Contains(out, "a good backup of the board") || !strings.Contains(out, "users: 1 rows") {
		t.Fatalf("restore --dry-run of a scheduled backup: %v\n%s", err, out)
	}
}
