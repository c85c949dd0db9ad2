package jobs

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/engine"
)

// Delivery of received email to the scripts' email handlers.
const (
	// inboxPoll is how often the inbox is looked at when nothing wakes
	// it: a message stored or retried from the admin view is announced
	// on store.InboxChannel at its commit (to every daemon on the
	// database), and a retry is looked for when the database says it is
	// due, so the poll only finds what a lost notification left.
	inboxPoll  = 5 * time.Second
	inboxBatch = 10 // messages taken at once
	// InboxAttempts is how many times a received message is handed to
	// its handler before it is kept as failed.
	InboxAttempts = 6
	// inboxFirstWait is the wait after the first failed attempt; it
	// doubles, up to inboxMaxWait.
	inboxFirstWait = 30 * time.Second
	inboxMaxWait   = time.Hour
	// EmailRetention is how long email that reached its end is kept: a
	// received message delivered or rejected, an outbox message sent.
	// Failed ones are kept until retried or deleted.
	EmailRetention  = 7 * 24 * time.Hour
	emailPruneEvery = time.Hour // how often the retention runs
)

// inbox hands the stored received messages (the SMTP listener's) to the
// email handlers of the scripts whose triggers claim their recipients,
// under the background share: a message is leased while its handler
// runs, so that a daemon that dies mid-delivery leaves it to come again
// (at least once); a failure waits and is tried again, doubling the wait,
// and after InboxAttempts the message is kept as failed (at once when the
// script has no email handler). It also applies EmailRetention, hourly.
//
// The inbox is looked at when the consumers' listener hears
// store.InboxChannel (a message stored or retried, by any daemon), at
// the time the database says the next queued message is due (a retry, a
// lease that ends), and every inboxPoll at the latest.
type inbox struct {
	alarm // fallback is inboxPoll
	e     *Engine
	// run is the context of the deliveries: it outlives the polling, so
	// that a stopping daemon lets the deliveries in progress finish.
	run    context.Context
	pruned time.Time // when the retention last ran
	// passed, when set, is called after each pass (tests).
	passed func()
}

func newInbox(e *Engine, run context.Context) *inbox {
	return &inbox{alarm: newAlarm(inboxPoll), e: e, run: run}
}

// deliverAll delivers the due messages, as the alarm wakes it, until ctx
// ends.
func (b *inbox) deliverAll(ctx context.Context) {
	b.loop(ctx, func(bool) { b.pass(ctx) })
}

// pass takes due messages and delivers them, a batch at a time, until
// none is left; then it notes when the next one is due, and runs the
// retention when it is time.
func (b *inbox) pass(ctx context.Context) {
	if b.passed != nil {
		defer b.passed()
	}
	if time.Since(b.pruned) >= emailPruneEvery {
		b.pruned = time.Now()
		b.prune(ctx)
	}
	for ctx.Err() == nil {
		due, err := b.e.store.TakeDueInboundEmails(ctx, inboxBatch, b.e.cfg.RunTimeout)
		if err != nil {
			if ctx.Err() == nil {
				b.e.log.Warn("take due inbound emails", "err", err)
			}
			return
		}
		var wg sync.WaitGroup
		for _, m := range due {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b.deliver(b.run, m)
			}()
		}
		wg.Wait()
		if len(due) < inboxBatch {
			break
		}
	}
	// The retries this pass planned are settled: the database knows them.
	next, err := b.e.store.InboxNextDue(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.e.log.Warn("find when the next inbound email is due", "err", err)
		}
		return
	}
	b.dueIn(next)
}

// prune deletes the email past EmailRetention, received and sent.
func (b *inbox) prune(ctx context.Context) {
	n, err := b.e.store.PruneSettledEmail(ctx, time.Now().Add(-EmailRetention))
	switch {
	case err != nil && ctx.Err() == nil:
		b.e.log.Warn("prune settled email", "err", err)
	case n > 0:
		b.e.log.Info("settled email pruned", "messages", n, "older_than", EmailRetention)
	}
}

// deliver runs the email handler on m and settles it. The run, its wait
// for a slot included, ends within the message's lease, so that the
// message is not taken again while it runs here.
func (b *inbox) deliver(ctx context.Context, m model.InboundEmail) {
	rctx, cancel := context.WithTimeout(ctx, b.e.cfg.RunTimeout)
	defer cancel()
	res, ok, err := b.e.runner.RunBackground(rctx, m.ScriptID, orchestrator.Call{
		RequestID: "email-" + m.ID + "-" + strconv.Itoa(m.Attempts),
		Path:      m.Recipient,
		Trigger:   orchestrator.TriggerEmail,
		Email:     &engine.EmailMessage{ID: m.ID, From: m.Sender, To: m.Recipient, Raw: m.Message},
	})
	if ctx.Err() != nil {
		return // the lease runs out and the message comes again
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var failure string
	// Attempts again cannot help a script that has no email handler (the
	// engine's script.no_handler) or no longer exists.
	final := err == nil && (!ok || res.Error != nil && res.Error.Code == engine.CodeNoHandler)
	switch {
	case err != nil:
		failure = "no executor slot: " + err.Error()
	case !ok:
		failure = "the script no longer exists or has no active version"
	case res.Error != nil:
		failure = res.Error.Code + ": " + res.Error.Message
	}
	var serr error
	switch {
	case failure == "":
		serr = b.e.store.InboundEmailSettled(sctx, m.ID, res.Rejected, res.RejectReason)
		b.e.log.Info("email delivered", "email", m.ID, "app", m.AppID, "to", m.Recipient, "attempt", m.Attempts, "rejected", res.Rejected)
	case m.Attempts >= InboxAttempts || final:
		serr = b.e.store.InboundEmailFailed(sctx, m.ID, failure)
		b.e.log.Warn("email failed", "email", m.ID, "app", m.AppID, "to", m.Recipient, "attempt", m.Attempts, "err", failure)
	default:
		wait := b.retryWait(m.Attempts)
		serr = b.e.store.InboundEmailRetry(sctx, m.ID, wait, failure)
		b.e.log.Info("email handler failed, retried later", "email", m.ID, "to", m.Recipient, "attempt", m.Attempts, "wait", wait, "err", failure)
	}
	if serr != nil {
		b.e.log.Warn("settle an inbound email", "email", m.ID, "err", serr)
	}
}

// retryWait is the wait after attempt (1 for the first) failed: the
// first wait, doubling each time, at most inboxMaxWait.
func (b *inbox) retryWait(attempt int) time.Duration {
	w := inboxFirstWait
	if b.e.cfg.EmailRetryWait > 0 {
		w = b.e.cfg.EmailRetryWait
	}
	for i := 1; i < attempt && w < inboxMaxWait; i++ {
		w *= 2
	}
	return min(w, inboxMaxWait)
}
