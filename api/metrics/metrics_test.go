package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/appliance/testkit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestOutcome(t *testing.T) {
	for code, want := range map[string]string{
		"": OutcomeOK, "limit.time": OutcomeLimit, "limit.memory": OutcomeLimit, "script.exception": OutcomeException,
		"script.bad_response": OutcomeException, "execution.canceled": OutcomeCanceled, "executor.crashed": OutcomePlatform,
		"executor.unavailable": OutcomePlatform, "internal": OutcomePlatform,
	} {
		if got := Outcome(model.ExecutionRecord{ErrorCode: code}); got != want {
			t.Errorf("Outcome(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var s []int64
	for i := int64(1); i <= 100; i++ {
		s = append(s, i)
	}
	for _, c := range []struct {
		p    float64
		want int64
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("percentile(1..100, %v) = %d, want %d", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %d", got)
	}
}

// fixture is a database with an app's script, and rollups on it whose
// clock the test sets.
type fixture struct {
	st     *store.Store
	script string
	r      *Rollups
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	st := store.New(pgtest.NewDatabase(t))
	sc, err := st.CreateScript(context.Background(), model.DefaultAppID, "hello", "js", model.NewVersion{Source: "1", Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, script: sc.ID, now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f.r = NewRollups(st, quiet)
	f.r.now = func() time.Time { return f.now }
	return f
}

func (f *fixture) rec(at time.Time, us int64, status int, code string) model.ExecutionRecord {
	return model.ExecutionRecord{AppID: model.DefaultAppID, ScriptID: f.script, Status: status, DurationUS: us, ErrorCode: code, CreatedAt: at}
}

func (f *fixture) list(t *testing.T, step string) []model.Rollup {
	t.Helper()
	rs, err := f.st.ListRollups(context.Background(), model.RollupQuery{Step: step, Since: f.now.Add(-24 * time.Hour), AppIDs: []string{model.DefaultAppID}})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestRollupsByMinuteAndHour: a minute is written once it is over, with
// its count, errors and percentiles; late records of a written minute are
// merged into it; hours sum their minutes.
func TestRollupsByMinuteAndHour(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m1 := f.now.Add(-2 * time.Minute)
	for i := int64(1); i <= 100; i++ {
		status, code := 200, ""
		if i%10 == 0 {
			status, code = 500, "script.exception"
		}
		f.r.add(f.rec(m1.Add(time.Duration(i)*100*time.Millisecond), i*1000, status, code))
	}
	f.r.add(f.rec(f.now.Add(5*time.Second), 7000, 200, "")) // the current minute: not yet
	f.r.flush(ctx, false)

	rs := f.list(t, model.StepMinute)
	if len(rs) != 1 {
		t.Fatalf("%d minute rollups, want 1: %+v", len(rs), rs)
	}
	got := rs[0]
	if !got.At.Equal(m1) || got.Count != 100 || got.Errors != 10 || got.P50US != 50000 || got.P99US != 99000 || got.MaxUS != 100000 {
		t.Fatalf("minute rollup %+v", got)
	}

	// A late record of that minute, and the next minute once it is over.
	f.r.add(f.rec(m1.Add(30*time.Second), 1_000_000, 502, "executor.crashed"))
	f.now = f.now.Add(time.Minute)
	f.r.flush(ctx, false)
	rs = f.list(t, model.StepMinute)
	if len(rs) != 2 || rs[0].Count != 101 || rs[0].Errors != 11 || rs[0].MaxUS != 1_000_000 || rs[1].Count != 1 || rs[1].P50US != 7000 {
		t.Fatalf("after the late record: %+v", rs)
	}
	hours := f.list(t, model.StepHour)
	// 09:58 is in the hour of 09:00, the record at 10:00:05 in the next.
	if len(hours) != 2 || hours[0].Count != 101 || hours[0].Errors != 11 || hours[0].MaxUS != 1_000_000 || hours[1].Count != 1 {
		t.Fatalf("hour rollups %+v", hours)
	}
	if !hours[0].At.Equal(m1.Truncate(time.Hour)) || !hours[1].At.Equal(f.now.Truncate(time.Hour)) {
		t.Fatalf("hours at %v and %v", hours[0].At, hours[1].At)
	}
}

// TestRollupsRetention: minutes go after 7 days, hours after 90.
func TestRollupsRetention(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.now.Add(-8 * 24 * time.Hour)
	if err := f.st.AddMinuteRollups(ctx, []model.Rollup{
		{AppID: model.DefaultAppID, ScriptID: f.script, At: old, Count: 1, P50US: 1, P99US: 1, MaxUS: 1},
		{AppID: model.DefaultAppID, ScriptID: f.script, At: f.now.Add(-time.Hour), Count: 1, P50US: 1, P99US: 1, MaxUS: 1},
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.RollUpHours(ctx, old); err != nil {
		t.Fatal(err)
	}
	f.r.prune(ctx)
	rs, err := f.st.ListRollups(ctx, model.RollupQuery{Step: model.StepMinute, Since: old.Add(-time.Hour), AppIDs: []string{model.DefaultAppID}})
	if err != nil || len(rs) != 1 {
		t.Fatalf("minutes after the retention: %+v %v", rs, err)
	}
	hs, err := f.st.ListRollups(ctx, model.RollupQuery{Step: model.StepHour, Since: old.Add(-time.Hour), AppIDs: []string{model.DefaultAppID}})
	if err != nil || len(hs) != 2 {
		t.Fatalf("hours after the retention (both within 90 days): %+v %v", hs, err)
	}
}

// TestMetricsCountByName: invocations are counted under the app's and
// the script's names, with the outcome; nothing else becomes a label.
func TestMetricsCountByName(t *testing.T) {
	f := newFixture(t)
	m := New(f.st, nil, quiet)
	m.Start()
	for _, code := range []string{"", "", "limit.time"} {
		m.Record(f.rec(f.now, 1500, 200, code))
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP picloud_invocations_total Script invocations, by app, script, trigger and outcome (ok, exception, limit, canceled, platform).
# TYPE picloud_invocations_total counter
picloud_invocations_total{app="default",outcome="limit",script="hello",trigger="http"} 1
picloud_invocations_total{app="default",outcome="ok",script="hello",trigger="http"} 2
`
	if err := testutil.CollectAndCompare(m.invocations, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Fatalf("%d duration series, want 1", n)
	}
	if n := testutil.CollectAndCount(m.cronLag); n != 0 {
		t.Fatalf("%d cron lag series for requests, want none", n)
	}
}

// TestCronLag: cron runs are observed with how late they started, under
// the app's and the script's names; requests are not.
func TestCronLag(t *testing.T) {
	f := newFixture(t)
	m := New(f.st, nil, quiet)
	m.Start()
	for _, lag := range []time.Duration{30 * time.Millisecond, 4 * time.Second} {
		rec := f.rec(f.now, 1500, 200, "")
		rec.Trigger, rec.CronLag = "cron", lag
		m.Record(rec)
	}
	m.Record(f.rec(f.now, 1500, 200, ""))
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP picloud_cron_lag_seconds How long after its slot a cron run started, by app and script: a run after downtime, or one waiting for a free executor, shows here.
# TYPE picloud_cron_lag_seconds histogram
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="0.01"} 0
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="0.05"} 1
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="0.1"} 1
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="0.25"} 1
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="0.5"} 1
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="1"} 1
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="2.5"} 1
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="5"} 2
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="10"} 2
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="30"} 2
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="60"} 2
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="300"} 2
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="3600"} 2
picloud_cron_lag_seconds_bucket{app="default",script="hello",le="+Inf"} 2
picloud_cron_lag_seconds_sum{app="default",script="hello"} 4.03
picloud_cron_lag_seconds_count{app="default",script="hello"} 2
`
	if err := testutil.CollectAndCompare(m.cronLag, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// TestRollupsKeepWhatFailsToBeWritten: minutes that the database did not
// take are written at the next flush.
func TestRollupsKeepWhatFailsToBeWritten(t *testing.T) {
	f := newFixture(t)
	flaky := &failingStore{RollupStore: f.st, fail: 1}
	f.r.store = flaky
	f.r.add(f.rec(f.now.Add(-time.Minute), 1000, 200, ""))
	f.r.flush(context.Background(), false)
	if n := len(f.list(t, model.StepMinute)); n != 0 {
		t.Fatalf("%d rollups written by a failing store", n)
	}
	f.r.flush(context.Background(), false)
	testkit.Eventually(t, 5*time.Second, "the kept minute written", func() error {
		if n := len(f.list(t, model.StepMinute)); n != 1 {
			return fmt.Errorf("%d rollups", n)
		}
		return nil
	})
}

type failingStore struct {
	RollupStore
	fail int
}

func (s *failingStore) AddMinuteRollups(ctx context.Context, rs []model.Rollup) error {
	if s.fail > 0 {
		s.fail--
		return fmt.Errorf("connection refused")
	}
	return s.RollupStore.AddMinuteRollups(ctx, rs)
}
