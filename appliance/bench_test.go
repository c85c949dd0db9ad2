package appliance

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/workers"
)

func TestMain(m *testing.M) {
	// The daemons these tests start run their executor workers as this
	// test binary, re-executed with the argument below.
	if len(os.Args) == 2 && os.Args[1] == "picloud-test-executor" {
		if err := workers.ServeWorker(context.Background(), os.Stdin, os.Stdout, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if exe, err := os.Executable(); err == nil {
		WorkerCommand = []string{exe, "picloud-test-executor"}
	}
	pgtest.Main(func() int {
		code := m.Run()
		printRatios()
		return code
	})
}

// clients is the number of concurrent clients of the throughput benchmarks.
const clients = 32

var (
	rounds = flag.Int("rounds", 3, "interleaved rounds of each throughput benchmark")

	rpsMu sync.Mutex
	rps   = map[string][]float64{} // sub-benchmark name → requests per second of each round
	last  = map[string]float64{}   // the latest (largest b.N) run of each sub-benchmark
)

// compare runs each named load in turn, -rounds times, keeping the final
// (full-length) run of each round, so that the servers are measured
// interleaved rather than one after the other.
func compare(b *testing.B, loads map[string]string) {
	names := make([]string, 0, len(loads))
	for n := range loads {
		names = append(names, n)
	}
	sort.Strings(names)
	for r := 0; r < *rounds; r++ {
		for _, n := range names {
			b.Run(n, func(b *testing.B) { load(b, loads[n], n) })
			rpsMu.Lock()
			rps[n] = append(rps[n], last[n])
			rpsMu.Unlock()
		}
	}
}

// BenchmarkHello serves the same hello-world work from a raw gin handler and
// from a PiCloud script route, with 32 concurrent keep-alive clients on
// loopback. The ratio of the medians is printed at the end.
func BenchmarkHello(b *testing.B) {
	compare(b, map[string]string{
		"gin":     startGin(b) + "/hello",
		"picloud": startPiCloud(b, `export default { fetch(request) { return new Response("hello world") } }`, "/hello") + "/hello",
	})
}

// startGin serves the baseline: gin answering "hello world" as text/plain.
func startGin(b *testing.B) string {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/hello", func(c *gin.Context) { c.String(http.StatusOK, "hello world") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: r}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// startPiCloud runs the whole daemon on a fresh database with one script
// bound to path.
func startPiCloud(b *testing.B, source, path string) string {
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabaseURL(b)
	cfg.Listen = "127.0.0.1:0"
	cfg.MaxConcurrentExecutions = 64
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, logger, func(a net.Addr) { addrc <- a }) }()
	var url string
	select {
	case a := <-addrc:
		url = "http://" + a.String()
	case err := <-done:
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); <-done })

	if _, err := AddUser(ctx, cfg, logger, "bench", "bench-password", "owner"); err != nil {
		b.Fatal(err)
	}
	token := postJSON(b, url+"/api/v1/admin/auth/login", "", `{"username":"bench","password":"bench-password"}`, "token")
	id := postJSON(b, url+"/api/v1/admin/scripts", token, fmt.Sprintf(`{"name":"hello","source":%q}`, source), "id")
	postJSON(b, url+"/api/v1/admin/scripts/"+id+"/routes", token, `{"method":"*","path":"`+path+`"}`, "id")
	return url
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
	i := strings.Index(string(out), `"`+field+`":"`)
	if res.StatusCode >= 300 || i < 0 {
		b.Fatalf("POST %s: %d %s", url, res.StatusCode, out)
	}
	v := string(out[i+len(field)+4:])
	return v[:strings.IndexByte(v, '"')]
}

// load sends b.N GET requests from 32 concurrent keep-alive clients and
// reports requests per second.
func load(b *testing.B, url, name string) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				res, err := client.Get(url)
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
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	r := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(r, "req/s")
	rpsMu.Lock()
	last[name] = r
	rpsMu.Unlock()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printRatios prints each server's median throughput against gin's.
func printRatios() {
	rpsMu.Lock()
	defer rpsMu.Unlock()
	base := rps["gin"]
	if len(base) == 0 {
		return
	}
	fmt.Fprintf(os.Stdout, "\nthroughput at %d concurrent clients, %d CPUs (%s/%s), median of %d runs:\n",
		clients, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, len(base))
	names := make([]string, 0, len(rps))
	for n := range rps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stdout, "  %-10s %9.0f req/s  %5.1f%% of gin\n", n, median(rps[n]), 100*median(rps[n])/median(base))
	}
}
