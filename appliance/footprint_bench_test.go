package appliance

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/testkit"
)

// The footprint benchmark measures what a 512 MB board cares about, with
// wrk as the load generator (a C client costing a fraction of a Go one's
// CPU, so that the servers rather than the client are measured): req/s, CPU
// per request and p50/p99 latency of raw gin, Node.js and PiCloud; the
// proportional set size (PSS) of the daemon, each worker and PostgreSQL
// before the load, after each round of it and after a minute idle; the time from exec to
// READY=1; and the time from saving a script to its first answer.
//
// PiCloud runs here as the product does: the daemon starts and supervises
// its own private PostgreSQL under its data directory (not the test
// process's pgtest cluster), so the PostgreSQL counted is the product's,
// with its settings.

const (
	footprintStarts = 5 // timed starts to READY
	footprintSaves  = 7 // timed saves to live
)

// footprintIdle is how long the footprint benchmark leaves the servers
// idle after the load before it reads their memory again.
var footprintIdle = flag.Duration("footprint-idle", 60*time.Second, "idle time before the footprint benchmark reads memory again")

// footprintBoard runs PiCloud in the board profile: in a memory cgroup of
// a Raspberry Pi Zero 2 W's 512 MiB, with the two workers the daemon gives
// itself there (it sizes its memory limits from the cgroup's).
var footprintBoard = flag.Bool("board", false, "run PiCloud in a 512 MiB memory cgroup with two workers, as on a Pi Zero 2 W")

// footprintRun is one wrk run against one server.
type footprintRun struct {
	rps       float64
	cpuPerReq float64 // seconds of CPU of the server's process tree per request
	p50, p99  float64 // seconds
}

// footprintMemory is the PSS of one server's processes, in bytes.
type footprintMemory struct {
	total    int64
	daemon   int64   // PiCloud: the daemon process alone
	workers  []int64 // PiCloud: each executor worker
	postgres int64   // PiCloud: the postmaster and all its children
}

var (
	footprintMu      sync.Mutex
	footprintRuns    = map[string][]footprintRun{}               // "hello/gin/32" → one per round
	footprintMem     = map[string][]map[string]footprintMemory{} // "before load" | "after load" | "after idle" → one reading per round (after load) or one → server → PSS
	footprintReady   []time.Duration                             // exec → READY=1, on an initialised data directory
	footprintFirst   time.Duration                               // exec → READY=1 of the first start (initdb)
	footprintLive    []time.Duration                             // save → first answer from the new version
	footprintServers []string
)

// BenchmarkFootprint serves hello and the 1 KiB JSON echo from raw gin,
// Node.js's http (reference) and PiCloud (the daemon with its own private
// PostgreSQL and its executor workers), measured with wrk in interleaved
// rounds at 32 connections and at 1; then the memory, start and save
// figures of issue 18. It needs wrk on PATH.
func BenchmarkFootprint(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not on PATH (Debian: apt-get install wrk): no footprint benchmark")
	}
	duration := benchDuration()
	lua := filepath.Join(b.TempDir(), "echo.lua")
	if err := os.WriteFile(lua, []byte(wrkPostScript(echoBody)), 0o644); err != nil {
		b.Fatal(err)
	}

	d := newFootprintDaemon(b)
	first := d.start(b) // initdb, migrations
	footprintFirst = first
	d.stop(b)
	for i := 0; i < footprintStarts; i++ {
		footprintReady = append(footprintReady, d.start(b))
		d.stop(b)
	}
	d.start(b)
	token, ids := d.setUp(b, map[string]string{"/hello": helloScript, "/echo": echoScript, "/live": liveScript(0)})
	for i := 1; i <= footprintSaves; i++ {
		footprintLive = append(footprintLive, d.saveToLive(b, token, ids["/live"], i))
	}

	servers := map[string]server{"gin": startGin(b), "picloud": d.server}
	if n, ok := startNode(b); ok {
		servers["node"] = n
	}
	names := make([]string, 0, len(servers))
	for n, s := range servers {
		for _, l := range []load{helloLoad, echoLoad} {
			if err := probe(s.url, l); err != nil {
				b.Fatalf("%s %s: %v", n, l.path, err)
			}
		}
		names = append(names, n)
	}
	sort.Strings(names)
	footprintServers = names
	readMemory := func(when string) {
		m := map[string]footprintMemory{}
		for _, n := range names {
			if n == "picloud" {
				m[n] = d.memory(b)
			} else {
				m[n] = footprintMemory{total: treePSS(servers[n].pid)}
			}
		}
		footprintMu.Lock()
		footprintMem[when] = append(footprintMem[when], m)
		footprintMu.Unlock()
	}
	readMemory("before load")

	for r := 0; r < *rounds; r++ {
		for _, l := range []load{helloLoad, echoLoad} {
			bench := strings.Trim(l.path, "/")
			for _, n := range names {
				for _, conns := range []int{clients, 1} {
					key := fmt.Sprintf("%s/%s/%d", bench, n, conns)
					b.Run(key, func(b *testing.B) {
						run := runWrk(b, wrk, servers[n], l, lua, conns, duration)
						b.ReportMetric(0, "ns/op")
						b.ReportMetric(run.rps, "req/s")
						b.ReportMetric(run.cpuPerReq*1e6, "cpu-µs/req")
						b.ReportMetric(run.p50*1e6, "p50-µs")
						b.ReportMetric(run.p99*1e6, "p99-µs")
						footprintMu.Lock()
						footprintRuns[key] = append(footprintRuns[key], run)
						footprintMu.Unlock()
					})
				}
			}
		}
		readMemory("after load") // each round's: the median is reported
	}
	time.Sleep(*footprintIdle)
	readMemory("after idle")
}

