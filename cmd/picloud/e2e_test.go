package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// daemon is the real picloud binary running against its own private
// PostgreSQL cluster.
type daemon struct {
	t       *testing.T
	bin     string
	dataDir string
	env     []string
	url     string
	cmd     *exec.Cmd
	output  *testkit.Buffer // written by exec's goroutine while tests read
	token   string
}

// buildBinary compiles the picloud command once for all the package's
// tests and returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "picloud-e2e-")
		if err == nil {
			// The unprivileged user of the private cluster runs it too.
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			binary.err = fmt.Errorf("a directory for the binary: %w", err)
			return
		}
		binary.dir = dir
		path := filepath.Join(dir, "picloud")
		if out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		binary.path = path
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// binary is the daemon the package's tests share: linking it takes
// seconds, and no test changes it.
var binary struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// traversableTempDir is a temporary directory that the unprivileged user of
// the private cluster can reach when the tests run as root.
func traversableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// freePort is a free TCP address on loopback for a daemon to listen on
// (see testkit.FreeAddr).
func freePort(t *testing.T) string { return testkit.FreeAddr(t) }

func newDaemon(t *testing.T, bin string, extraEnv ...string) *daemon {
	addr := freePort(t)
	dataDir := filepath.Join(traversableTempDir(t), "data")
	// An empty configuration file, so that the machine's own does not count.
	conf := filepath.Join(t.TempDir(), "picloud.conf")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"PICLOUD_DATA_DIR="+dataDir,
		"PICLOUD_LISTEN="+addr,
		"PICLOUD_CONFIG="+conf,
		"PICLOUD_LOG_FLUSH_INTERVAL_MS=50",
		"PICLOUD_SSH_BIND=", // tests that want SSH give it a free port
	)
	return &daemon{t: t, bin: bin, dataDir: dataDir, env: append(env, extraEnv...), url: "http://" + addr}
}

// picloud runs a subcommand to completion.
func (d *daemon) picloud(stdin string, args ...string) (string, error) {
	cmd := exec.Command(d.bin, args...)
	cmd.Env = d.env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start starts the daemon and waits until it is healthy.
func (d *daemon) start() {
	d.t.Helper()
	d.launch(exec.Command(d.bin, "serve"))
	d.waitHealthy()
}

// waitHealthy waits until the daemon answers /healthz with 200.
func (d *daemon) waitHealthy() {
	d.t.Helper()
	testkit.Eventually(d.t, 60*time.Second, "the daemon becomes healthy", func() error {
		res, err := http.Get(d.url + "/healthz")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("/healthz answers %d", res.StatusCode)
		}
		return nil
	})
}

// deploy creates a script in an app ("" for the default app) and binds it
// to method and path; it returns the script's id.
func (d *daemon) deploy(appID, name, src, method, path string) string {
	d.t.Helper()
	body := map[string]string{"name": name, "source": src}
	if appID != "" {
		body["app_id"] = appID
	}
	created := d.call("POST", "/api/v1/admin/scripts", mustJSON(body))
	d.expect(created, 201)
	id := created.field(d.t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+id+"/routes", mustJSON(map[string]string{"method": method, "path": path})), 201)
	return id
}

// launch starts cmd as the daemon, its output in d.output, without waiting
// for anything; the daemon is killed when the test ends, if still running.
// cmd.Env defaults to d.env.
func (d *daemon) launch(cmd *exec.Cmd) {
	d.t.Helper()
	d.output = &testkit.Buffer{}
	d.cmd = cmd
	if d.cmd.Env == nil {
		d.cmd.Env = d.env
	}
	d.cmd.Stdout = d.output
	d.cmd.Stderr = d.output
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			// SIGTERM first: the daemon then stops its PostgreSQL before
			// it exits, so that nothing still writes in the directories
			// the test is about to remove. SIGKILL if it hangs.
			done := make(chan error, 1)
			go func() { done <- d.cmd.Wait() }()
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = d.cmd.Process.Kill()
				<-done
			}
		}
		if d.t.Failed() {
			d.t.Logf("daemon output:\n%s", d.output)
		}
	})
}

// logged waits until the daemon's output from byte offset from on has s.
func (d *daemon) logged(from int, s string) {
	d.t.Helper()
	testkit.Eventually(d.t, 60*time.Second, "the daemon logs "+s, func() error { return d.output.Contains(from, s) })
}

