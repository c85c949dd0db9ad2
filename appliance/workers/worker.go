package workers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/picloud/picloud/appliance/cgroups"
	"github.com/picloud/picloud/engine"
	"github.com/picloud/picloud/engine/wire"
)

// worker is one executor process.
type worker struct {
	p       *Pool
	idx     int
	pid     int
	proc    *os.Process
	stdin   *os.File
	client  *wire.Client
	started time.Time
	backoff time.Duration
	group   *cgroups.Group // nil when the worker has no cgroup of its own
	oomBase int64          // the group's OOM kills before the worker started
	gone    chan struct{}  // closed once the process is reaped and its calls failed

	inflight int // guarded by Pool.mu
	// running are the executions on the worker, and culprit the one
	// blamed for its end (see blame); both guarded by Pool.mu.
	running map[*flight]struct{}
	culprit *flight

	mu     sync.Mutex
	reason *death // why the pool killed it, first wins
	tail   tailBuffer
	fatal  []string // the first lines of a Go runtime crash report
}

// death says why a worker ended; calls it was running fail with it.
type death struct{ code, msg string }

func (d *death) Error() string { return d.code + ": " + d.msg }

// inherited lists the variables of the daemon's environment a worker
// gets: what Go reads for diagnostics, time zones and TLS roots. Nothing
// else reaches it: not the daemon's database URL, settings or credentials,
// nor systemd's socket, notify and watchdog variables (a worker is not the
// service systemd started). The pool adds the worker's own settings.
var inherited = []string{"GODEBUG", "GOTRACEBACK", "TZ", "ZONEINFO", "SSL_CERT_FILE", "SSL_CERT_DIR"}

// workerEnv is a worker's whole environment: the inherited variables the
// daemon has, then extra.
func workerEnv(extra []string) []string {
	var env []string
	for _, k := range inherited {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

// start starts the worker process, directly in its cgroup when it has one
// (placed): clone3 with CLONE_INTO_CGROUP, Linux 5.7 and later. Where that
// fails (an older kernel; a system-call filter that refuses clone3, as
// systemd's RestrictNamespaces= does), it starts the process as usual, and
// from then on always does, leaving the caller to move it into its group
// before the worker gets any work.
func (p *Pool) start(env []string, group *cgroups.Group, stdin, stdout, stderr *os.File) (cmd *exec.Cmd, placed bool, err error) {
	build := func(into bool) *exec.Cmd {
		cmd := exec.Command(p.cfg.Command[0], p.cfg.Command[1:]...)
		if cmd.Path == selfExe {
			cmd.Args[0] = "picloud" // what ps shows
		}
		cmd.Env = env
		cmd.Dir = "/" // not the daemon's data directory
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		// Die with the daemon; own process group, so that a terminal's ^C
		// reaches the daemon, which then stops the workers in order.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		if u := p.cfg.User; u != nil {
			// No supplementary groups: Groups is empty. The kernel
			// clears the capabilities of a process whose user ids all
			// become non-zero, and the worker keeps none.
			cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID}
		}
		if into {
			cmd.SysProcAttr.UseCgroupFD = true
			cmd.SysProcAttr.CgroupFD = group.FD()
		}
		return cmd
	}
	if group != nil && !p.noCgroupFD.Load() {
		cmd = build(true)
		err = cmd.Start()
		if err == nil {
			return cmd, true, nil
		}
		var errno syscall.Errno
		if !errors.As(err, &errno) || !cloneIntoCgroupRefused[errno] {
			return cmd, false, err
		}
		p.noCgroupFD.Store(true)
		p.log.Info("cannot start workers directly in their cgroups; moving each after it starts", "err", err)
	}
	cmd = build(false)
	return cmd, false, cmd.Start()
}

// cloneIntoCgroupRefused lists the errors of a clone3 with
// CLONE_INTO_CGROUP that mean "not this way" rather than "not at all".
var cloneIntoCgroupRefused = map[syscall.Errno]bool{
	syscall.ENOSYS: true, syscall.EPERM: true, syscall.EINVAL: true, syscall.EACCES: true,
	syscall.EOPNOTSUPP: true, syscall.E2BIG: true,
}

