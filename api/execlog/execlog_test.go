package execlog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/api/execlog"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/appliance/testkit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func rec(i int, script string) model.ExecutionRecord {
	return model.ExecutionRecord{AppID: model.DefaultAppID, ScriptID: script, ScriptVersion: 1,
		RequestID: fmt.Sprint("r", i), Method: "GET", Path: "/", Status: 200, CreatedAt: time.Now()}
}

const scriptA = "00000000-0000-0000-0000-0000000000aa"

// TestBatchesReachTheDatabase: records are written in batches, and what is
// buffered at shutdown is written too.
func TestBatchesReachTheDatabase(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	r := execlog.NewRecorder(execlog.Config{FlushInterval: time.Hour, BatchSize: 10, Retention: time.Hour, MaxRecords: 1000},
		st, execlog.NewHub(), quiet)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 25; i++ {
		r.Record(rec(i, scriptA))
	}
	// Two full batches are written without waiting for the (hour-long) interval.
	testkit.Eventually(t, 5*time.Second, "two batches written before the interval", func() error {
		got, err := st.ListExecutions(context.Background(), model.LogQuery{Limit: 100})
		if err != nil {
			return err
		}
		if len(got) > 20 {
			t.Fatalf("%d records written before the interval, want 20 (two batches)", len(got))
		}
		if len(got) != 20 {
			return fmt.Errorf("%d records written", len(got))
		}
		return nil
	})
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := st.ListExecutions(context.Background(), model.LogQuery{Limit: 100})
	if len(got) != 25 {
		t.Fatalf("%d records after shutdown, want 25", len(got))
	}
}

func TestRetentionRunsAtStart(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	var old []model.ExecutionRecord
	for i := 0; i < 5; i++ {
		o := rec(i, scriptA)
		o.CreatedAt = time.Now().Add(-72 * time.Hour)
		old = append(old, o)
	}
	if err := st.InsertExecutions(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	r := execlog.NewRecorder(execlog.Config{Retention: 24 * time.Hour, MaxRecords: 100}, st, execlog.NewHub(), quiet)
	_ = r.Start(context.Background())
	_ = r.Shutdown(context.Background())
	if got, _ := st.ListExecutions(context.Background(), model.LogQuery{}); len(got) != 0 {
		t.Fatalf("%d old records survived retention", len(got))
	}
}

func TestFullBufferDropsInsteadOfBlocking(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	r := execlog.NewRecorder(execlog.Config{BufferSize: 3}, st, execlog.NewHub(), quiet)
	// Not started: nothing drains the buffer.
	for i := 0; i < 5; i++ {
		r.Record(rec(i, scriptA))
	}
	if r.Dropped() != 2 {
		t.Fatalf("dropped %d, want 2", r.Dropped())
	}
}

func TestHubFiltersAndNeverBlocks(t *testing.T) {
	h := execlog.NewHub()
	a := h.Subscribe(func(r model.ExecutionRecord) bool { return r.ScriptID == scriptA })
	all := h.Subscribe(nil)
	for i := 0; i < 1000; i++ { // far more than a subscriber buffers
		h.Publish(rec(i, scriptA))
		h.Publish(rec(i, "other"))
	}
	if got := (<-a.C).ScriptID; got != scriptA {
		t.Fatalf("filtered subscriber got %s", got)
	}
	if n := len(all.C); n == 0 {
		t.Fatal("unfiltered subscriber got nothing")
	}
	h.CloseAll()
	for range a.C { // drains, then ends: the channel is closed
	}
	a.Close() // closing twice is fine
}

// unreachable is the real store behind a database that fails the first
// writes, as one that is restarting does.
type unreachable struct {
	*store.Store
	failures atomic.Int32
}

func (u *unreachable) InsertExecutions(ctx context.Context, recs []model.ExecutionRecord) error {
	if u.failures.Add(-1) >= 0 {
		return errors.New("dial unix /run/postgresql/.s.PGSQL.5432: connect: no such file or directory")
	}
	return u.Store.InsertExecutions(ctx, recs)
}

// TestRecordsWaitForTheDatabase: records that the database could not take
// are kept and written once it answers again; none is lost.
func TestRecordsWaitForTheDatabase(t *testing.T) {
	st := &unreachable{Store: store.New(pgtest.NewDatabase(t))}
	st.failures.Store(2)
	r := execlog.NewRecorder(execlog.Config{FlushInterval: 10 * time.Millisecond, BatchSize: 5, Retention: time.Hour, MaxRecords: 1000},
		st, execlog.NewHub(), quiet)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	for i := 0; i < 12; i++ {
		r.Record(rec(i, scriptA))
	}
	testkit.Eventually(t, 30*time.Second, "every record written after the failures", func() error {
		got, err := st.ListExecutions(context.Background(), model.LogQuery{Limit: 100})
		if err != nil {
			return err
		}
		if len(got) != 12 {
			return fmt.Errorf("%d of 12 records written", len(got))
		}
		return nil
	})
	if r.Dropped() != 0 {
		t.Fatalf("%d records dropped", r.Dropped())
	}
}

// TestInvalidRecordsAreDropped: a batch the database refuses as invalid is
// dropped and counted, not retried for ever.
func TestInvalidRecordsAreDropped(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	r := execlog.NewRecorder(execlog.Config{FlushInterval: 10 * time.Millisecond, Retention: time.Hour, MaxRecords: 1000},
		st, execlog.NewHub(), quiet)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	bad := rec(0, scriptA)
	bad.AppID = "not an id"
	r.Record(bad)
	testkit.Eventually(t, 10*time.Second, "the invalid record dropped", func() error {
		if n := r.Dropped(); n != 1 {
			return fmt.Errorf("%d dropped", n)
		}
		return nil
	})
	r.Record(rec(1, scriptA))
	testkit.Eventually(t, 10*time.Second, "the next record written", func() error {
		got, err := st.ListExecutions(context.Background(), model.LogQuery{Limit: 100})
		if err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("%d records written", len(got))
		}
		return nil
	})
}

// TestLowDiskKeepsTheLogSmall: when the disk is nearly full the log is
// pruned at once to half its size and keeps no long console output.
func TestLowDiskKeepsTheLogSmall(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	var old []model.ExecutionRecord
	for i := 0; i < 10; i++ {
		old = append(old, rec(i, scriptA))
	}
	if err := st.InsertExecutions(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	r := execlog.NewRecorder(execlog.Config{FlushInterval: 10 * time.Millisecond, Retention: time.Hour, MaxRecords: 10},
		st, execlog.NewHub(), quiet)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	r.SetLowDisk(true)
	count := func(want int) func() error {
		return func() error {
			got, err := st.ListExecutions(context.Background(), model.LogQuery{Limit: 100})
			if err != nil {
				return err
			}
			if len(got) != want {
				return fmt.Errorf("%d records kept", len(got))
			}
			return nil
		}
	}
	testkit.Eventually(t, 10*time.Second, "the log pruned to half", count(5))

	long := rec(20, scriptA)
	long.Console = []byte(`[{"level":"info","message":"` + strings.Repeat("x", 4000) + `"}]`)
	r.Record(long)
	testkit.Eventually(t, 10*time.Second, "the record written", func() error {
		got, err := st.ListExecutions(context.Background(), model.LogQuery{Limit: 1})
		if err != nil || len(got) == 0 || got[0].RequestID != "r20" {
			return fmt.Errorf("newest: %v %v", got, err)
		}
		if c := string(got[0].Console); strings.Contains(c, "xxxx") || !strings.Contains(c, "disk") {
			t.Fatalf("console kept: %.200s", c)
		}
		return nil
	})
}
