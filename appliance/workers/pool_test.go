package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
	"github.com/picloud/picloud/engine"
	"github.com/picloud/picloud/engine/wire"
)

// TestMain turns the test binary into a worker when the pool re-executes
// it: PICLOUD_TEST_WORKER=real serves the real engine, =fake serves a Go
// executor whose "scripts" misbehave in ways a test can order.
func TestMain(m *testing.M) {
	switch os.Getenv("PICLOUD_TEST_WORKER") {
	case "real":
		err := ServeWorker(context.Background(), os.Stdin, os.Stdout, slog.New(slog.NewTextHandler(os.Stderr, nil)))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "fake":
		debug.SetMaxStack(MaxWorkerStack)
		if err := wire.Serve(context.Background(), os.Stdin, os.Stdout, fakeExec{}); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeExec runs "scripts" named by their code.
type fakeExec struct{}

var sink [][]byte

// markEnv names the invocation variable with a path: a fake script that
// has one writes its process id to path+".started" when it starts, and
// path+".canceled" when its context ends, so that a test can wait for
// what happens inside the worker process.
const markEnv = "MARK"

func mark(inv *engine.Invocation, event string) {
	if path := inv.Env[markEnv]; path != "" {
		_ = os.WriteFile(path+"."+event, fmt.Append(nil, os.Getpid()), 0o600)
	}
}

func (fakeExec) Execute(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	mark(inv, "started")
	switch inv.Code {
	case "hang": // a native call nothing can interrupt
		for {
			runtime.Gosched()
		}
	case "sleep":
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			mark(inv, "canceled")
			return &engine.Result{Error: &engine.ExecError{Code: engine.CodeCanceled, Message: "canceled"}}, nil
		}
	case "grow": // 8 MiB more every few milliseconds, touched
		for {
			b := make([]byte, 8<<20)
			for i := range b {
				b[i] = 1
			}
			sink = append(sink, b)
			// The behaviour under test: memory that grows gradually,
			// between two polls of the pool.
			time.Sleep(5 * time.Millisecond)
		}
	case "crash":
		go func() { var m map[int]int; m[1] = 1 }()
		// The panic above ends the process; the script never answers.
		time.Sleep(time.Second)
	case "stack":
		var f func(int) int
		f = func(n int) int { return f(n+1) + 1 }
		f(0)
	case "procs":
		return &engine.Result{Response: &engine.Response{Status: 200, Body: fmt.Appendf(nil, "%d", runtime.GOMAXPROCS(0))}}, nil
	case "pid":
		return &engine.Result{Response: &engine.Response{Status: 200, Body: fmt.Appendf(nil, "%d", os.Getpid())}}, nil
	}
	return &engine.Result{Response: &engine.Response{Status: 200, Body: []byte("ok " + string(inv.Request.Body))}}, nil
}

func startPool(t *testing.T, kind string, cfg Config) *Pool {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Command = []string{exe}
	cfg.Env = append(cfg.Env, "PICLOUD_TEST_WORKER="+kind)
	p := New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return p
}

// run runs a fake script on the pool; it fails the test on an error, so
// call it from the test's goroutine (other goroutines call execute).
func run(t *testing.T, p *Pool, code string, wall time.Duration) *engine.Result {
	t.Helper()
	res, err := execute(p, code, wall, "")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// execute runs a fake script on the pool; a non-empty markPath is passed
// to it (see markEnv).
func execute(p *Pool, code string, wall time.Duration, markPath string) (*engine.Result, error) {
	// A version's code never changes: the code names the "script" here.
	inv := &engine.Invocation{ScriptID: code, ScriptName: code + ".js", Code: code, Limits: engine.Limits{WallTime: wall},
		Request: engine.Request{Method: "GET", URL: "http://x/", Body: []byte(code)}}
	if markPath != "" {
		inv.Env = map[string]string{markEnv: markPath}
	}
	res, err := p.Execute(context.Background(), inv)
	if err != nil {
		return nil, fmt.Errorf("execute %s: %w", code, err)
	}
	return res, nil
}

// started waits until the fake script given markPath has started in its
// worker, and returns the worker's process id.
func started(t *testing.T, markPath string) int {
	t.Helper()
	var pid int
	testkit.Eventually(t, 10*time.Second, "the script starts in its worker", func() error {
		b, err := os.ReadFile(markPath + ".started")
		if err != nil {
			return err
		}
		pid, err = strconv.Atoi(string(b))
		return err
	})
	return pid
}

// outcome is what an execution on another goroutine came to.
type outcome struct {
	res *engine.Result
	err error
}

// executeAsync runs a fake script on another goroutine; its outcome comes
// on the channel returned.
func executeAsync(p *Pool, code string, wall time.Duration, markPath string) <-chan outcome {
	done := make(chan outcome, 1)
	go func() {
		res, err := execute(p, code, wall, markPath)
		done <- outcome{res, err}
	}()
	return done
}

// wait waits for an execution started by executeAsync; it fails the test
// on an error.
func wait(t *testing.T, what string, done <-chan outcome) *engine.Result {
	t.Helper()
	o := testkit.Receive(t, 30*time.Second, what, done)
	if o.err != nil {
		t.Fatalf("%s: %v", what, o.err)
	}
	return o.res
}

func code(res *engine.Result) string {
	if res.Error == nil {
		return "ok"
	}
	return res.Error.Code
}

func TestEchoAcrossWorkers(t *testing.T) {
	p := startPool(t, "fake", Config{Workers: 2, PerWorker: 4})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := execute(p, fmt.Sprint("echo", i), time.Second, "")
			if err != nil {
				t.Errorf("echo %d: %v", i, err) // not Fatal: off the test goroutine
				return
			}
			if code(res) != "ok" || string(res.Response.Body) != fmt.Sprint("ok echo", i) {
				t.Errorf("echo %d: %+v", i, res)
			}
		}()
	}
	wg.Wait()
}