// benchDuration is each wrk run's length: -benchtime when it is a
// duration, else 2 s.
func benchDuration() time.Duration {
	if f := flag.Lookup("test.benchtime"); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d >= time.Second {
			return d
		}
	}
	return 2 * time.Second
}

// wrkPostScript is wrk's Lua script that POSTs body as JSON.
func wrkPostScript(body []byte) string {
	return fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", body)
}

// runWrk runs wrk against s for d with conns connections and returns its
// throughput and latency, and the CPU time of the server's process tree
// per request.
func runWrk(b *testing.B, wrk string, s server, l load, lua string, conns int, d time.Duration) footprintRun {
	threads := min(conns, runtime.NumCPU())
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency"}
	if l.body != nil {
		args = append(args, "-s", lua)
	}
	args = append(args, s.url+l.path)
	cpu0 := treeCPU(s.pid)
	out, err := exec.Command(wrk, args...).CombinedOutput()
	cpu := treeCPU(s.pid) - cpu0
	if err != nil {
		b.Fatalf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	run, requests, err := parseWrk(string(out))
	if err != nil {
		b.Fatalf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	run.cpuPerReq = cpu.Seconds() / float64(requests)
	return run
}

// parseWrk reads wrk --latency's report; a run with failed requests is an
// error.
func parseWrk(out string) (footprintRun, int64, error) {
	var run footprintRun
	var requests int64
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "50%":
			run.p50 = parseWrkDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			run.p99 = parseWrkDuration(f[1])
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			requests, _ = strconv.ParseInt(f[0], 10, 64)
		case len(f) == 2 && f[0] == "Requests/sec:":
			run.rps, _ = strconv.ParseFloat(f[1], 64)
		case strings.HasPrefix(strings.TrimSpace(line), "Non-2xx or 3xx responses:"):
			return run, 0, errors.New("some answers were not 2xx")
		case strings.HasPrefix(strings.TrimSpace(line), "Socket errors:"):
			// wrk counts the connections it closes at the end as read
			// errors on some servers; only timeouts and connect errors
			// are failures.
			if !strings.Contains(line, "connect 0,") || !strings.HasSuffix(strings.TrimSpace(line), "timeout 0") {
				return run, 0, fmt.Errorf("socket errors: %s", strings.TrimSpace(line))
			}
		}
	}
	if requests == 0 || run.rps == 0 || run.p99 == 0 {
		return run, 0, errors.New("no requests, req/s or latency in wrk's report")
	}
	return run, requests, nil
}

// parseWrkDuration reads one of wrk's durations (850.00us, 1.20ms, 2.00s)
// in seconds.
func parseWrkDuration(s string) float64 {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"us", 1e-6}, {"ms", 1e-3}, {"m", 60}, {"s", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			if err != nil {
				return 0
			}
			return v * u.scale
		}
	}
	return 0
}

