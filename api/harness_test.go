package api_test

import (
	"bytes"
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

	"github.com/picloud/picloud/api"
	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/execlog"
	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/api/secrets"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/engine"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// terminal is the actor of changes made on the board itself.
var terminal = model.Actor{Channel: model.ChannelTerminal, Remote: "local"}

// stack is the whole HTTP surface on a fresh database, with a logged-in user.
type stack struct {
	t       *testing.T
	handler http.Handler
	srv     *httptest.Server
	store   *store.Store
	mgr     *manager.Service
	box     *secrets.Box
	rec     *execlog.Recorder
	token   string
}

// testCeilings are the administrator's ceilings in these tests.
var testCeilings = model.ScriptLimits{WallTimeMS: 10000, ResponseBytes: 32 << 20, ConsoleBytes: 1 << 20,
	CallDepth: 2048, Timers: 10000, Subrequests: 1000}

type stackOptions struct {
	maxConcurrent int
	maxBody       int64
	limits        model.ScriptLimits // defaults of the executions
	noUsers       bool               // start without alice, as a first start does
	setupDone     func()             // manager.Config.SetupDone
	logs          io.Writer          // where the daemon's log goes; discarded by default
	adminHosts    *hosts.AdminHosts
}

func newStack(t *testing.T, opt stackOptions) *stack {
	t.Helper()
	if opt.maxConcurrent == 0 {
		opt.maxConcurrent = 8
	}
	if opt.maxBody == 0 {
		opt.maxBody = 1 << 20
	}
	if opt.limits.WallTimeMS == 0 {
		opt.limits.WallTimeMS = 2000
	}
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
	key, _ := secrets.NewKey()
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(pgtest.NewDatabase(t))
	hub := execlog.NewHub()
	rec := execlog.NewRecorder(execlog.Config{FlushInterval: 20 * time.Millisecond}, st, hub, logger)
	ctx, cancel := context.WithCancel(context.Background())
	if err := rec.Start(ctx); err != nil {
		t.Fatal(err)
	}
	orch := orchestrator.New(orchestrator.Config{MaxConcurrent: opt.maxConcurrent,
		LimitDefaults: opt.limits, LimitCeilings: testCeilings, Secrets: box},
		st, engine.NewInProcess(engine.Options{Logger: logger}), rec, logger)
	creds := &manager.Credentials{
		Hasher:   auth.NewHasher(auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}),
		Throttle: auth.NewThrottle(auth.ThrottleConfig{}),
	}
	mgr := manager.New(manager.Config{SessionTTL: time.Hour, SetupDone: opt.setupDone, Secrets: box, AdminHosts: opt.adminHosts,
		LimitDefaults: opt.limits, LimitCeilings: testCeilings}, st, creds, orch, logger)
	h, err := api.New(api.Config{MaxRequestBodyBytes: opt.maxBody, Versions: map[string]any{"api": "v1"}, PublicURL: "http://pi.test", AdminHosts: opt.adminHosts},
		api.Deps{Manager: mgr, Orchestrator: orch, Hub: hub, Health: st.Ping, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		hub.CloseAll()
		srv.Close()
		_ = rec.Shutdown(context.Background())
		cancel()
	})
	s := &stack{t: t, handler: h, srv: srv, store: st, mgr: mgr, box: box, rec: rec}
	if opt.noUsers {
		return s
	}
	if _, err := mgr.AddUser(context.Background(), terminal, "alice", "correct horse battery", "owner"); err != nil {
		t.Fatal(err)
	}
	res := s.do("POST", "/api/v1/admin/auth/login", nil, `{"username":"alice","password":"correct horse battery"}`)
	if res.status != 200 {
		t.Fatalf("login: %d %s", res.status, res.body)
	}
	s.token = res.json()["token"].(string)
	return s
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

// do sends a request; header values "TOKEN" are replaced by the session token.
func (s *stack) do(method, path string, header map[string]string, body string) response {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
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
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{t: s.t, status: res.StatusCode, header: res.Header, body: string(b)}
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