// A runaway on a worker is killed at wall time plus grace with limit.time;
// a bystander on the same worker, which made no data call and no fetch, is
// run again on the replacement and answers; the worker serves again.
func TestRunawayKilledBystanderRestarted(t *testing.T) {
	p := startPool(t, "fake", Config{Workers: 1, PerWorker: 4, Grace: 200 * time.Millisecond})
	before := p.PIDs()
	markPath := filepath.Join(t.TempDir(), "bystander")
	done := executeAsync(p, "sleep", 5*time.Second, markPath)
	started(t, markPath)
	start := time.Now()
	res := run(t, p, "hang", 300*time.Millisecond)
	bystander := wait(t, "the bystander", done)
	// The bystander sleeps 2 s, then answers: the runaway was ended by its
	// limit, well before, and took the bystander's worker with it.
	if code(res) != engine.CodeTimeLimit {
		t.Fatalf("runaway: %s after %v: %+v", code(res), time.Since(start), res.Error)
	}
	if code(bystander) != "ok" || len(bystander.Logs) == 0 || bystander.Logs[0].Message != retriedNote+engine.CodeExecutorRestarted {
		t.Fatalf("bystander: %s %+v, want ok, run again", code(bystander), bystander.Logs)
	}
	if res := run(t, p, "pid", time.Second); code(res) != "ok" || string(res.Response.Body) == fmt.Sprint(before[0]) {
		t.Fatalf("after the kill: %s %s (old pid %d)", code(res), res.Response.Body, before[0])
	}
	st := p.Status()
	if len(st) != 1 || st[0].Restarts != 1 || st[0].LastCode != engine.CodeTimeLimit || st[0].PID == before[0] || st[0].PID == 0 ||
		st[0].RSSBytes <= 0 || st[0].StartedAt.Before(start) || !strings.Contains(st[0].LastReason, "wall time") ||
		!strings.Contains(st[0].LastReason, "hang.js") {
		t.Fatalf("status after the kill: %+v (old pid %d)", st, before[0])
	}
}