// liveScript answers with the version it is, for the save-to-live
// measurement.
func liveScript(version int) string {
	return fmt.Sprintf(`export default { fetch(request) { return new Response("version %d") } }`, version)
}

// footprintDaemon is the PiCloud daemon of the footprint benchmark, on a
// data directory of its own in which it keeps its private PostgreSQL.
type footprintDaemon struct {
	procs   string // the board profile's cgroup.procs, or ""
	dataDir string
	socket  string // NOTIFY_SOCKET, on which the daemon says READY=1
	notify  *net.UnixConn
	cmd     *exec.Cmd
	server  server
}

func newFootprintDaemon(b *testing.B) *footprintDaemon {
	// A directory PostgreSQL's own user can reach (the daemon runs it as an
	// unprivileged user when run as root); b.TempDir's parent is private.
	dir, err := os.MkdirTemp("", "picloud-footprint-")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	d := &footprintDaemon{dataDir: filepath.Join(dir, "data"), socket: filepath.Join(dir, "notify")}
	if *footprintBoard {
		d.procs = testkit.BoardCgroup(b)
	}
	if err := os.Mkdir(d.dataDir, 0o755); err != nil {
		b.Fatal(err)
	}
	d.notify, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: d.socket, Net: "unixgram"})
	if err != nil {
		b.Fatalf("listen for the daemon's READY=1: %v", err)
	}
	b.Cleanup(func() {
		d.stop(b)
		d.notify.Close()
		_ = os.RemoveAll(dir)
	})
	return d
}

// start execs the daemon and returns the time from exec to its READY=1.
func (d *footprintDaemon) start(b *testing.B) time.Duration {
	exe, _ := os.Executable()
	cmd := exec.Command(exe, argBenchD)
	cmd.Env = append(os.Environ(), envBenchData+"="+d.dataDir, "NOTIFY_SOCKET="+d.socket)
	if d.procs != "" {
		// The shell moves itself into the board's cgroup, then becomes the
		// daemon: PostgreSQL and the workers start inside it.
		argv := testkit.InCgroup(d.procs, exe, argBenchD)
		cmd = exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), envBenchData+"="+d.dataDir, "NOTIFY_SOCKET="+d.socket, "XWORKERS=2")
	}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the daemon: %v", err)
	}
	d.cmd = cmd
	buf := make([]byte, 4096)
	for {
		_ = d.notify.SetReadDeadline(time.Now().Add(2 * time.Minute))
		n, err := d.notify.Read(buf)
		if err != nil {
			b.Fatalf("the daemon sent no READY=1: %v", err)
		}
		if strings.Contains("\n"+string(buf[:n])+"\n", "\nREADY=1\n") {
			break
		}
	}
	ready := time.Since(begin)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("the daemon printed no address: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	d.server = server{url: "http://" + strings.TrimSpace(line), pid: cmd.Process.Pid}
	return ready
}

// stop ends the daemon with SIGTERM (it stops its PostgreSQL) and waits.
func (d *footprintDaemon) stop(b *testing.B) {
	if d.cmd == nil {
		return
	}
	cmd := d.cmd
	d.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		b.Errorf("the daemon did not stop within 30 s of SIGTERM")
		_ = cmd.Process.Kill()
		<-done
	}
}

// setUp makes the owner and binds each script to its path, returning the
// owner's token and the scripts' ids by path.
func (d *footprintDaemon) setUp(b *testing.B, scripts map[string]string) (string, map[string]string) {
	cfg := config.Default()
	cfg.DataDir = d.dataDir // the daemon's running cluster
	if _, err := AddUser(context.Background(), cfg, slog.New(slog.DiscardHandler), "bench", "bench-password", "owner"); err != nil {
		b.Fatal(err)
	}
	url := d.server.url
	token := postJSON(b, url+"/api/v1/admin/auth/login", "", `{"username":"bench","password":"bench-password"}`, "token")
	ids := map[string]string{}
	for path, source := range scripts {
		id := postJSON(b, url+"/api/v1/admin/scripts", token, fmt.Sprintf(`{"name":%q,"source":%q}`, strings.Trim(path, "/"), source), "id")
		postJSON(b, url+"/api/v1/admin/scripts/"+id+"/routes", token, `{"method":"*","path":"`+path+`"}`, "id")
		ids[path] = id
	}
	return token, ids
}

