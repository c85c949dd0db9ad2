package metrics

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/picloud/picloud/api/model"
)

// RollupStore keeps the rollups.
type RollupStore interface {
	AddMinuteRollups(ctx context.Context, rs []model.Rollup) error
	RollUpHours(ctx context.Context, since time.Time) error
	PruneRollups(ctx context.Context, minutes, hours time.Time) (int64, error)
}

// How long rollups are kept, and how often the finished minutes are
// written.
const (
	MinuteRetention = 7 * 24 * time.Hour
	HourRetention   = 90 * 24 * time.Hour
	flushInterval   = 10 * time.Second
	pruneInterval   = time.Hour
	// samplesKept bounds the durations a script's minute keeps for its
	// percentiles: past it, a uniform sample of them (reservoir sampling).
	samplesKept = 512
)

// Rollups counts each script's requests, errors and durations by minute in
// memory, writes each minute once it is over, rolls minutes up into hours
// and applies the retention.
type Rollups struct {
	store RollupStore
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	minutes map[minuteKey]*minute

	stop context.CancelFunc
	done chan struct{}
}

type minuteKey struct {
	app, script string
	at          time.Time // the minute's start
}

// minute is one script's invocations in one minute.
type minute struct {
	count, errors, max int64
	samples            []int64 // durations in µs, at most samplesKept
}

// NewRollups returns rollups kept in store.
func NewRollups(store RollupStore, logger *slog.Logger) *Rollups {
	return &Rollups{store: store, log: logger.With("component", "metrics"), now: time.Now,
		minutes: map[minuteKey]*minute{}, done: make(chan struct{})}
}

// failed reports whether a record counts as an error: a status of 500 or
// more, or an error of the script or the platform.
func failed(rec model.ExecutionRecord) bool { return rec.Status >= 500 || rec.ErrorCode != "" }

// add counts one execution in its minute.
func (r *Rollups) add(rec model.ExecutionRecord) {
	at := rec.CreatedAt
	if at.IsZero() {
		at = r.now()
	}
	k := minuteKey{rec.AppID, rec.ScriptID, at.UTC().Truncate(time.Minute)}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.minutes[k]
	if m == nil {
		m = &minute{}
		r.minutes[k] = m
	}
	m.count++
	if failed(rec) {
		m.errors++
	}
	d := rec.DurationUS
	m.max = max(m.max, d)
	if len(m.samples) < samplesKept {
		m.samples = append(m.samples, d)
	} else if i := rand.Int64N(m.count); i < samplesKept {
		m.samples[i] = d
	}
}

// Start writes finished minutes every flushInterval until Shutdown, which
// writes every minute still held.
func (r *Rollups) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go r.loop(ctx)
}

// Shutdown writes what is held and stops.
func (r *Rollups) Shutdown(ctx context.Context) error {
	if r.stop == nil {
		return nil
	}
	r.stop()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Rollups) loop(ctx context.Context) {
	defer close(r.done)
	flush := time.NewTicker(flushInterval)
	defer flush.Stop()
	prune := time.NewTicker(pruneInterval)
	defer prune.Stop()
	r.prune(ctx)
	for {
		select {
		case <-flush.C:
			r.flush(ctx, false)
		case <-prune.C:
			r.prune(ctx)
		case <-ctx.Done():
			r.flush(context.WithoutCancel(ctx), true)
			return
		}
	}
}

// flush writes the minutes that are over (all, at the end) and rolls the
// current and previous hours up again. Minutes that fail to be written
// are kept for the next flush.
func (r *Rollups) flush(ctx context.Context, all bool) {
	now := r.now().UTC().Truncate(time.Minute)
	r.mu.Lock()
	var rows []model.Rollup
	taken := map[minuteKey]*minute{}
	for k, m := range r.minutes {
		if all || k.at.Before(now) {
			rows = append(rows, m.rollup(k))
			taken[k] = m
			delete(r.minutes, k)
		}
	}
	r.mu.Unlock()
	if len(rows) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.store.AddMinuteRollups(wctx, rows); err != nil {
		r.log.Warn("write minute rollups; keeping them for the next try", "rows", len(rows), "err", err)
		r.mu.Lock()
		for k, m := range taken {
			if held := r.minutes[k]; held != nil { // counted meanwhile: merge
				held.merge(m)
			} else {
				r.minutes[k] = m
			}
		}
		r.mu.Unlock()
		return
	}
	if err := r.store.RollUpHours(wctx, now.Add(-time.Hour)); err != nil {
		r.log.Warn("roll up hours", "err", err)
	}
}

func (r *Rollups) prune(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	now := r.now()
	if _, err := r.store.PruneRollups(pctx, now.Add(-MinuteRetention), now.Add(-HourRetention)); err != nil && ctx.Err() == nil {
		r.log.Warn("prune rollups", "err", err)
	}
}

// rollup is the minute as a row.
func (m *minute) rollup(k minuteKey) model.Rollup {
	s := slices.Clone(m.samples)
	slices.Sort(s)
	return model.Rollup{AppID: k.app, ScriptID: k.script, Step: model.StepMinute, At: k.at,
		Count: m.count, Errors: m.errors, P50US: percentile(s, 0.50), P99US: percentile(s, 0.99), MaxUS: m.max}
}

// merge adds o's invocations to m.
func (m *minute) merge(o *minute) {
	m.count += o.count
	m.errors += o.errors
	m.max = max(m.max, o.max)
	for _, d := range o.samples {
		if len(m.samples) < samplesKept {
			m.samples = append(m.samples, d)
		}
	}
}

// percentile is the nearest-rank p-th percentile of sorted durations.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
