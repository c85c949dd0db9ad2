package appliance

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// queueIdleFor is how long the idle benchmark counts the daemon's
// transactions, after as long again to settle: PostgreSQL's statistics
// lag by up to a second or so, which this makes small.
const queueIdleFor = 20 * time.Second

// BenchmarkQueueIdle counts what an idle daemon with one queue trigger and
// no message asks of PostgreSQL: the transactions committed in its
// database per second (pg_stat_database.xact_commit, every statement
// outside a transaction is one), the job engine's own polls included.
func BenchmarkQueueIdle(b *testing.B) {
	ctx := context.Background()
	q := startQueueBench(b)
	commits := func() int64 {
		var n int64
		if err := q.pool.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
			b.Fatalf("read the database's commits: %v", err)
		}
		return n
	}
	for i := 0; i < b.N; i++ {
		time.Sleep(queueIdleFor)
		before := commits()
		time.Sleep(queueIdleFor)
		n := commits() - before - 1 // the read of before
		b.ReportMetric(float64(n)/queueIdleFor.Seconds(), "xact/s")
		fmt.Printf("\nidle daemon, one queue trigger, no message: %d transactions in %v, %.1f/s\n", n, queueIdleFor, float64(n)/queueIdleFor.Seconds())
	}
}