// saveToLive saves version n of the live script over the admin API (active
// at once) and returns the time from sending that request to the first
// answer of /live that comes from the new version, polling without pause.
func (d *footprintDaemon) saveToLive(b *testing.B, token, id string, n int) time.Duration {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	defer client.CloseIdleConnections()
	want := fmt.Sprintf("version %d", n)
	get := func() string {
		res, err := client.Get(d.server.url + "/live")
		if err != nil {
			b.Fatalf("GET /live: %v", err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return string(body)
	}
	if got := get(); got != fmt.Sprintf("version %d", n-1) {
		b.Fatalf("before saving version %d, /live answered %q", n, got)
	}
	req, _ := http.NewRequest("PUT", d.server.url+"/api/v1/admin/scripts/"+id, strings.NewReader(fmt.Sprintf(`{"source":%q}`, liveScript(n))))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	begin := time.Now()
	saved := make(chan error, 1)
	go func() {
		res, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				err = fmt.Errorf("%d %s", res.StatusCode, body)
			}
		}
		saved <- err
	}()
	deadline := begin.Add(30 * time.Second)
	for get() != want {
		if time.Now().After(deadline) {
			b.Fatalf("/live did not answer %q within 30 s of the save", want)
		}
	}
	live := time.Since(begin)
	if err := <-saved; err != nil {
		b.Fatalf("save version %d: %v", n, err)
	}
	return live
}

