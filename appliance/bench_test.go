package appliance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/workers"
)

// Arguments with which the test binary, re-executed, plays one of the
// processes of the tests and benchmarks instead of running tests.
// testWorkerCommand starts executor workers from this test binary, through
// /proc/self/exe as the daemon's own do: a daemon run by root starts its
// workers as an unprivileged user, who may not search the test binary's
// directory.
var testWorkerCommand = []string{"/proc/self/exe", argExecutor}

const (
	argExecutor  = "picloud-test-executor" // an executor worker
	argBenchD    = "picloud-bench-daemon"  // the daemon, configured from the environment
	argBenchGin  = "picloud-bench-gin"     // the raw gin baseline
	argBenchKV   = "picloud-bench-kv-gin"  // the raw gin + pgx baseline of kv
	envBenchDB   = "PICLOUD_BENCH_DATABASE_URL"
	envBenchData = "PICLOUD_BENCH_DATA_DIR"
	envBenchProf = "PICLOUD_BENCH_CPUPROFILE" // a file for the daemon's CPU profile, from start to SIGTERM
)

func TestMain(m *testing.M) {
	if len(os.Args) == 2 {
		switch os.Args[1] {
		case argExecutor:
			if err := workers.ServeWorker(context.Background(), os.Stdin, os.Stdout, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
				os.Exit(1)
			}
			os.Exit(0)
		case argBenchD:
			os.Exit(benchDaemon())
		case argBenchGin:
			os.Exit(benchGin())
		case argBenchKV:
			os.Exit(benchKVGin())
		}
	}
	pgtest.Main(func() int {
		code := m.Run()
		printSummary()
		printQueueSummary()
		printFootprint()
		return code
	})
}

// The servers under load run as processes of their own, so that each one's
// CPU time and memory are its own and the load generator (this process)
// weighs the same on all of them.

// benchDaemon runs the whole PiCloud daemon until SIGTERM, printing its
// address on the first line of its output.
func benchDaemon() int {
	cfg := config.Default()
	cfg.DatabaseURL = os.Getenv(envBenchDB)
	cfg.DataDir = os.Getenv(envBenchData)
	cfg.Listen = "127.0.0.1:0"
	cfg.SSHBind = ""
	if n, _ := strconv.Atoi(os.Getenv("XWORKERS")); n > 0 {
		cfg.Executors.Workers = n
	}
	if m := os.Getenv("XMODE"); m != "" {
		cfg.Executors.Mode = m
	}
	cfg.MaxConcurrentExecutions = 64
	if path := os.Getenv(envBenchProf); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// READY=1 goes to NOTIFY_SOCKET when set, as the daemon's own does
	// (the footprint benchmark times it); dropped otherwise.
	notify := NewSystemd(ctx, logger).Ready(ctx, "")
	ready := func(a net.Addr) { fmt.Println(a.String()); notify(a) }
	if err := Serve(ctx, cfg, logger, ready, WithWorkerCommand(testWorkerCommand)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// benchGin serves the baseline handlers from raw gin until SIGTERM.
func benchGin() int {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/hello", func(c *gin.Context) { c.String(http.StatusOK, "hello world") })
	r.POST("/echo", func(c *gin.Context) {
		var v any
		if err := c.ShouldBindJSON(&v); err != nil {
			c.String(http.StatusBadRequest, err.Error())
			return
		}
		c.JSON(http.StatusOK, v)
	})
	return serveGin(r)
}

// serveGin serves r on a loopback port until SIGTERM, printing its address
// on the first line of its output.
func serveGin(r *gin.Engine) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: r}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM)
		<-ch
		srv.Close()
	}()
	_ = srv.Serve(ln)
	return 0
}

// nodeServer is the Node.js baseline: the same two handlers on a plain
// `http` server.
const nodeServer = `
const http = require('http')
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/hello') {
    res.writeHead(200, {'Content-Type': 'text/plain'})
    res.end('hello world')
    return
  }
  if (req.method === 'POST' && req.url === '/echo') {
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      let v
      try { v = JSON.parse(Buffer.concat(chunks).toString()) } catch (e) { res.writeHead(400); res.end(String(e)); return }
      res.writeHead(200, {'Content-Type': 'application/json'})
      res.end(JSON.stringify(v))
    })
    return
  }
  res.writeHead(404); res.end()
})
server.keepAliveTimeout = 60000
server.listen(0, '127.0.0.1', () => console.log('127.0.0.1:' + server.address().port))
process.on('SIGTERM', () => process.exit(0))
`

