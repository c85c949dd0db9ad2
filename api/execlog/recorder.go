// Package execlog records script executions: it buffers records in memory
// and writes them in batches, so that a busy route does not write to the SD
// card once per request; it applies the log's retention; and it fans records
// out live to subscribers (the log stream of the TUI and the dashboard).
package execlog

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/api/model"
)

// Store is where batches go.
type Store interface {
	InsertExecutions(ctx context.Context, recs []model.ExecutionRecord) error
	PruneExecutions(ctx context.Context, before time.Time, maxRecords int) (int64, error)
}

// Config tunes the recorder.
type Config struct {
	FlushInterval time.Duration // how often the buffer is written
	BatchSize     int           // a full batch is written at once
	BufferSize    int           // records held before new ones are dropped
	Retention     time.Duration // records older than this are deleted
	MaxRecords    int           // at most this many records are kept
	PruneInterval time.Duration // how often retention runs
}

func (c *Config) defaults() {
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.BufferSize <= 0 {
		c.BufferSize = 10000
	}
	if c.PruneInterval <= 0 {
		c.PruneInterval = 10 * time.Minute
	}
}

// opTimeout bounds one database write or prune.
const opTimeout = 30 * time.Second

// Recorder buffers, writes, prunes and publishes execution records.
type Recorder struct {
	cfg      Config
	store    Store
	log      *slog.Logger
	hub      *Hub
	in       chan model.ExecutionRecord
	dropped  atomic.Int64
	lowDisk  atomic.Bool
	pruneNow chan struct{}
	done     chan struct{}
	stop     context.CancelFunc
	once     sync.Once
}

// NewRecorder returns a Recorder writing to store.
func NewRecorder(cfg Config, store Store, hub *Hub, logger *slog.Logger) *Recorder {
	cfg.defaults()
	return &Recorder{
		cfg: cfg, store: store, hub: hub,
		log:      logger.With("component", "execlog"),
		in:       make(chan model.ExecutionRecord, cfg.BufferSize),
		done:     make(chan struct{}),
		pruneNow: make(chan struct{}, 1),
	}
}

// Record queues a record without blocking; when the buffer is full (the
// database is down or too slow) the record is dropped and counted.
func (r *Recorder) Record(rec model.ExecutionRecord) {
	r.hub.Publish(rec)
	if r.lowDisk.Load() && len(rec.Console) > lowDiskConsoleBytes {
		rec.Console = consoleNotKept(rec.CreatedAt)
	}
	select {
	case r.in <- rec:
	default:
		if r.dropped.Add(1)%1000 == 1 {
			r.log.Warn("execution log buffer full, dropping records", "dropped", r.dropped.Load())
		}
	}
}

// While the disk is nearly full, the log keeps each record but not console
// output over lowDiskConsoleBytes (live subscribers still see it), and
// keeps at most half of MaxRecords: it must not be what fills the disk.
const lowDiskConsoleBytes = 1 << 10

// consoleNotKept is the console a record keeps instead of its output.
func consoleNotKept(at time.Time) json.RawMessage {
	b, _ := json.Marshal([]struct {
		Time    time.Time `json:"time"`
		Level   string    `json:"level"`
		Message string    `json:"message"`
	}{{at, "warn", "console output not kept: the disk holding the database is nearly full"}})
	return b
}

// SetLowDisk tells the recorder whether the disk holding the database is
// nearly full; when it becomes so, the log is pruned at once.
func (r *Recorder) SetLowDisk(low bool) {
	if r.lowDisk.Swap(low) == low || !low {
		return
	}
	select {
	case r.pruneNow <- struct{}{}:
	default:
	}
}

// Queued is how many records wait to be written.
func (r *Recorder) Queued() int { return len(r.in) }

// Dropped reports how many records were dropped.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Start runs the writer until Shutdown.
func (r *Recorder) Start(ctx context.Context) error {
	ctx, r.stop = context.WithCancel(context.WithoutCancel(ctx))
	go r.loop(ctx)
	return nil
}

// Shutdown stops the writer after writing what is buffered.
func (r *Recorder) Shutdown(ctx context.Context) error {
	r.once.Do(func() {
		if r.stop != nil {
			r.stop()
		} else {
			close(r.done)
		}
	})
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Recorder) loop(ctx context.Context) {
	defer close(r.done)
	flush := time.NewTicker(r.cfg.FlushInterval)
	defer flush.Stop()
	prune := time.NewTicker(r.cfg.PruneInterval)
	defer prune.Stop()
	batch := make([]model.ExecutionRecord, 0, r.cfg.BatchSize)
	// A batch the database could not take (it is restarting, say) is kept
	// and written again after a pause, up to BufferSize records: beyond
	// that the oldest are dropped and counted. Records the database
	// refuses as invalid would never go in, and are dropped at once.
	var retry backoff
	// Writes outlive the stop signal, so that what is buffered at shutdown
	// is still written; each is bounded by its own timeout.
	write := func(final bool) {
		if len(batch) == 0 || (!final && !retry.due(time.Now())) {
			return
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
		defer cancel()
		err := r.store.InsertExecutions(wctx, batch)
		switch {
		case err == nil:
			if retry.failing() {
				r.log.Info("execution log written again after a failure", "records", len(batch))
			}
			retry.reset()
		case errors.Is(err, model.ErrInvalid) || final:
			r.log.Error("write execution records; dropping them", "records", len(batch), "err", err)
			r.dropped.Add(int64(len(batch)))
			retry.reset()
		default:
			if !retry.failing() {
				r.log.Warn("write execution records; keeping them to write again", "records", len(batch), "err", err)
			}
			retry.fail(time.Now())
			if over := len(batch) - r.cfg.BufferSize; over > 0 {
				r.dropped.Add(int64(over))
				batch = append(batch[:0], batch[over:]...)
			}
			return
		}
		batch = batch[:0]
	}
	r.prune(ctx)
	for {
		select {
		case rec := <-r.in:
			batch = append(batch, rec)
			if len(batch) >= r.cfg.BatchSize {
				write(false)
			}
		case <-flush.C:
			write(false)
		case <-prune.C:
			r.prune(ctx)
		case <-r.pruneNow:
			write(false)
			r.prune(ctx)
		case <-ctx.Done():
		drain:
			for {
				select {
				case rec := <-r.in:
					batch = append(batch, rec)
				default:
					break drain
				}
			}
			write(true)
			return
		}
	}
}

func (r *Recorder) prune(ctx context.Context) {
	if r.cfg.Retention <= 0 || r.cfg.MaxRecords <= 0 {
		return
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
	defer cancel()
	keep := r.cfg.MaxRecords
	if r.lowDisk.Load() {
		keep = max(keep/2, 1)
	}
	n, err := r.store.PruneExecutions(pctx, time.Now().Add(-r.cfg.Retention), keep)
	if err != nil {
		r.log.Error("prune execution records", "err", err)
		return
	}
	if n > 0 {
		r.log.Info("pruned execution records", "deleted", n)
	}
}

// backoff paces the writes after a failure: 1 s, doubling up to 30 s.
type backoff struct {
	next  time.Time
	pause time.Duration
}

func (b *backoff) failing() bool { return b.pause > 0 }

func (b *backoff) due(now time.Time) bool { return !now.Before(b.next) }

func (b *backoff) fail(now time.Time) {
	b.pause = min(max(2*b.pause, time.Second), 30*time.Second)
	b.next = now.Add(b.pause)
}

func (b *backoff) reset() { *b = backoff{} }
