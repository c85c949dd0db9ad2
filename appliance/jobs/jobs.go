// Package jobs is PiCloud's job engine: River (github.com/riverqueue/river)
// on the daemon's PostgreSQL, whose schema PiCloud's migrations hold. It
// runs the jobs of triggers (cron runs) and the runs of invoke.later,
// each kind a River worker of its own, and plans their runs in the
// transaction of the change that asks for them. Queue batches and
// received email are leased from their own tables (queue_messages,
// email_inbox) and delivered under the same background share.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/engine"
)

// Runner runs a script for background work under its share of the
// concurrency cap (orchestrator.RunBackground).
// It also finds the scripts that invoke.later names.
type Runner interface {
	RunBackground(ctx context.Context, scriptID string, call orchestrator.Call) (*engine.Result, bool, error)
	// ScriptID is the id of the active script of app appID called name;
	// false if there is none.
	ScriptID(ctx context.Context, appID, name string) (string, bool, error)
}

// Config tunes the engine.
type Config struct {
	// Workers is how many jobs run at once: the orchestrator's background
	// slots, so that a job never waits for one long.
	Workers int
	// RunTimeout is the longest a run may take: the wall-time ceiling and
	// a margin. A run of a daemon that died is taken up again after it.
	RunTimeout time.Duration
	// CronSeconds reads cron schedules with a leading seconds field
	// (tests only).
	CronSeconds bool
	// InvokeRetryUnit, when above zero, makes the backoff of failed
	// invoke.later runs attempt⁴ times this instead of attempt⁴ seconds
	// (tests only, which cannot wait minutes).
	InvokeRetryUnit time.Duration
	// EmailRetryWait, when above zero, is the wait after a received
	// message's first failed delivery instead of 30 s (tests only).
	EmailRetryWait time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Engine is the job engine. Plan, RunNow and Unplan make it the manager's
// Scheduler.
type Engine struct {
	cfg    Config
	pool   *pgxpool.Pool
	store  *store.Store
	runner Runner
	client *river.Client[pgx.Tx]
	log    *slog.Logger

	queues       *consumers
	stopConsumer context.CancelFunc // stops the polling
	stopDeliver  context.CancelFunc // cuts the batches in delivery
	consumerDone chan struct{}
	listenDone   chan struct{}

	inbox     *inbox
	stopInbox context.CancelFunc
	inboxDone chan struct{}
}

// queueCron is River's queue of cron runs.
const queueCron = "cron"

// fetchPoll is how often River looks for jobs that became due: a run
// starts within this of its time.
const fetchPoll = 500 * time.Millisecond

// schedulerLead is how early a planned run is handed to River, which
// makes scheduled jobs available every 5 seconds (its scheduler's
// interval): the job then waits for its exact time on its own (see
// runCron), which River polls for every fetchPoll.
const schedulerLead = 5 * time.Second

// rescueMargin is how long past RunTimeout a running job whose daemon died
// waits before River takes it up again.
const rescueMargin = 10 * time.Second

// New builds the engine on pool; it runs nothing until Start.
func New(pool *pgxpool.Pool, st *store.Store, runner Runner, cfg Config, logger *slog.Logger) (*Engine, error) {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &Engine{cfg: cfg, pool: pool, store: st, runner: runner, log: logger.With("component", "jobs")}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &cronWorker{e: e}); err != nil {
		return nil, fmt.Errorf("register the cron worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &invokeWorker{e: e}); err != nil {
		return nil, fmt.Errorf("register the invoke.later worker: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: map[string]river.QueueConfig{
			queueCron:   {MaxWorkers: cfg.Workers},
			queueInvoke: {MaxWorkers: cfg.Workers},
		},
		Workers:              workers,
		JobTimeout:           cfg.RunTimeout,
		RescueStuckJobsAfter: cfg.RunTimeout + rescueMargin,
		FetchPollInterval:    fetchPoll,
		Logger:               riverLogger(logger),
	})
	if err != nil {
		return nil, fmt.Errorf("build the job engine: %w", err)
	}
	e.client = client
	return e, nil
}

// Start plans the triggers that have no planned run (restored from a
// backup, or whose jobs were lost) and starts working jobs until Stop.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.PlanUnplanned(ctx); err != nil {
		return err
	}
	if err := e.client.Start(ctx); err != nil {
		return fmt.Errorf("start the job engine: %w", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	rctx, rcancel := context.WithCancel(ctx)
	e.stopConsumer, e.stopDeliver, e.consumerDone = cancel, rcancel, make(chan struct{})
	e.queues = newConsumers(e, rctx)
	e.queues.connect = func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, e.pool.Config().ConnConfig.Copy())
	}
	// The inbox first: the listener wakes it.
	ictx, icancel := context.WithCancel(ctx)
	e.inbox = newInbox(e, rctx)
	e.stopInbox, e.inboxDone = icancel, make(chan struct{})
	go func() {
		defer close(e.inboxDone)
		e.inbox.deliverAll(ictx)
	}()
	e.listenDone = make(chan struct{})
	go func() {
		defer close(e.consumerDone)
		e.queues.consume(cctx)
	}()
	go func() {
		defer close(e.listenDone)
		e.queues.listen(cctx)
	}()
	return nil
}