// spawn starts worker i.
func (p *Pool) spawn(i int) (*worker, error) {
	p.mu.Lock()
	ec := p.cfg.Engine
	p.mu.Unlock()
	engineJSON, err := json.Marshal(ec)
	if err != nil {
		return nil, fmt.Errorf("encode the workers' engine settings: %w", err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("make the worker's pipes: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	env := append(append([]string(nil), p.cfg.Env...), envEngine+"="+string(engineJSON))
	if !slices.ContainsFunc(p.cfg.Env, func(v string) bool { return strings.HasPrefix(v, "GOMAXPROCS=") }) {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(p.cfg.Procs))
	}
	env = workerEnv(env)
	var group *cgroups.Group
	if p.groups != nil {
		group = p.groups[i]
	}
	cmd, placed, err := p.start(env, group, inR, outW, errW)
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		if u := p.cfg.User; u != nil && errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("start executor worker %s as user %s: %w: that user must be able to execute the binary (and, unless it is run through %s, search the directories above it)",
				p.cfg.Command[0], u, err, selfExe)
		}
		return nil, fmt.Errorf("start executor worker %s: %w", p.cfg.Command[0], err)
	}
	var oomBase int64
	if group != nil {
		oomBase = group.OOMKills()
		if !placed {
			if err := group.Add(cmd.Process.Pid); err != nil {
				p.log.Warn("put the worker in its cgroup; its memory is watched from /proc only", "worker", i, "err", err)
				group = nil
			}
		}
	}
	w := &worker{p: p, idx: i, pid: cmd.Process.Pid, proc: cmd.Process, stdin: inW, started: time.Now(), gone: make(chan struct{}),
		group: group, oomBase: oomBase}
	w.client = wire.NewClient(outR, inW, func(error) {
		// The worker's output ended: it is dying or dead. The reaper
		// closes the client once it knows why.
		w.mu.Lock()
		if w.reason == nil {
			w.reason = &death{engine.CodeExecutorCrashed, "the worker closed its output"}
		}
		w.mu.Unlock()
		_ = w.proc.Kill()
	}, wire.WithData(p.cfg.Data))
	stderrDone := make(chan struct{})
	go w.copyStderr(errR, stderrDone)
	stopPoll := make(chan struct{})
	if p.cfg.MaxMemoryBytes > 0 {
		go w.pollMemory(stopPoll)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		state, _ := cmd.Process.Wait()
		close(stopPoll)
		select {
		case <-stderrDone:
		case <-time.After(time.Second):
		}
		outR.Close()
		inW.Close()
		d := w.classify(state, w.group != nil && w.group.OOMKills() > w.oomBase)
		p.blame(w, d)
		w.client.Close(d)
		lived := time.Since(w.started)
		if d.msg != stopMsg {
			p.log.Warn("executor worker ended", "worker", i, "pid", w.pid, "code", d.code, "reason", d.msg, "lived", lived.Round(time.Millisecond))
		}
		close(w.gone)
		p.exited(i, w, d, lived, w.backoff)
	}()
	p.log.Debug("executor worker started", "worker", i, "pid", w.pid)
	return w, nil
}

const stopMsg = "stopped"

// stop asks the worker to finish its executions and exit.
func (w *worker) stop() {
	w.mu.Lock()
	if w.reason == nil {
		w.reason = &death{engine.CodeExecutorRestarted, stopMsg}
	}
	w.mu.Unlock()
	_ = w.stdin.Close()
}

// kill records why and sends SIGKILL; the first reason stays.
func (w *worker) kill(code, msg string) {
	w.mu.Lock()
	if w.reason == nil || w.reason.msg == stopMsg {
		w.reason = &death{code, msg}
	}
	w.mu.Unlock()
	_ = w.proc.Kill()
}

// dying reports whether the pool has given up on the worker.
func (w *worker) dying() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reason != nil
}

