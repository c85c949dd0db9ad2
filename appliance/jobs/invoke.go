package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/engine"
)

// invokeArgs is the job of one invoke.later call: the script to run (found
// by name in the calling execution's app when the call was made), the body
// (JSON text) and when it is due.
type invokeArgs struct {
	AppID    string    `json:"app_id"`
	ScriptID string    `json:"script_id"`
	Script   string    `json:"script"` // its name then, for the log
	Body     string    `json:"body"`
	Due      time.Time `json:"due"`
}

// Kind is River's name of the job.
func (invokeArgs) Kind() string { return "picloud.invoke" }

// queueInvoke is River's queue of invoke.later runs.
const queueInvoke = "invoke"

// InvokeAttempts is how many times a run of invoke.later is tried: a
// throw, a limit or a 5xx answer is retried with River's default backoff
// (attempt⁴ seconds, ±10 %: after about 1 s, 16 s and 81 s), then the
// run is dropped with a warning in the daemon's log.
const InvokeAttempts = 4

// invokeWorker runs invoke.later jobs.
type invokeWorker struct {
	river.WorkerDefaults[invokeArgs]
	e *Engine
}

// Timeout is the longest a run may take.
func (w *invokeWorker) Timeout(*river.Job[invokeArgs]) time.Duration { return w.e.cfg.RunTimeout }

// NextRetry is when a failed run is tried again: River's default backoff
// (the zero time says so), unless Config.InvokeRetryUnit shortens it to
// attempt⁴ units, for tests.
func (w *invokeWorker) NextRetry(job *river.Job[invokeArgs]) time.Time {
	unit := w.e.cfg.InvokeRetryUnit
	if unit <= 0 {
		return time.Time{}
	}
	n := time.Duration(job.Attempt)
	return w.e.cfg.Now().Add(n * n * n * n * unit)
}

// Work runs one invoke.later job; see Engine.runInvoke.
func (w *invokeWorker) Work(ctx context.Context, job *river.Job[invokeArgs]) error {
	return w.e.runInvoke(ctx, job)
}

// InvokeLater plans a run of the script of app appID called script after
// delay, with body (JSON text), in tx unless it is nil, and returns the
// run's id. The script is found now, by name among the app's scripts: a
// script of another app, or none, is invoke.not_found.
func (e *Engine) InvokeLater(ctx context.Context, tx pgx.Tx, appID, script, body string, delay time.Duration) (string, error) {
	id, ok, err := e.runner.ScriptID(ctx, appID, script)
	if err != nil {
		return "", fmt.Errorf("invoke.later %q: %w", script, err)
	}
	if !ok {
		return "", &engine.DataError{Code: engine.CodeInvokeNotFound, Message: fmt.Sprintf("invoke.later: no script named %q in this app", script)}
	}
	due := e.cfg.Now().Add(delay).UTC()
	args := invokeArgs{AppID: appID, ScriptID: id, Script: script, Body: body, Due: due}
	opts := &river.InsertOpts{Queue: queueInvoke, MaxAttempts: InvokeAttempts}
	if at := due.Add(-schedulerLead); at.After(e.cfg.Now()) {
		// Handed to River ahead of its time, which then waits for it
		// (see runInvoke): River makes scheduled jobs available only
		// every few seconds.
		opts.ScheduledAt = at
	}
	insert := func() (*rivertype.JobInsertResult, error) { return e.client.Insert(ctx, args, opts) }
	if tx != nil {
		insert = func() (*rivertype.JobInsertResult, error) { return e.client.InsertTx(ctx, tx, args, opts) }
	}
	r, err := insert()
	if err != nil {
		return "", fmt.Errorf("invoke.later %q: plan the run: %w", script, err)
	}
	return strconv.FormatInt(r.Job.ID, 10), nil
}

// runInvoke runs an invoke.later job when it is due: the script's fetch
// handler gets POST http://invoke.local/ with the body as JSON and the
// X-Picloud-Trigger, X-Picloud-Invoke-Id and X-Picloud-Attempt headers,
// under the background share, logged with trigger "invoke". A failure
// (see invokeFailure) is retried by River until the last attempt, which
// drops the run with a warning.
func (e *Engine) runInvoke(ctx context.Context, job *river.Job[invokeArgs]) error {
	a := job.Args
	if early := a.Due.Sub(e.cfg.Now()); early > 0 {
		// Handed over ahead of its time: wait for it, which costs no
		// attempt.
		return river.JobSnooze(early)
	}
	id := strconv.FormatInt(job.ID, 10)
	res, ok, err := e.runner.RunBackground(ctx, a.ScriptID, orchestrator.Call{
		RequestID: "invoke-" + id + "-" + strconv.Itoa(job.Attempt),
		Path:      "/",
		Trigger:   orchestrator.TriggerInvoke,
		Request: engine.Request{
			Method: http.MethodPost,
			URL:    engine.InvokeLaterURL,
			Header: engine.Header{
				"Content-Type":        {"application/json"},
				engine.HeaderTrigger:  {orchestrator.TriggerInvoke},
				engine.HeaderInvokeID: {id},
				engine.HeaderAttempt:  {strconv.Itoa(job.Attempt)},
			},
			Body: []byte(a.Body),
		},
	})
	if err != nil {
		// No slot came before the job's time ran out, or the daemon
		// stops: River tries again.
		return fmt.Errorf("invoke.later %s of script %s: %w", id, a.ScriptID, err)
	}
	if !ok {
		e.log.Warn("invoke.later dropped: its script no longer exists or has no active version",
			"invoke_id", id, "app", a.AppID, "script", a.Script, "script_id", a.ScriptID)
		return river.JobCancel(errScriptGone)
	}
	failure := invokeFailure(res)
	if failure == "" {
		return nil
	}
	err = fmt.Errorf("invoke.later %s of script %q, attempt %d of %d: %s", id, a.Script, job.Attempt, job.MaxAttempts, failure)
	if job.Attempt >= job.MaxAttempts {
		e.log.Warn("invoke.later dropped after its last attempt", "invoke_id", id, "app", a.AppID,
			"script", a.Script, "script_id", a.ScriptID, "attempts", job.Attempt, "err", failure)
		return river.JobCancel(err)
	}
	e.log.Info("invoke.later failed, retried", "invoke_id", id, "script", a.Script, "attempt", job.Attempt, "err", failure)
	return err // River retries with its backoff
}

// errScriptGone is why a run whose script went away is not retried.
var errScriptGone = errors.New("the script no longer exists or has no active version")

// invokeFailure is why a run of invoke.later failed: the handler threw or
// passed a limit, or answered with a 5xx status; "" when it succeeded.
func invokeFailure(res *engine.Result) string {
	switch {
	case res.Error != nil:
		return res.Error.Code + ": " + res.Error.Message
	case res.Response != nil && res.Response.Status >= 500 && res.Response.Status <= 599:
		return "the script answered " + strconv.Itoa(res.Response.Status)
	}
	return ""
}