// stopQueues stops the queue consumers and the inbox delivery and waits,
// until ctx ends, for the batches and messages in delivery: one cut short
// comes again later.
func (e *Engine) stopQueues(ctx context.Context) {
	if e.stopConsumer == nil {
		return
	}
	e.stopConsumer()
	e.stopInbox()
	for _, done := range []chan struct{}{e.consumerDone, e.listenDone, e.inboxDone} {
		select {
		case <-done:
		case <-ctx.Done():
			e.stopDeliver()
			select {
			case <-done:
			case <-time.After(cancelWait):
			}
		}
	}
	e.stopDeliver()
}

// PlanUnplanned plans the next run of every cron trigger without one
// (restored from a backup, or its jobs lost), in one transaction. Two daemons doing it at once plan each slot once: a
// planned run is unique by trigger and slot.
func (e *Engine) PlanUnplanned(ctx context.Context) error {
	return e.store.Atomically(ctx, func(ctx context.Context) error {
		ts, err := e.store.UnplannedTriggers(ctx, model.TriggerCron, cronArgs{}.Kind())
		if err != nil {
			return err
		}
		for _, t := range ts {
			next, err := e.Plan(ctx, t)
			if err != nil {
				e.log.Warn("plan a trigger without a planned run", "trigger", t.ID, "err", err)
				continue
			}
			if err := e.store.SetTriggerNextRun(ctx, t.ID, next); err != nil {
				return err
			}
			e.log.Info("planned a trigger that had no planned run", "trigger", t.ID, "next", next)
		}
		return nil
	})
}

// Stop stops fetching jobs and waits, until ctx ends, for the running
// ones; then it cancels those still running, which River takes up again
// later (at the next start, or on another daemon).
func (e *Engine) Stop(ctx context.Context) error {
	e.stopQueues(ctx)
	err := e.client.Stop(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), cancelWait)
		defer cancel()
		if cerr := e.client.StopAndCancel(cctx); cerr == nil {
			return nil
		}
	}
	return fmt.Errorf("stop the job engine: %w", err)
}

// cancelWait is how long Stop waits for cancelled jobs to return.
const cancelWait = 5 * time.Second

// tx is the transaction of the Atomically ctx comes from.
func (e *Engine) tx(ctx context.Context, what string) (pgx.Tx, error) {
	tx, ok := e.store.Tx(ctx)
	if !ok {
		return nil, fmt.Errorf("%s: not in a transaction", what)
	}
	return tx, nil
}

// Plan schedules a trigger's first run, in the transaction of ctx.
func (e *Engine) Plan(ctx context.Context, t model.Trigger) (time.Time, error) {
	switch t.Type {
	case model.TriggerCron:
		s, _, err := e.cronSchedule(t)
		if err != nil {
			return time.Time{}, err
		}
		next := s.Next(e.cfg.Now())
		return next, e.insertCron(ctx, cronArgs{TriggerID: t.ID, Slot: next}, t)
	case model.TriggerQueue, model.TriggerEmail:
		return time.Time{}, nil // its messages come on their own
	default:
		return time.Time{}, fmt.Errorf("plan trigger %s: unknown type %q", t.ID, t.Type)
	}
}

// RunNow schedules one run of a trigger now, in the transaction of ctx.
func (e *Engine) RunNow(ctx context.Context, t model.Trigger) error {
	switch t.Type {
	case model.TriggerCron:
		return e.insertCron(ctx, cronArgs{TriggerID: t.ID, Slot: e.cfg.Now().UTC(), Manual: true}, t)
	case model.TriggerQueue:
		return fmt.Errorf("%w: a queue trigger runs when messages arrive in its queue; it cannot be run now", model.ErrInvalid)
	case model.TriggerEmail:
		return fmt.Errorf("%w: an email trigger runs when mail arrives for its address; it cannot be run now", model.ErrInvalid)
	default:
		return fmt.Errorf("run trigger %s: unknown type %q", t.ID, t.Type)
	}
}

// Unplan drops a trigger's runs that have not started, in the transaction
// of ctx. A run in progress finishes, and plans nothing after it.
func (e *Engine) Unplan(ctx context.Context, t model.Trigger) error {
	return e.store.DeletePendingJobs(ctx, cronArgs{}.Kind(), t.ID)
}