// await sends a request until check accepts the reply, which it returns;
// check's error says what it saw instead.
func (d *daemon) await(what, method, path, body string, check func(reply) error) reply {
	d.t.Helper()
	var r reply
	testkit.Eventually(d.t, 30*time.Second, what, func() error {
		r = d.call(method, path, body)
		return check(r)
	})
	return r
}

// has is a check for await: the reply has each string.
func has(contains ...string) func(reply) error {
	return func(r reply) error {
		for _, c := range contains {
			if !strings.Contains(r.body, c) {
				return fmt.Errorf("%d %.500s: no %q", r.status, r.body, c)
			}
		}
		return nil
	}
}

// startAsOwner makes the first owner, admin, with the command, starts the
// daemon and logs in as admin: later calls carry admin's session.
func (d *daemon) startAsOwner() {
	d.t.Helper()
	if out, err := d.picloud("s3cret-passw0rd\n", "user", "add", "admin", "--password-stdin"); err != nil {
		d.t.Fatalf("user add: %v\n%s", err, out)
	}
	d.start()
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"s3cret-passw0rd"}`)
	d.expect(login, 200)
	d.token = login.field(d.t, "token").(string)
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop() {
	d.t.Helper()
	d.waitExit(d.terminate())
}

// terminate sends SIGTERM; the daemon's exit comes on the channel returned.
func (d *daemon) terminate() <-chan error {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	return done
}

// waitExit waits for a clean exit of the daemon.
func (d *daemon) waitExit(done <-chan error) {
	d.t.Helper()
	if err := testkit.Receive(d.t, 60*time.Second, "the daemon stops on SIGTERM", done); err != nil {
		d.t.Fatalf("daemon exited with %v:\n%s", err, d.output)
	}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) field(t *testing.T, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("not JSON: %s", r.body)
	}
	return m[name]
}

func (d *daemon) call(method, path, body string, header ...string) reply {
	d.t.Helper()
	req, err := http.NewRequest(method, d.url+path, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, string(b)}
}

// get sends a GET with the daemon's session, from any goroutine.
func (d *daemon) get(url string) (*http.Response, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	return http.DefaultClient.Do(req)
}

func (d *daemon) expect(r reply, status int, contains ...string) {
	d.t.Helper()
	if r.status != status {
		d.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	for _, c := range contains {
		if !strings.Contains(r.body, c) {
			d.t.Fatalf("body %q does not contain %q", r.body, c)
		}
	}
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	// An upstream that holds the request of the execution in flight at
	// shutdown until the test releases it.
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		fmt.Fprint(w, "released")
	}))
	defer upstream.Close()
	defer close(release)
	bin := buildBinary(t)
	d := newDaemon(t, bin,
		"PICLOUD_MAX_CONCURRENT_EXECUTIONS=2",
		"PICLOUD_MAX_REQUEST_BODY_BYTES=1024",
		"PICLOUD_SANDBOX_WALL_TIME_MS=1500",
		"PICLOUD_FETCH_ALLOW="+upstream.Listener.Addr().String(),
	)

	// A user made before the daemon ever ran: the command starts the
	// private cluster itself.
	if out, err := d.picloud("s3cret-passw0rd\n", "user", "add", "admin", "--password-stdin"); err != nil || !strings.Contains(out, "created user admin") {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := d.picloud("", "user", "add", "bob"); err == nil {
		t.Fatalf("user add without --password-stdin succeeded:\n%s", out)
	}
	d.start()
	// And one made while it runs.
	if out, err := d.picloud("another-passw0rd", "user", "add", "carol", "--password-stdin"); err != nil {
		t.Fatalf("user add while running: %v\n%s", err, out)
	}

	d.expect(d.call("GET", "/healthz", ""), 200, "ok")
	d.expect(d.call("GET", "/version", ""), 200, `"api":"v1"`, `"schema":`)

	// Bad login, then 401 without a token.
	d.expect(d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"wrong-password"}`), 401)
	d.expect(d.call("GET", "/api/v1/admin/scripts", ""), 401)
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"carol","password":"another-passw0rd"}`)
	d.expect(login, 200, `"token"`, `"expires_at"`)
	login = d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"s3cret-passw0rd"}`)
	d.expect(login, 200, `"token"`)
	d.token = login.field(t, "token").(string)

	// Create a TypeScript script, bind it, call it.
	src := "interface P { name?: string }\nexport default {\n  async fetch(request: Request, env: unknown, ctx: { params: P }) {\n    const url = new URL(request.url)\n    return Response.json({ hello: ctx.params.name, q: url.searchParams.get('q'), v: 1 })\n  }\n}\n"
	created := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "hello.ts", "source": src}))
	d.expect(created, 201, `"active_version":1`)
	id := created.field(t, "id").(string)
	route := d.call("POST", "/api/v1/admin/scripts/"+id+"/routes", `{"method":"GET","path":"/hello/:name"}`)
	d.expect(route, 201)
	routeID := route.field(t, "id").(string)
	d.expect(d.call("GET", "/hello/pi?q=1", ""), 200, `"hello":"pi"`, `"q":"1"`, `"v":1`)

	// Update, then roll back.
	d.expect(d.call("PUT", "/api/v1/admin/scripts/"+id, mustJSON(map[string]string{"source": strings.Replace(src, "v: 1", "v: 2", 1)})), 200, `"active_version":2`)
	d.expect(d.call("GET", "/hello/pi", ""), 200, `"v":2`)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+id+"/rollback", `{"version":1}`), 200, `"active_version":1`)
	d.expect(d.call("GET", "/hello/pi", ""), 200, `"v":1`)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id+"/versions", ""), 200, `"version":2`, `"version":1`)

	// Error paths.
	d.expect(d.call("POST", "/api/v1/admin/scripts", `{"name":"bad","source":"export default {\n  fetch( {\n}"}`), 422, `"line":`)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+id+"/routes", `{"method":"GET","path":"/api/mine"}`), 400, "reserved")
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+id+"/routes", `{"method":"GET","path":"/hello/:other"}`), 409, routeID)
	throws := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "throws", "source": "export default () => {\n  throw new TypeError('nope')\n}"}))
	d.expect(throws, 201)
	d.expect(d.call("GET", "/api/v1/execute/"+throws.field(t, "id").(string), ""), 500, `"code":"script.exception"`, `"script":"throws"`, `"line":2`)
	echo := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "echo", "source": "export default async (req) => new Response(await req.text())"}))
	echoID := echo.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/execute/"+echoID, strings.Repeat("a", 1000)), 200)
	d.expect(d.call("POST", "/api/v1/execute/"+echoID, strings.Repeat("a", 5000)), 413)

	// Past the concurrency cap of 2: 503 with Retry-After at once. Two
	// clients keep both slots busy with a slow script while a fast one probes.
	slow := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "slow", "source": "export default async () => { await new Promise(r => setTimeout(r, 300)); return 'slow' }"}))
	slowURL := d.url + "/api/v1/execute/" + slow.field(t, "id").(string)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if res, err := d.get(slowURL); err == nil {
					res.Body.Close()
				}
			}
		}()
	}
	over := d.await("503 past the cap", "POST", "/api/v1/execute/"+echoID, "x", func(r reply) error {
		if r.status != 503 {
			return fmt.Errorf("status %d %s", r.status, r.body)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if over.header.Get("Retry-After") != "1" {
		t.Fatalf("past the cap: %d %q %s", over.status, over.header.Get("Retry-After"), over.body)
	}

	// Delete the route: 404 again.
	d.expect(d.call("DELETE", "/api/v1/admin/routes/"+routeID, ""), 204)
	d.expect(d.call("GET", "/hello/pi", ""), 404, "no route matches")

	// Executions were recorded: the three of hello.ts, of both versions.
	logs := d.await("three executions in the log", "GET", "/api/v1/admin/logs?script_id="+id, "", func(r reply) error {
		if n := strings.Count(r.body, `"request_id"`); n != 3 {
			return fmt.Errorf("%d records: %.500s", n, r.body)
		}
		return nil
	})
	d.expect(logs, 200, `"status":200`, `"script_version":1`, `"script_version":2`, `"path":"/hello/pi"`)

	// SIGTERM lets an in-flight execution finish, then stops the private
	// cluster with the daemon. The execution waits for the upstream, which
	// answers once the daemon is shutting down.
	held := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "held",
		"source": "export default async () => 'got ' + await (await fetch('" + upstream.URL + "/')).text()"}))
	d.expect(held, 201)
	type answer struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan answer, 1)
	go func() {
		res, err := d.get(d.url + "/api/v1/execute/" + held.field(t, "id").(string))
		if err != nil {
			inflight <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		inflight <- answer{res.StatusCode, string(b), err}
	}()
	testkit.Receive(t, 30*time.Second, "the in-flight execution reaches the upstream", arrived)
	mark := d.output.Len()
	exited := d.terminate()
	d.logged(mark, "shutting down")
	select {
	case a := <-inflight:
		t.Fatalf("the in-flight request ended before its execution did: %d %s %v", a.status, a.body, a.err)
	default:
	}
	release <- struct{}{}
	d.waitExit(exited)
	if a := testkit.Receive(t, 30*time.Second, "the in-flight answer", inflight); a.err != nil || a.status != 200 || a.body != "got released" {
		t.Errorf("in-flight request during shutdown: %d %q %v, want 200 \"got released\"", a.status, a.body, a.err)
	}
	pidFile := filepath.Join(d.dataDir, "postgres", "postmaster.pid")
	if _, err := os.Stat(pidFile); err == nil {
		t.Errorf("PostgreSQL still running after the daemon stopped (%s exists)", pidFile)
	}

	// Data survives a restart.
	d.start()
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id, ""), 200, `"name":"hello.ts"`)
	d.stop()
}

func TestBadConfigurationStopsStartUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin, "PICLOUD_MAX_CONCURRENT_EXECUTIONS=lots")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = d.env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "PICLOUD_MAX_CONCURRENT_EXECUTIONS") {
		t.Fatalf("serve with a bad setting: err=%v\n%s", err, out)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return string(b)
}

// TestFirstStartSetup starts the daemon with no user: it writes a one-time
// setup token to a file only its user can read (never to its log), picloud
// status tells how to use it, and the token creates the first owner once.
func TestFirstStartSetup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.start()
	file := filepath.Join(d.dataDir, "setup-token")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("setup token file: %v", err)
	}
	token := strings.TrimSpace(string(raw))
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", file, st.Mode().Perm())
	}
	if !strings.HasPrefix(token, "pci_") {
		t.Fatalf("token %q is not a setup token", token)
	}
	d.expect(d.call("GET", "/api/v1/admin/setup", ""), 200, `"needed":true`, `"expires_at"`)
	out, err := d.picloud("", "status")
	if err != nil || !strings.Contains(out, d.url+"/api/v1/admin/setup") || !strings.Contains(out, file) ||
		!strings.Contains(out, "| "+d.bin+" user add admin --password-stdin") || strings.Contains(out, "systemd-run") {
		t.Fatalf("picloud status: %v\n%s", err, out)
	}

	body := mustJSON(map[string]string{"token": token, "username": "admin", "password": "first owner's password"})
	created := d.call("POST", "/api/v1/admin/setup", body)
	d.expect(created, 201, `"role":"owner"`, `"token":"pcs_`)
	d.expect(d.call("POST", "/api/v1/admin/setup", body), 409, "already done")
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("setup token file still there after setup: %v", err)
	}
	d.expect(d.call("GET", "/api/v1/admin/setup", ""), 200, `"needed":false`)
	if out, _ := d.picloud("", "status"); !strings.Contains(out, "users:   set up") || strings.Contains(out, "user add") {
		t.Errorf("picloud status after setup:\n%s", out)
	}
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"first owner's password"}`)
	d.expect(login, 200)
	d.token = login.field(t, "token").(string)

	// The key that seals secrets is in the data directory, for the daemon's
	// user only, and secrets reach scripts in the executor workers.
	key := filepath.Join(d.dataDir, "secrets.key")
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets key: %v %v", err, st)
	}
	vars := "/api/v1/admin/apps/00000000-0000-0000-0000-000000000001/variables/"
	d.expect(d.call("PUT", vars+"API_KEY", `{"value":"k-123456","secret":true}`), 201)
	d.expect(d.call("PUT", vars+"MODE", `{"value":"test"}`), 201)
	env := d.call("POST", "/api/v1/admin/scripts", `{"name":"env","source":"export default (req, env) => env.MODE + ':' + env.API_KEY.length"}`)
	d.expect(env, 201)
	d.expect(d.call("GET", "/api/v1/execute/"+env.field(t, "id").(string), ""), 200, "test:8")

	// A restart with a user makes no new token.
	d.stop()
	d.start()
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("setup token file after a restart with a user: %v", err)
	}
	d.stop()
}
