package appliance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/appliance/store"
)

// The queue benchmark measures how fast the daemon drains a queue through
// a consumer that does nothing (acks every message by returning), and how
// the hello route answers while it does, against the same route with no
// queue work.

const (
	queueBenchMessages = 10_000 // messages sent per drain
	queueBenchBatch    = 100    // the consumer's max_batch_size
	latencyClients     = 4      // concurrent clients of the hello route while measuring latency
	idleLatencyFor     = 2 * time.Second
)

// noopConsumer acks each batch by returning.
const noopConsumer = `export default { queue(batch) {} }`

// queueBench is the setup of the queue benchmark: PiCloud with the hello
// route and a no-op consumer of the queue "bench".
type queueBench struct {
	hello server
	pool  *pgxpool.Pool
	app   string
}

func startQueueBench(b *testing.B) queueBench {
	ctx := context.Background()
	pc, dbURL := startPiCloudDB(b, map[string]string{"/hello": helloScript})
	token := postJSON(b, pc.url+"/api/v1/admin/auth/login", "", `{"username":"bench","password":"bench-password"}`, "token")
	id := postJSON(b, pc.url+"/api/v1/admin/scripts", token, fmt.Sprintf(`{"name":"consumer","source":%q}`, noopConsumer), "id")
	postJSON(b, pc.url+"/api/v1/admin/scripts/"+id+"/triggers", token,
		fmt.Sprintf(`{"type":"queue","queue":"bench","max_batch_size":%d,"max_wait_ms":0}`, queueBenchBatch), "id")
	pool, err := benchPool(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	var app string
	if err := pool.QueryRow(ctx, `SELECT app_id::text FROM scripts WHERE id = $1`, id).Scan(&app); err != nil {
		b.Fatalf("find the app of the consumer: %v", err)
	}
	if err := probe(pc.url, helloLoad); err != nil {
		b.Fatal(err)
	}
	return queueBench{hello: pc, pool: pool, app: app}
}

// drain sends queueBenchMessages messages to the queue "bench" in one
// statement, announced as a send announces them, and waits until the consumer has acked them all (none is
// left in the table), returning how long that took from before the send.
func (q queueBench) drain(b *testing.B) time.Duration {
	ctx := context.Background()
	start := time.Now()
	if _, err := q.pool.Exec(ctx, `
WITH sent AS (
  INSERT INTO queue_messages (app_id, queue, body)
  SELECT $1, 'bench', '{"n":' || g || '}' FROM generate_series(1, $2) g)
SELECT pg_notify($3, $4)`, q.app, queueBenchMessages, store.QueueChannel, store.QueueNotice(q.app, "bench")); err != nil {
		b.Fatalf("send the messages: %v", err)
	}
	deadline := start.Add(10 * time.Minute)
	for {
		var left, failed int
		if err := q.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'failed') FROM queue_messages
WHERE app_id = $1`, q.app).Scan(&left, &failed); err != nil {
			b.Fatalf("count the messages left: %v", err)
		}
		if failed > 0 {
			b.Fatalf("%d messages failed", failed)
		}
		if left == 0 {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d messages still not acked after 10 minutes", left, queueBenchMessages)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// latencies sends hello requests from latencyClients keep-alive clients
// until stop is closed, and returns each answered request's latency,
// sorted, and how many requests failed.
func latencies(s server, stop <-chan struct{}) ([]time.Duration, int) {
	tr := &http.Transport{MaxIdleConnsPerHost: latencyClients, MaxConnsPerHost: latencyClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var mu sync.Mutex
	var all []time.Duration
	var failed int
	var wg sync.WaitGroup
	for c := 0; c < latencyClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for {
				select {
				case <-stop:
					mu.Lock()
					all, failed = append(all, mine...), failed+bad
					mu.Unlock()
					return
				default:
				}
				t0 := time.Now()
				res, err := client.Do(newRequest(s.url, helloLoad, 0))
				if err != nil {
					bad++
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all, failed
}

// percentile is the p-th percentile (0 < p < 1) of sorted latencies, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(p*float64(len(sorted)-1))].Microseconds()) / 1000
}

// queueSample is one round of the queue benchmark.
type queueSample struct {
	msgsPerSec         float64 // draining alone
	busyMsgsPerSec     float64 // draining while the hello route is under load
	idleP50, idleP99   float64 // hello latency, ms, with no queue work
	busyP50, busyP99   float64 // hello latency, ms, while the queue drains
	idleReqs, busyReqs int
}

var queueSamples []queueSample

// BenchmarkQueueThroughput sends 10 000 messages at once to a queue whose
// consumer (max_batch_size 100) does nothing, and measures messages per
// second until all are acked; then the p50 and p99 of the hello route
// from 4 clients with no queue work (2 s) and while another 10 000
// messages drain. Rounds are interleaved; the summary prints medians.
func BenchmarkQueueThroughput(b *testing.B) {
	q := startQueueBench(b)
	for r := 0; r < *rounds; r++ {
		var smp queueSample
		b.Run("drain", func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				total += q.drain(b)
			}
			smp.msgsPerSec = float64(b.N*queueBenchMessages) / total.Seconds()
			b.ReportMetric(smp.msgsPerSec, "msgs/s")
		})
		b.Run("hello-idle", func(b *testing.B) {
			stop := make(chan struct{})
			time.AfterFunc(idleLatencyFor, func() { close(stop) })
			l, failed := latencies(q.hello, stop)
			if failed > 0 {
				b.Fatalf("%d hello requests failed", failed)
			}
			smp.idleP50, smp.idleP99, smp.idleReqs = percentile(l, 0.50), percentile(l, 0.99), len(l)
			b.ReportMetric(smp.idleP50, "p50-ms")
			b.ReportMetric(smp.idleP99, "p99-ms")
		})
		b.Run("hello-draining", func(b *testing.B) {
			stop := make(chan struct{})
			var l []time.Duration
			var failed int
			done := make(chan struct{})
			go func() { defer close(done); l, failed = latencies(q.hello, stop) }()
			var once sync.Once
			halt := func() { once.Do(func() { close(stop) }) }
			b.Cleanup(halt) // a drain that fails stops the clients too
			d := q.drain(b)
			halt()
			<-done
			if failed > 0 {
				b.Fatalf("%d hello requests failed", failed)
			}
			smp.busyMsgsPerSec = queueBenchMessages / d.Seconds()
			smp.busyP50, smp.busyP99, smp.busyReqs = percentile(l, 0.50), percentile(l, 0.99), len(l)
			b.ReportMetric(smp.busyP50, "p50-ms")
			b.ReportMetric(smp.busyP99, "p99-ms")
			b.ReportMetric(smp.busyMsgsPerSec, "msgs/s")
		})
		resultsMu.Lock()
		queueSamples = append(queueSamples, smp)
		resultsMu.Unlock()
	}
}

// printQueueSummary prints the medians of the queue benchmark's rounds.
func printQueueSummary() {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(queueSamples) == 0 {
		return
	}
	med := func(f func(queueSample) float64) float64 {
		xs := make([]float64, len(queueSamples))
		for i, s := range queueSamples {
			xs[i] = f(s)
		}
		return median(xs)
	}
	fmt.Printf("\nqueue: %d messages, no-op consumer, batch %d, %d CPUs (%s/%s), medians of %d rounds:\n",
		queueBenchMessages, queueBenchBatch, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, len(queueSamples))
	fmt.Printf("  drain alone            %8.0f msgs/s\n", med(func(s queueSample) float64 { return s.msgsPerSec }))
	fmt.Printf("  drain under HTTP load  %8.0f msgs/s\n", med(func(s queueSample) float64 { return s.busyMsgsPerSec }))
	idle50, idle99 := med(func(s queueSample) float64 { return s.idleP50 }), med(func(s queueSample) float64 { return s.idleP99 })
	busy50, busy99 := med(func(s queueSample) float64 { return s.busyP50 }), med(func(s queueSample) float64 { return s.busyP99 })
	fmt.Printf("  hello, %d clients, idle      p50 %6.2f ms  p99 %6.2f ms  (%.0f requests)\n", latencyClients, idle50, idle99,
		med(func(s queueSample) float64 { return float64(s.idleReqs) }))
	fmt.Printf("  hello, %d clients, draining  p50 %6.2f ms  p99 %6.2f ms  (%.0f requests)\n", latencyClients, busy50, busy99,
		med(func(s queueSample) float64 { return float64(s.busyReqs) }))
	if idle50 > 0 && idle99 > 0 {
		fmt.Printf("  draining / idle: p50 ×%.2f, p99 ×%.2f\n", busy50/idle50, busy99/idle99)
	}
}
