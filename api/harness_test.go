package api_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/execlog"
	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/secrets"
	"github.com/picloud/picloud/appliance"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// terminal is the actor of changes made on the board itself.
var terminal = model.Actor{Channel: model.ChannelTerminal, Remote: "local"}

// stack is the whole HTTP surface on a fresh database, with a logged-in
// user, built by appliance.NewServices as the daemon builds it, with the
// in-process executor.
type stack struct {
	t       *testing.T
	handler http.Handler
	srv     *httptest.Server
	store   *store.Store
	mgr     *manager.Service
	box     *secrets.Box
	rec     *execlog.Recorder
	token   string
	// vars are values scenarios pass on to later ones: {name} in a
	// scenario's URL, headers and body is replaced by vars[name].
	vars map[string]string
}

// testCeilings are the administrator's ceilings in these tests.
var testCeilings = model.ScriptLimits{WallTimeMS: 10000, ResponseBytes: 32 << 20, ConsoleBytes: 1 << 20,
	CallDepth: 2048, Timers: 10000, Subrequests: 1000}

// testPasswords makes password hashing cheap, so that tests stay fast.
var testPasswords = auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

type stackOptions struct {
	maxConcurrent int
	maxBody       int64
	limits        model.ScriptLimits // defaults of the executions; zero fields keep the configuration's
	noUsers       bool               // start without alice, as a first start does
	setupDone     func()             // called once the first owner is set up
	logs          io.Writer          // where the daemon's log goes; discarded by default
	adminHosts    *hosts.AdminHosts
}

// config is the daemon's configuration of the stack: the defaults, with
// the options, a data directory of the test's (the secrets key goes
// there) and execution records written every 20 ms.
func (opt stackOptions) config(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.PublicURL = "http://pi.test"
	cfg.Executors.Mode = "inprocess"
	cfg.LogFlushInterval = 20 * time.Millisecond
	cfg.SessionTTL = time.Hour
	cfg.MaxConcurrentExecutions = cmp.Or(opt.maxConcurrent, 8)
	cfg.MaxRequestBodyBytes = cmp.Or(opt.maxBody, 1<<20)
	sb := &cfg.Sandbox
	sb.WallTime = time.Duration(cmp.Or(opt.limits.WallTimeMS, 2000)) * time.Millisecond
	sb.ResponseBytes = cmp.Or(opt.limits.ResponseBytes, sb.ResponseBytes)
	sb.ConsoleBytes = cmp.Or(opt.limits.ConsoleBytes, sb.ConsoleBytes)
	sb.CallDepth = cmp.Or(opt.limits.CallDepth, sb.CallDepth)
	sb.Timers = cmp.Or(opt.limits.Timers, sb.Timers)
	sb.Subrequests = cmp.Or(opt.limits.Subrequests, sb.Subrequests)
	sb.MaxWallTime = time.Duration(testCeilings.WallTimeMS) * time.Millisecond
	sb.MaxResponseBytes, sb.MaxConsoleBytes = testCeilings.ResponseBytes, testCeilings.ConsoleBytes
	sb.MaxCallDepth, sb.MaxTimers, sb.MaxSubrequests = testCeilings.CallDepth, testCeilings.Timers, testCeilings.Subrequests
	return cfg
}