// The scripts PiCloud serves for the same two handlers.
const (
	helloScript = `export default { fetch(request) { return new Response("hello world") } }`
	echoScript  = `export default { async fetch(request) { return Response.json(await request.json()) } }`
)

// server is one process under load.
type server struct {
	url string
	pid int
}

// startProcess runs cmd, reads the address it prints first, and stops it
// with SIGTERM when b ends.
func startProcess(b *testing.B, cmd *exec.Cmd) server {
	b.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", cmd.Path, err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("%s printed no address: %v", cmd.Path, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return server{url: "http://" + strings.TrimSpace(line), pid: cmd.Process.Pid}
}

func startGin(b *testing.B) server {
	exe, _ := os.Executable()
	return startProcess(b, exec.Command(exe, argBenchGin))
}

// startNode starts the Node.js baseline, or skips when node is missing.
func startNode(b *testing.B) (server, bool) {
	node, err := exec.LookPath("node")
	if err != nil {
		b.Log("node is not installed: no Node.js baseline")
		return server{}, false
	}
	return startProcess(b, exec.Command(node, "-e", nodeServer)), true
}

// startPiCloud runs the daemon on a fresh database with each script bound
// to its path.
func startPiCloud(b *testing.B, scripts map[string]string) server {
	s, _ := startPiCloudDB(b, scripts)
	return s
}

// startPiCloudDB is startPiCloud that also returns the URL of the daemon's
// database.
func startPiCloudDB(b *testing.B, scripts map[string]string) (server, string) {
	exe, _ := os.Executable()
	cmd := exec.Command(exe, argBenchD)
	dbURL := pgtest.NewDatabaseURL(b)
	cmd.Env = append(os.Environ(), envBenchDB+"="+dbURL, envBenchData+"="+b.TempDir())
	s := startProcess(b, cmd)

	cfg := config.Default()
	cfg.DatabaseURL = dbURL
	if _, err := AddUser(context.Background(), cfg, slog.New(slog.DiscardHandler), "bench", "bench-password", "owner"); err != nil {
		b.Fatal(err)
	}
	token := postJSON(b, s.url+"/api/v1/admin/auth/login", "", `{"username":"bench","password":"bench-password"}`, "token")
	paths := make([]string, 0, len(scripts))
	for p := range scripts {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		name := strings.Trim(path, "/")
		id := postJSON(b, s.url+"/api/v1/admin/scripts", token, fmt.Sprintf(`{"name":%q,"source":%q}`, name, scripts[path]), "id")
		postJSON(b, s.url+"/api/v1/admin/scripts/"+id+"/routes", token, `{"method":"*","path":"`+path+`"}`, "id")
	}
	return s, dbURL
}

func postJSON(b *testing.B, url, token, body, field string) string {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	var v map[string]any
	_ = json.Unmarshal(out, &v)
	s, ok := v[field].(string)
	if res.StatusCode >= 300 || !ok {
		b.Fatalf("POST %s: %d %s", url, res.StatusCode, out)
	}
	return s
}

