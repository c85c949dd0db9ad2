package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/api/schedule"
	"github.com/picloud/picloud/engine"
)

// cronArgs is the job of one run of a cron trigger, for the slot it is
// due at. A planned run plans the next one when it ends; a manual one
// ("run now") plans nothing.
type cronArgs struct {
	TriggerID string    `json:"trigger_id"`
	Slot      time.Time `json:"slot"`
	Manual    bool      `json:"manual,omitempty"`
}

// Kind is River's name of the job.
func (cronArgs) Kind() string { return "picloud.cron" }

// busyRetry is how long a run waits when another run of its trigger holds
// the lease.
const busyRetry = time.Second

// cronWorker runs cron jobs.
type cronWorker struct {
	river.WorkerDefaults[cronArgs]
	e *Engine
}

// Timeout is the longest a run may take.
func (w *cronWorker) Timeout(*river.Job[cronArgs]) time.Duration { return w.e.cfg.RunTimeout }

// Work runs one cron job; see Engine.runCron.
func (w *cronWorker) Work(ctx context.Context, job *river.Job[cronArgs]) error {
	return w.e.runCron(ctx, job)
}

// cronSchedule parses a cron trigger's stored settings.
func (e *Engine) cronSchedule(t model.Trigger) (*schedule.Schedule, model.CronConfig, error) {
	var c model.CronConfig
	if err := json.Unmarshal(t.Config, &c); err != nil {
		return nil, c, fmt.Errorf("trigger %s: read its settings: %w", t.ID, err)
	}
	parse := schedule.Parse
	if e.cfg.CronSeconds {
		parse = schedule.ParseWithSeconds
	}
	s, err := parse(c.Schedule, c.Timezone)
	if err != nil {
		return nil, c, fmt.Errorf("trigger %s: %w", t.ID, err)
	}
	return s, c, nil
}

// insertCron inserts a cron job in the transaction of ctx. A planned run
// is unique by trigger and slot, so that a slot is never planned twice.
func (e *Engine) insertCron(ctx context.Context, args cronArgs, t model.Trigger) error {
	tx, err := e.tx(ctx, "plan a cron run")
	if err != nil {
		return err
	}
	_, c, err := e.cronSchedule(t)
	if err != nil {
		return err
	}
	opts := &river.InsertOpts{Queue: queueCron, MaxAttempts: 1 + c.MaxRetries}
	if !args.Manual {
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true}
		if at := args.Slot.Add(-schedulerLead); at.After(e.cfg.Now()) {
			opts.ScheduledAt = at
		}
	}
	if _, err := e.client.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("plan a run of trigger %s at %s: %w", t.ID, args.Slot.Format(time.RFC3339), err)
	}
	return nil
}

// runCron runs a cron job: it waits for the job's slot, takes the trigger's lease (another run in
// progress makes it wait), decides from the schedule and the misfire
// policy whether to run and for which slot, runs the script's scheduled
// handler under the background share, and then, in one transaction,
// plans the next run, gives the lease back and completes the job, so
// that a daemon dying at any point neither loses the schedule nor runs a
// finished slot again. A failed run is retried by River with backoff,
// unless the handler called noRetry() or it was the last attempt.
func (e *Engine) runCron(ctx context.Context, job *river.Job[cronArgs]) error {
	args := job.Args
	now := e.cfg.Now().UTC()
	if early := args.Slot.Sub(now); early > 0 && !args.Manual {
		// Handed over ahead of its time (see schedulerLead): wait for
		// it, which costs no attempt.
		return river.JobSnooze(early)
	}
	var t model.Trigger
	var claimed bool
	err := e.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if t, err = e.store.TriggerByID(ctx, args.TriggerID); err != nil {
			return err
		}
		claimed, err = e.store.ClaimTrigger(ctx, t.ID, now, now.Add(e.cfg.RunTimeout))
		return err
	})
	if errors.Is(err, model.ErrNotFound) {
		return nil // deleted: nothing to run, nothing to plan
	}
	if err != nil {
		return err
	}
	if !claimed {
		return river.JobSnooze(busyRetry)
	}
	s, c, err := e.cronSchedule(t)
	if err != nil {
		e.release(t.ID)
		return river.JobCancel(err)
	}
	slot, run, next := args.Slot, true, time.Time{}
	if !args.Manual {
		if job.Attempt == 1 {
			d := s.Decide(args.Slot, now, schedule.Misfire(c.Misfire))
			slot, run, next = d.Slot, d.Run, d.Next
		} else {
			next = s.Next(s.Latest(args.Slot, now))
		}
	}
	var runErr error
	if run {
		runErr = e.runScript(ctx, job, t, c, slot)
		if runErr != nil && job.Attempt < job.MaxAttempts && !errors.Is(runErr, errNoRetry) {
			e.release(t.ID)
			return runErr // River retries with backoff
		}
	} else {
		e.log.Info("cron run skipped: missed while the daemon was down", "trigger", t.ID, "slot", args.Slot)
	}
	return e.finishCron(ctx, job, t, next, runErr)
}

// errNoRetry marks a failure the handler asked not to retry.
var errNoRetry = errors.New("the handler called noRetry()")

// runScript runs the scheduled handler for slot and returns why it
// failed, if it did.
func (e *Engine) runScript(ctx context.Context, job *river.Job[cronArgs], t model.Trigger, c model.CronConfig, slot time.Time) error {
	res, ok, err := e.runner.RunBackground(ctx, t.ScriptID, orchestrator.Call{
		RequestID: "cron-" + strconv.FormatInt(job.ID, 10) + "-" + strconv.Itoa(job.Attempt),
		Path:      c.Schedule,
		Trigger:   orchestrator.TriggerCron,
		Scheduled: &engine.Scheduled{Cron: c.Schedule, Time: slot},
	})
	switch {
	case err != nil:
		return fmt.Errorf("run trigger %s: %w", t.ID, err)
	case !ok:
		return fmt.Errorf("%w: run trigger %s: its script has no active version", errNoRetry, t.ID)
	case res.Error != nil && res.NoRetry:
		return fmt.Errorf("%w: %s", errNoRetry, res.Error.Error())
	case res.Error != nil:
		return fmt.Errorf("trigger %s, attempt %d: %s", t.ID, job.Attempt, res.Error.Error())
	}
	return nil
}

// finishCron plans the next run (unless next is zero), gives the lease
// back and completes the job, in one transaction.
func (e *Engine) finishCron(ctx context.Context, job *river.Job[cronArgs], t model.Trigger, next time.Time, runErr error) error {
	err := e.store.Atomically(ctx, func(ctx context.Context) error {
		if !next.IsZero() {
			if err := e.insertCron(ctx, cronArgs{TriggerID: t.ID, Slot: next}, t); err != nil {
				return err
			}
			if err := e.store.SetTriggerNextRun(ctx, t.ID, next); err != nil {
				return err
			}
		}
		if err := e.store.ReleaseTrigger(ctx, t.ID); err != nil {
			return err
		}
		tx, err := e.tx(ctx, "complete a cron run")
		if err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("complete the run of trigger %s: %w", t.ID, err)
		}
		return nil
	})
	if err != nil {
		e.release(t.ID)
		return err
	}
	if runErr != nil {
		e.log.Info("cron run failed, not retried", "trigger", t.ID, "attempt", job.Attempt, "err", runErr)
	}
	return nil
}

// release gives a trigger's lease back after a run that did not finish
// its job; a failure leaves the lease to expire.
func (e *Engine) release(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.store.ReleaseTrigger(ctx, id); err != nil {
		e.log.Warn("release a trigger's run", "trigger", id, "err", err)
	}
}