// With two workers, a runaway on one does not stop the other from
// answering: every bystander request is answered, by the other worker,
// while the runaway still runs.
func TestBystanderOnOtherWorkerKeepsAnswering(t *testing.T) {
	p := startPool(t, "fake", Config{Workers: 2, PerWorker: 4, Grace: 200 * time.Millisecond})
	markPath := filepath.Join(t.TempDir(), "runaway")
	// The runaway's wall time is long enough for the bystander's requests
	// to all fall within it on a busy machine.
	done := executeAsync(p, "hang", 5*time.Second, markPath)
	runaway := started(t, markPath)
	for i := range 20 {
		res := run(t, p, "pid", time.Second)
		if code(res) != "ok" {
			t.Fatalf("bystander %d failed: %+v", i, res.Error)
		}
		if pid := string(res.Response.Body); pid == strconv.Itoa(runaway) {
			t.Fatalf("bystander %d was answered by the runaway's worker %s", i, pid)
		}
		select {
		case o := <-done:
			t.Fatalf("the runaway ended (%v %+v) before bystander %d: the test proves nothing", o.err, o.res, i)
		default:
		}
		// The behaviour under test: requests spread over the runaway's life.
		time.Sleep(20 * time.Millisecond)
	}
	if res := wait(t, "the runaway", done); code(res) != engine.CodeTimeLimit {
		t.Fatalf("runaway: %s", code(res))
	}
}

func TestMemoryCeiling(t *testing.T) {
	p := startPool(t, "fake", Config{Workers: 1, MaxMemoryBytes: 96 << 20, PollInterval: 20 * time.Millisecond})
	if res := run(t, p, "grow", 10*time.Second); code(res) != engine.CodeMemoryLimit {
		t.Fatalf("grow: %s %+v", code(res), res.Error)
	}
	if res := run(t, p, "echo", time.Second); code(res) != "ok" {
		t.Fatalf("after the kill: %+v", res.Error)
	}
}

func TestCrashesAreReplaced(t *testing.T) {
	p := startPool(t, "fake", Config{Workers: 1})
	if res := run(t, p, "crash", 5*time.Second); code(res) != engine.CodeExecutorCrashed || !strings.Contains(res.Error.Message, "nil map") {
		t.Fatalf("crash: %s %+v", code(res), res.Error)
	}
	if res := run(t, p, "stack", 5*time.Second); code(res) != engine.CodeStackLimit {
		t.Fatalf("stack: %s %+v", code(res), res.Error)
	}
	if res := run(t, p, "echo", 5*time.Second); code(res) != "ok" {
		t.Fatalf("after the crashes: %+v", res.Error)
	}
	if st := p.Status(); st[0].Restarts != 2 || st[0].LastCode != engine.CodeStackLimit {
		t.Fatalf("status after two crashes: %+v", st)
	}
}

// Canceling an execution's context cancels the script in its worker: the
// script sees its context end (it would otherwise answer after 2 s).
func TestCancelReachesWorker(t *testing.T) {
	p := startPool(t, "fake", Config{Workers: 1})
	markPath := filepath.Join(t.TempDir(), "sleep")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		res, err := p.Execute(ctx, &engine.Invocation{Code: "sleep", Limits: engine.Limits{WallTime: 5 * time.Second},
			Env: map[string]string{markEnv: markPath}})
		done <- outcome{res, err}
	}()
	started(t, markPath)
	cancel()
	o := testkit.Receive(t, 30*time.Second, "the canceled execution", done)
	if o.err != nil || code(o.res) != engine.CodeCanceled {
		t.Fatalf("%v %s", o.err, code(o.res))
	}
	if _, err := os.Stat(markPath + ".canceled"); err != nil {
		t.Fatalf("the script in the worker was not canceled: %v", err)
	}
}