// echoBody is the 1 KiB JSON document of the echo benchmark.
var echoBody = func() []byte {
	type item struct {
		ID    int      `json:"id"`
		Name  string   `json:"name"`
		Price float64  `json:"price"`
		Tags  []string `json:"tags"`
		Stock bool     `json:"in_stock"`
	}
	doc := map[string]any{"order": "A-10042", "customer": map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"}}
	var items []item
	for i := 0; ; i++ {
		items = append(items, item{ID: i, Name: "widget number " + strconv.Itoa(i), Price: 9.95 + float64(i), Tags: []string{"blue", "small"}, Stock: i%2 == 0})
		doc["items"] = items
		b, _ := json.Marshal(doc)
		if len(b) >= 1024 {
			return b
		}
	}
}()

// A load is one kind of request.
type load struct {
	path string
	body []byte // POST as JSON when set, else GET
	want func([]byte) error
	// keys, when set, adds ?n=i to the path of the i-th request, i counting
	// from 0 modulo keys: the key of a kv benchmark.
	keys int64
}

var (
	helloLoad = load{path: "/hello", want: func(b []byte) error {
		if string(b) != "hello world" {
			return fmt.Errorf("answered %q", b)
		}
		return nil
	}}
	echoLoad = load{path: "/echo", body: echoBody, want: func(b []byte) error {
		var got, want any
		if err := json.Unmarshal(b, &got); err != nil {
			return fmt.Errorf("answered %q: %v", b, err)
		}
		_ = json.Unmarshal(echoBody, &want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("echoed %s", b)
		}
		return nil
	}}
)

// clients is the number of concurrent clients of the throughput benchmarks.
const clients = 32

var rounds = flag.Int("rounds", 3, "interleaved rounds of each throughput benchmark")

// sample is one measured run of one server.
type sample struct {
	rps         float64 // requests per second
	cpuPerReq   float64 // CPU seconds of the server's processes per request
	mainPerReq  float64 // of which its main process's (not its workers')
	dbCPUPerReq float64 // CPU seconds of PostgreSQL's processes per request, when dbPID is set
}

// dbPID is the PostgreSQL postmaster whose processes' CPU time the
// benchmarks that use the database count too (0: none).
var dbPID atomic.Int64

var (
	resultsMu sync.Mutex
	results   = map[string]map[string][]sample{} // benchmark → server → the final run of each round
	memory    = map[string]map[string]string{}   // benchmark → server → memory after the load
	last      = map[string]sample{}              // the latest (largest b.N) run of each sub-benchmark
)

// compare runs the load against each server in turn, -rounds times, keeping
// the final (full-length) run of each round, so that the servers are
// measured interleaved rather than one after the other. Then it records
// each server's memory.
func compare(b *testing.B, bench string, l load, servers map[string]server) {
	names := make([]string, 0, len(servers))
	for n, s := range servers {
		if err := probe(s.url, l); err != nil {
			b.Fatalf("%s: %v", n, err)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for r := 0; r < *rounds; r++ {
		for _, n := range names {
			key := bench + "/" + n
			b.Run(n, func(b *testing.B) { run(b, servers[n], l, key) })
			resultsMu.Lock()
			if results[bench] == nil {
				results[bench] = map[string][]sample{}
			}
			results[bench][n] = append(results[bench][n], last[key])
			resultsMu.Unlock()
		}
	}
	resultsMu.Lock()
	defer resultsMu.Unlock()
	memory[bench] = map[string]string{}
	for _, n := range names {
		memory[bench][n] = treeMemory(servers[n].pid)
	}
}

// BenchmarkHello serves the same hello-world handler from raw gin, from a
// plain Node.js http server and from a PiCloud script route (through its
// executor workers), with 32 concurrent keep-alive clients on loopback.
func BenchmarkHello(b *testing.B) {
	servers := map[string]server{"gin": startGin(b), "picloud": startPiCloud(b, map[string]string{"/hello": helloScript})}
	if n, ok := startNode(b); ok {
		servers["node"] = n
	}
	compare(b, "hello", helloLoad, servers)
}

// BenchmarkEcho posts a 1 KiB JSON document that each server parses and
// sends back.
func BenchmarkEcho(b *testing.B) {
	servers := map[string]server{"gin": startGin(b), "picloud": startPiCloud(b, map[string]string{"/echo": echoScript})}
	if n, ok := startNode(b); ok {
		servers["node"] = n
	}
	compare(b, "echo", echoLoad, servers)
}

// newRequest makes the i-th request of the load.
func newRequest(url string, l load, i int64) *http.Request {
	path := l.path
	if l.keys > 0 {
		path += "?n=" + strconv.FormatInt(i%l.keys, 10)
	}
	if l.body == nil {
		req, _ := http.NewRequest("GET", url+path, nil)
		return req
	}
	req, _ := http.NewRequest("POST", url+path, bytes.NewReader(l.body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// probe checks that a server answers the load correctly before it is
// measured.
func probe(url string, l load) error {
	res, err := http.DefaultClient.Do(newRequest(url, l, 0))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", res.StatusCode, body)
	}
	return l.want(body)
}

// run sends b.N requests from 32 concurrent keep-alive clients and reports
// requests per second and the CPU time the server's processes spent.
func run(b *testing.B, s server, l load, key string) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	cpu0, main0 := treeCPU(s.pid), procCPU(s.pid)
	db := int(dbPID.Load())
	var dbCPU0 time.Duration
	if db != 0 {
		dbCPU0 = treeCPU(db)
	}
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				res, err := client.Do(newRequest(s.url, l, i-1))
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu, mainCPU := treeCPU(s.pid)-cpu0, procCPU(s.pid)-main0
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	smp := sample{rps: float64(b.N) / elapsed.Seconds(), cpuPerReq: cpu.Seconds() / float64(b.N), mainPerReq: mainCPU.Seconds() / float64(b.N)}
	b.ReportMetric(smp.rps, "req/s")
	b.ReportMetric(smp.cpuPerReq*1e6, "cpu-µs/req")
	if db != 0 {
		smp.dbCPUPerReq = (treeCPU(db) - dbCPU0).Seconds() / float64(b.N)
		b.ReportMetric(smp.dbCPUPerReq*1e6, "db-cpu-µs/req")
	}
	resultsMu.Lock()
	last[key] = smp
	resultsMu.Unlock()
}

// procs maps each process id to its parent's, from /proc.
func procs() map[int]int {
	out := map[int]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		f := statFields(d)
		if len(f) < 2 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		ppid, _ := strconv.Atoi(f[1])
		out[pid] = ppid
	}
	return out
}

// statFields returns the fields of /proc/PID/stat after the command name
// (field 3, the state, is the first).
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// tree lists pid and its descendants.
func tree(pid int) []int {
	parents := procs()
	out := []int{pid}
	for changed := true; changed; {
		changed = false
		for p, pp := range parents {
			for _, q := range out {
				if pp == q && !contains(out, p) {
					out = append(out, p)
					changed = true
				}
			}
		}
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// treeCPU is the CPU time (user and system) of pid and its descendants.
func treeCPU(pid int) time.Duration {
	var t time.Duration
	for _, p := range tree(pid) {
		t += procCPU(p)
	}
	return t
}

// procCPU is the CPU time (user and system) of pid alone.
func procCPU(pid int) time.Duration {
	f := statFields("/proc/" + strconv.Itoa(pid) + "/stat")
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)       // utime, field 14
	s, _ := strconv.ParseInt(f[12], 10, 64)       // stime, field 15
	return time.Duration(u+s) * time.Second / 100 // USER_HZ is 100 on Linux
}

// treeMemory describes the resident memory of pid and of each descendant.
func treeMemory(pid int) string {
	mib := func(p int) float64 {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/statm")
		f := strings.Fields(string(b))
		if len(f) < 2 {
			return 0
		}
		pages, _ := strconv.ParseInt(f[1], 10, 64)
		return float64(pages*int64(os.Getpagesize())) / (1 << 20)
	}
	ps := tree(pid)
	s := fmt.Sprintf("%.1f MiB", mib(pid))
	if len(ps) > 1 {
		var parts []string
		total := mib(pid)
		for _, p := range ps[1:] {
			parts = append(parts, fmt.Sprintf("%.1f", mib(p)))
			total += mib(p)
		}
		s = fmt.Sprintf("%.1f MiB = %.1f + workers %s", total, mib(pid), strings.Join(parts, " + "))
	}
	return s
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printSummary prints each server's median throughput against gin's, its
// CPU time per request and its memory after the load.
func printSummary() {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	benches := make([]string, 0, len(results))
	for n := range results {
		benches = append(benches, n)
	}
	sort.Strings(benches)
	for _, bench := range benches {
		base := results[bench]["gin"]
		if len(base) == 0 {
			continue
		}
		stat := func(ss []sample, f func(sample) float64) float64 {
			xs := make([]float64, len(ss))
			for i, s := range ss {
				xs[i] = f(s)
			}
			return median(xs)
		}
		rps := func(s sample) float64 { return s.rps }
		cpu := func(s sample) float64 { return s.cpuPerReq * 1e6 }
		dbCPU := func(s sample) float64 { return s.dbCPUPerReq * 1e6 }
		mainCPU := func(s sample) float64 { return s.mainPerReq * 1e6 }
		baseRPS := stat(base, rps)
		fmt.Printf("\n%s at %d concurrent clients, %d CPUs (%s/%s), medians of %d rounds:\n",
			bench, clients, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, len(base))
		names := make([]string, 0, len(results[bench]))
		for n := range results[bench] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ss := results[bench][n]
			db := ""
			if d := stat(ss, dbCPU); d > 0 {
				db = fmt.Sprintf(" + PostgreSQL %.1f", d)
			}
			if m := stat(ss, mainCPU); stat(ss, cpu)-m > 0.05 {
				db = fmt.Sprintf(" (main %.1f)", m) + db
			}
			fmt.Printf("  %-8s %8.0f req/s %6.1f%% of gin  %6.1f%s CPU-µs/req  RSS after load %s\n",
				n, stat(ss, rps), 100*stat(ss, rps)/baseRPS, stat(ss, cpu), db, memory[bench][n])
		}
	}
}