// postmaster is the PID of the daemon's private PostgreSQL, from its
// postmaster.pid.
func (d *footprintDaemon) postmaster(b *testing.B) int {
	raw, err := os.ReadFile(filepath.Join(d.dataDir, "postgres", "postmaster.pid"))
	if err != nil {
		b.Fatalf("find the daemon's PostgreSQL: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if err != nil {
		b.Fatalf("read postmaster.pid: %v", err)
	}
	return pid
}

// memory is the PSS of the daemon, of each of its executor workers and of
// PostgreSQL (the postmaster and all its children), and their sum with
// anything else the daemon started.
func (d *footprintDaemon) memory(b *testing.B) footprintMemory {
	daemon := d.server.pid
	pg := tree(d.postmaster(b))
	m := footprintMemory{daemon: pss(daemon)}
	for _, p := range pg {
		m.postgres += pss(p)
	}
	m.total = m.daemon + m.postgres
	for _, p := range tree(daemon)[1:] {
		if contains(pg, p) {
			continue
		}
		v := pss(p)
		m.total += v
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if strings.Contains(string(cmdline), argExecutor) {
			m.workers = append(m.workers, v)
		}
	}
	return m
}

// pss is the proportional set size of pid in bytes, from smaps_rollup:
// pages shared with other processes count in part, so a sum over
// processes counts each page once.
func pss(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "Pss:" && f[2] == "kB" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// treePSS is the PSS of pid and its descendants.
func treePSS(pid int) int64 {
	var t int64
	for _, p := range tree(pid) {
		t += pss(p)
	}
	return t
}

// spread is the median of xs with their minimum and maximum.
func spread(xs []float64) (med, lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return median(s), s[0], s[len(s)-1]
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// printFootprint prints the footprint benchmark's figures, medians of the
// rounds with their spread.
func printFootprint() {
	footprintMu.Lock()
	defer footprintMu.Unlock()
	if len(footprintRuns) == 0 {
		return
	}
	fmt.Printf("\nfootprint (wrk), %d CPUs (%s/%s), medians of %d rounds (min–max):\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, *rounds)
	of := func(key string, f func(footprintRun) float64) (float64, float64, float64) {
		var xs []float64
		for _, r := range footprintRuns[key] {
			xs = append(xs, f(r))
		}
		return spread(xs)
	}
	// ratio is a server's figure over gin's, round by round (the servers
	// of a round ran side by side).
	ratio := func(key, base string, f func(footprintRun) float64) (float64, float64, float64) {
		var xs []float64
		for i, r := range footprintRuns[key] {
			if i < len(footprintRuns[base]) {
				xs = append(xs, f(r)/f(footprintRuns[base][i]))
			}
		}
		return spread(xs)
	}
	rps := func(r footprintRun) float64 { return r.rps }
	cpu := func(r footprintRun) float64 { return r.cpuPerReq * 1e6 }
	p50 := func(r footprintRun) float64 { return r.p50 * 1e6 }
	p99 := func(r footprintRun) float64 { return r.p99 * 1e6 }
	for _, bench := range []string{"hello", "echo"} {
		for _, conns := range []int{clients, 1} {
			fmt.Printf("  %s, %d connection(s):\n", bench, conns)
			base := fmt.Sprintf("%s/gin/%d", bench, conns)
			for _, n := range footprintServers {
				key := fmt.Sprintf("%s/%s/%d", bench, n, conns)
				r, rlo, rhi := of(key, rps)
				q, qlo, qhi := ratio(key, base, rps)
				c, clo, chi := of(key, cpu)
				a, alo, ahi := of(key, p50)
				z, zlo, zhi := of(key, p99)
				zr, zrlo, zrhi := ratio(key, base, p99)
				fmt.Printf("    %-8s %7.0f req/s (%.0f–%.0f) %5.1f%% of gin (%.1f–%.1f)  %5.1f CPU-µs/req (%.1f–%.1f)  p50 %6.0f µs (%.0f–%.0f)  p99 %6.0f µs (%.0f–%.0f) %4.2f× gin's (%.2f–%.2f)\n",
					n, r, rlo, rhi, 100*q, 100*qlo, 100*qhi, c, clo, chi, a, alo, ahi, z, zlo, zhi, zr, zrlo, zrhi)
			}
		}
	}
	profile := ""
	if *footprintBoard {
		profile = ", board profile (512 MiB cgroup, two workers)"
	}
	fmt.Printf("  PSS (MiB), idle %s%s:\n", *footprintIdle, profile)
	for _, when := range []string{"before load", "after load", "after idle"} {
		readings := footprintMem[when]
		if len(readings) == 0 {
			continue
		}
		// mem is the median of a figure over the readings, with its
		// spread when there are several.
		mem := func(f func(map[string]footprintMemory) int64) string {
			var xs []float64
			for _, m := range readings {
				xs = append(xs, mib(f(m)))
			}
			med, lo, hi := spread(xs)
			if len(xs) == 1 {
				return fmt.Sprintf("%.1f", med)
			}
			return fmt.Sprintf("%.1f (%.1f–%.1f)", med, lo, hi)
		}
		var parts []string
		for _, n := range footprintServers {
			if n != "picloud" {
				parts = append(parts, n+" "+mem(func(m map[string]footprintMemory) int64 { return m[n].total }))
			}
		}
		var ws []string
		for i := range readings[0]["picloud"].workers {
			ws = append(ws, mem(func(m map[string]footprintMemory) int64 {
				if w := m["picloud"].workers; i < len(w) {
					return w[i]
				}
				return 0
			}))
		}
		pic := func(f func(footprintMemory) int64) string {
			return mem(func(m map[string]footprintMemory) int64 { return f(m["picloud"]) })
		}
		fmt.Printf("    %-16s picloud %s = daemon %s + workers %s + PostgreSQL %s (+ other %s); %s\n", when,
			pic(func(p footprintMemory) int64 { return p.total }),
			pic(func(p footprintMemory) int64 { return p.daemon }),
			strings.Join(ws, " + "),
			pic(func(p footprintMemory) int64 { return p.postgres }),
			pic(func(p footprintMemory) int64 { return p.total - p.daemon - p.postgres - sum(p.workers) }),
			strings.Join(parts, ", "))
	}
	durs := func(ds []time.Duration) string {
		var xs []float64
		for _, d := range ds {
			xs = append(xs, float64(d)/float64(time.Millisecond))
		}
		m, lo, hi := spread(xs)
		return fmt.Sprintf("%.0f ms (%.0f–%.0f, %d times)", m, lo, hi, len(xs))
	}
	fmt.Printf("  start to READY (PostgreSQL initialised): %s; the first start, with initdb: %.0f ms\n",
		durs(footprintReady), float64(footprintFirst)/float64(time.Millisecond))
	fmt.Printf("  save to live: %s\n", durs(footprintLive))
}

func sum(xs []int64) int64 {
	var t int64
	for _, x := range xs {
		t += x
	}
	return t
}