// A worker's environment is an allow list: the daemon's database URL,
// settings and systemd's variables stay out.
func TestWorkerEnvIsAnAllowList(t *testing.T) {
	for _, k := range inherited {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	t.Setenv("NOTIFY_SOCKET", "/run/systemd/notify")
	t.Setenv("LISTEN_FDS", "1")
	t.Setenv("DATABASE_URL", "postgres://picloud:secret@localhost/picloud")
	t.Setenv("PICLOUD_DATA_DIR", "/var/lib/picloud")
	t.Setenv("TZ", "Europe/Paris")
	got := workerEnv([]string{"A=1"})
	if strings.Join(got, " ") != "TZ=Europe/Paris A=1" {
		t.Fatalf("worker environment %q, want TZ and the pool's own", got)
	}
}

// Ping runs a script on every worker; after a worker is killed, it answers
// again once the replacement runs scripts.
func TestPing(t *testing.T) {
	p := startPool(t, "real", Config{Workers: 2, PerWorker: 2})
	if err := p.Ping(context.Background()); err != nil {
		t.Fatalf("a fresh pool: %v", err)
	}
	pid := p.PIDs()[0]
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the pool recovers", func() error {
		if err := p.Ping(context.Background()); err != nil {
			return err
		}
		if pids := p.PIDs(); contains(pids, pid) {
			return fmt.Errorf("the killed worker %d is still listed in %v", pid, pids)
		}
		return nil
	})
	if contains(p.PIDs(), pid) {
		t.Fatal("the killed worker is still listed")
	}
	if err := p.Ping(context.Background()); err != nil {
		t.Fatalf("after the replacement: %v", err)
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestStatmReadsThisProcess(t *testing.T) {
	page := int64(os.Getpagesize())
	rss, anon := readRSS("/proc/self/statm", page), readAnon("/proc/self/statm", page)
	if rss <= 0 || anon <= 0 || anon > rss {
		t.Fatalf("resident %d, anonymous %d", rss, anon)
	}
	if readRSS("/proc/self/no-such-file", page) != 0 || readAnon("/proc/self/no-such-file", page) != 0 {
		t.Fatal("an unreadable file read as memory")
	}
}

// Workers run with the GOMAXPROCS the pool chose, unless its Env sets one.
func TestWorkerProcs(t *testing.T) {
	p := startPool(t, "fake", Config{Workers: 1, Procs: 3})
	if res := run(t, p, "procs", 5*time.Second); code(res) != "ok" || string(res.Response.Body) != "3" {
		t.Fatalf("GOMAXPROCS of the worker: %s %s", code(res), res.Response.Body)
	}
	p = startPool(t, "fake", Config{Workers: 1, Procs: 3, Env: []string{"GOMAXPROCS=2"}})
	if res := run(t, p, "procs", 5*time.Second); code(res) != "ok" || string(res.Response.Body) != "2" {
		t.Fatalf("GOMAXPROCS from Env: %s %s", code(res), res.Response.Body)
	}
}

// pollable hands an inherited blocking pipe to the poller: only a file the
// poller knows accepts a deadline.
func TestPollablePipe(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil { // blocking, as an inherited standard input
		t.Fatal(err)
	}
	defer syscall.Close(fds[1])
	blocking := os.NewFile(uintptr(fds[0]), "stdin")
	defer blocking.Close()
	if err := blocking.SetReadDeadline(time.Now()); !errors.Is(err, os.ErrNoDeadline) {
		t.Fatalf("a blocking pipe took a deadline: %v", err)
	}
	got := pollable(io.Reader(blocking), slog.New(slog.DiscardHandler))
	f, ok := got.(*os.File)
	if !ok || f == blocking {
		t.Fatalf("pollable returned %T %p, the blocking file is %p", got, got, blocking)
	}
	// Each file owns its own descriptor: closing both closes two.
	defer func() {
		if err := f.Close(); err != nil {
			t.Errorf("close the pollable file: %v", err)
		}
	}()
	if err := f.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
		t.Fatalf("the pollable pipe takes no deadline: %v", err)
	}
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	if f.Fd() == blocking.Fd() {
		t.Fatalf("the pollable file shares descriptor %d with the blocking one", f.Fd())
	}
	var sb strings.Builder
	if got := pollable(io.Writer(&sb), slog.New(slog.DiscardHandler)); got != io.Writer(&sb) {
		t.Fatal("pollable changed a writer that is not a file")
	}
}