func newStack(t *testing.T, opt stackOptions) *stack {
	t.Helper()
	var logw io.Writer = io.Discard
	if testing.Verbose() {
		logw = os.Stderr
	}
	if opt.logs != nil {
		logw = opt.logs
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opt.adminHosts == nil {
		opt.adminHosts = hosts.DefaultAdminHosts("testhost")
	}
	cfg := opt.config(t)
	exec, err := appliance.NewInProcessExecutor(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	options := []appliance.ServicesOption{appliance.WithPasswordParams(testPasswords), appliance.WithAdminHosts(opt.adminHosts)}
	if opt.setupDone != nil {
		options = append(options, appliance.OnSetupDone(opt.setupDone))
	}
	svc, err := appliance.NewServices(context.Background(), cfg, pgtest.NewDatabase(t), exec, logger, options...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler)
	t.Cleanup(func() {
		svc.Hub.CloseAll() // log streams end first: srv.Close waits for them
		srv.Close()
		if err := svc.Shutdown(context.Background()); err != nil {
			t.Errorf("shut the services down: %v", err)
		}
	})
	s := &stack{t: t, handler: svc.Handler, srv: srv, store: svc.Store, mgr: svc.Manager, box: svc.Secrets, rec: svc.Recorder,
		vars: map[string]string{}}
	if opt.noUsers {
		return s
	}
	if _, err := s.mgr.AddUser(context.Background(), terminal, "alice", "correct horse battery", "owner"); err != nil {
		t.Fatal(err)
	}
	s.token = s.login("alice", "correct horse battery")
	return s
}

// with is the stack as seen from another test (a subtest): its helpers
// fail that test.
func (s *stack) with(t *testing.T) *stack {
	c := *s
	c.t = t
	return &c
}

type response struct {
	t      *testing.T
	status int
	header http.Header
	body   string
}

func (r response) json() map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		r.t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// auditCount is the number of records in the audit log.
func (s *stack) auditCount() int {
	s.t.Helper()
	var n int
	if err := s.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		s.t.Fatal(err)
	}
	return n
}

// login opens a session and returns its token.
func (s *stack) login(username, password string) string {
	s.t.Helper()
	res := s.do("POST", "/api/v1/admin/auth/login", nil, fmt.Sprintf(`{"username":%q,"password":%q}`, username, password))
	if res.status != 200 {
		s.t.Fatalf("login %s: %d %s", username, res.status, res.body)
	}
	return res.json()["token"].(string)
}

// as sends an admin request with another user's token.
func (s *stack) as(token, method, path, body string) response {
	s.t.Helper()
	return s.do(method, path, map[string]string{"Authorization": "Bearer " + token}, body)
}

// do sends a request; header values "TOKEN" are replaced by the session
// token. It fails the test if the request cannot be sent, so call it from
// the test's goroutine (other goroutines call send).
func (s *stack) do(method, path string, header map[string]string, body string) response {
	s.t.Helper()
	res, err := s.send(method, path, header, body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// send is do for any goroutine: it returns the error.
func (s *stack) send(method, path string, header map[string]string, body string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, strings.ReplaceAll(v, "TOKEN", s.token))
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return response{t: s.t, status: res.StatusCode, header: res.Header, body: string(b)}, nil
}

// admin sends an authenticated admin request with a JSON body (v may be a
// string of JSON or a value to encode).
func (s *stack) admin(method, path string, v any) response {
	s.t.Helper()
	body := ""
	switch b := v.(type) {
	case nil:
	case string:
		body = b
	default:
		var buf bytes.Buffer
		_ = json.NewEncoder(&buf).Encode(b)
		body = buf.String()
	}
	return s.do(method, path, map[string]string{"Authorization": "Bearer TOKEN"}, body)
}

// createScript creates a script and returns its id.
func (s *stack) createScript(name, source string) string {
	s.t.Helper()
	res := s.admin("POST", "/api/v1/admin/scripts", map[string]string{"name": name, "source": source})
	if res.status != 201 {
		s.t.Fatalf("create script: %d %s", res.status, res.body)
	}
	return res.json()["id"].(string)
}

// bind binds a route to a script and returns the route id.
func (s *stack) bind(scriptID, method, path string) string {
	s.t.Helper()
	res := s.admin("POST", "/api/v1/admin/scripts/"+scriptID+"/routes", map[string]string{"method": method, "path": path})
	if res.status != 201 {
		s.t.Fatalf("bind route: %d %s", res.status, res.body)
	}
	return res.json()["id"].(string)
}
