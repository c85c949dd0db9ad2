package execlog_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
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
