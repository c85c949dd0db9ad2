package jobs

import (
	"context"
	"slices"
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
	// it: the SMTP listener wakes it when it stores a message, and a
	// retry wakes it when the retry is due, so the poll only finds what
	// nothing here announced (a message retried from the admin view,
	// another daemon's, an expired lease).
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
type inbox struct {
	e    *Engine
	wake chan struct{}
	mu   sync.Mutex
	due  []time.Time // when the retries planned here are due
	// run is the context of the deliveries: it outlives the polling, so
	// that a stopping daemon lets the deliveries in progress finish.
	run context.Context
}

// WakeInbox has the inbox looked at now: a message was stored.
func (e *Engine) WakeInbox() {
	if e.inbox == nil {
		return
	}
	select {
	case e.inbox.wake <- struct{}{}:
	default:
	}
}

// maxDue bounds the retries the inbox keeps a wake-up for; the poll finds
// the others.
const maxDue = 64

// dueAt notes a retry planned for t: the inbox is looked at then.
func (b *inbox) dueAt(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.due) < maxDue {
		b.due = append(b.due, t)
	}
}

// nextWait is how long the inbox may sleep after a pass that began at
// start: until the earliest retry planned after it, at most inboxPoll.
// The retries due before the pass began are forgotten: it took them.
func (b *inbox) nextWait(start time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.due = slices.DeleteFunc(b.due, func(t time.Time) bool { return !t.After(start) })
	if len(b.due) == 0 {
		return inboxPoll
	}
	return min(max(time.Until(slices.MinFunc(b.due, time.Time.Compare)), 0), inboxPoll)
}

// deliverAll takes due messages and delivers them until ctx ends.
func (b *inbox) deliverAll(ctx context.Context) {
	t := time.NewTimer(inboxPoll)
	defer t.Stop()
	prune := time.NewTicker(emailPruneEvery)
	defer prune.Stop()
	b.prune(ctx)
	for {
		start := time.Now()
		for ctx.Err() == nil {
			due, err := b.e.store.TakeDueInboundEmails(ctx, inboxBatch, b.e.cfg.RunTimeout)
			if err != nil {
				if ctx.Err() == nil {
					b.e.log.Warn("take due inbound emails", "err", err)
				}
				break
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
		t.Reset(b.nextWait(start))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.wake:
		case <-prune.C:
			b.prune(ctx)
		}
	}
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
		// A little after the database's due time, so that the pass
		// then finds the message due.
		b.dueAt(time.Now().Add(wait + 50*time.Millisecond))
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