// classify says why the worker ended: the pool's reason if it killed it,
// else the kernel's OOM killer if it ended a process in the worker's cgroup
// (oomKilled), else what the Go runtime printed before dying.
func (w *worker) classify(state *os.ProcessState, oomKilled bool) *death {
	w.mu.Lock()
	defer w.mu.Unlock()
	oom := &death{engine.CodeMemoryLimit, fmt.Sprintf("the kernel ended the worker at its memory ceiling of %d MiB (memory.max of its cgroup)",
		w.p.cfg.MaxMemoryBytes>>20)}
	if w.reason != nil && w.reason.code != engine.CodeExecutorCrashed {
		switch {
		case w.reason.msg != stopMsg:
			return w.reason
		case oomKilled:
			return oom
		case state == nil || !state.Success():
			return &death{engine.CodeExecutorCrashed, "the worker failed while stopping: " + firstFatal(w.tail.String())}
		}
		return w.reason
	}
	if oomKilled {
		return oom
	}
	tail := strings.Join(w.fatal, "\n") + "\n" + w.tail.String()
	switch {
	case strings.Contains(tail, "out of memory") || strings.Contains(tail, "cannot allocate memory"):
		return &death{engine.CodeMemoryLimit, "the worker ran out of memory"}
	case strings.Contains(tail, "stack overflow") || strings.Contains(tail, "stack exceeds"):
		return &death{engine.CodeStackLimit, "the worker overflowed its stack"}
	}
	msg := "the worker exited"
	if state != nil {
		msg = "the worker ended: " + state.String()
	}
	if line := firstFatal(tail); line != "" {
		msg += " (" + line + ")"
	}
	return &death{engine.CodeExecutorCrashed, msg}
}

// firstFatal picks the Go runtime's "fatal error:" or "panic:" line.
func firstFatal(tail string) string {
	for _, l := range strings.Split(tail, "\n") {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") {
			return l
		}
	}
	return ""
}

// copyStderr forwards the worker's log lines and keeps the last few KiB for
// the post-mortem.
func (w *worker) copyStderr(r io.ReadCloser, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	crashing := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "runtime:") {
			crashing = true
		}
		w.mu.Lock()
		w.tail.add(line)
		if crashing && len(w.fatal) < 6 {
			w.fatal = append(w.fatal, line)
		}
		w.mu.Unlock()
		if crashing {
			continue // a goroutine dump: kept in the tail, not logged line by line
		}
		w.p.log.Info(line, "worker", w.idx, "pid", w.pid)
	}
}

// pollMemory kills the worker when its anonymous memory passes the
// ceiling. It does not count the whole resident set: that also holds the
// pages of the binary the worker shares with the daemon (15 to 50 MiB),
// which are no script's doing and which the kernel can drop; counted, they
// let the garbage of one large execution take the worker over its ceiling
// after that execution ended, and end the next one, innocent, with
// limit.memory. When the kernel enforces the ceiling in the worker's
// cgroup, the poll is only a second line and allows an eighth over the
// ceiling, which the kernel never lets the worker reach.
func (w *worker) pollMemory(stop <-chan struct{}) {
	t := time.NewTicker(w.p.cfg.PollInterval)
	defer t.Stop()
	path := "/proc/" + strconv.Itoa(w.pid) + "/statm"
	page := int64(os.Getpagesize())
	limit := w.p.cfg.MaxMemoryBytes
	if w.group != nil && w.group.Memory {
		limit += limit / 8
	}
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if n := readAnon(path, page); n > limit {
			w.kill(engine.CodeMemoryLimit, fmt.Sprintf("the worker's anonymous memory reached %.1f MiB, over the ceiling of %d MiB",
				float64(n)/(1<<20), w.p.cfg.MaxMemoryBytes>>20))
			return
		}
	}
}

// readRSS returns the resident set size from a /proc/PID/statm file; 0 if
// unreadable.
func readRSS(path string, page int64) int64 {
	f := statm(path)
	if len(f) < 2 {
		return 0
	}
	return f[1] * page
}

// readAnon returns the resident memory not backed by a file (resident
// minus shared) from a /proc/PID/statm file; 0 if unreadable.
func readAnon(path string, page int64) int64 {
	f := statm(path)
	if len(f) < 3 {
		return 0
	}
	return (f[1] - f[2]) * page
}

// statm reads the numbers of a /proc/PID/statm file, in pages.
func statm(path string) []int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []int64
	for _, f := range bytes.Fields(b) {
		n, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return nil
		}
		out = append(out, n)
	}
	return out
}

// tailBuffer keeps the last lines written, up to 8 KiB.
type tailBuffer struct {
	lines []string
	size  int
}

func (t *tailBuffer) add(l string) {
	if len(l) > 1024 {
		l = l[:1024]
	}
	t.lines = append(t.lines, l)
	t.size += len(l)
	for t.size > 8<<10 && len(t.lines) > 1 {
		t.size -= len(t.lines[0])
		t.lines = t.lines[1:]
	}
}

func (t *tailBuffer) String() string { return strings.Join(t.lines, "\n") }
