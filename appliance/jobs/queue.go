package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/engine"
)

// queueFallback is how often the consumers look at every queue trigger
// when nothing woke them: a message is delivered as soon as the
// notification of its send (store.QueueChannel) arrives, and a delayed
// one, a retry or a partial batch at the time each is due, so that this
// poll only finds what a lost notification or an expired lease left.
const queueFallback = 5 * time.Second

// minWait is the shortest the consumers sleep between polls when a
// message is due now: it bounds how often a due time the database does
// not agree with yet has them poll.
const minWait = 5 * time.Millisecond

// maxBatchBytes bounds the bodies of one batch, so that it fits the
// executor protocol's frames with room to spare; a batch holds at least
// one message whatever its size.
const maxBatchBytes = 16 << 20

// consumers delivers the messages of every queue trigger. A trigger whose
// batch is not being delivered by this daemon gets its ready messages
// leased (full batches at once, smaller ones after max_wait_ms), and a
// goroutine runs the handler and settles them. The consumers wake:
//   - when a send commits: listen holds a connection LISTENing on
//     store.QueueChannel, and the triggers of the queue announced are
//     polled (the same connection wakes the inbox, on
//     store.InboxChannel);
//   - when a trigger's delivered batch was full, for that trigger, so
//     that a backlog drains as fast as its handler runs;
//   - when a trigger's batch ends and the trigger was woken during it;
//   - at the earliest time a poll or a settle saw a message become due:
//     a delayed message, a retry, a partial batch's max_wait_ms;
//   - and every queueFallback at the latest, for every trigger.
//
// Messages live in PostgreSQL (queue_messages), leased with SKIP LOCKED,
// so several daemons on one database share the work, and a daemon that
// dies leaves its leases to expire: the messages come again.
type consumers struct {
	alarm // fallback is queueFallback
	e     *Engine
	mu    sync.Mutex
	busy  map[string]bool // triggers with a batch in delivery here
	// missed holds the busy triggers a poll skipped, polled again when
	// their batch is settled.
	missed map[string]bool
	// woken is what the next wake polls.
	woken *wakes
	wg    sync.WaitGroup
	seq   int64
	// run is the context of the deliveries: it outlives the polling, so
	// that a stopping daemon lets the batches in delivery finish.
	run context.Context
	// connect opens the connection listen holds.
	connect func(ctx context.Context) (*pgx.Conn, error)
	// polled, when set, is called after each poll; listening after each
	// LISTEN, with its connection's backend (tests).
	polled    func()
	listening func(pid uint32)
}

// wakes is what a wake polls: the triggers named, the triggers of the
// queues named (store.QueueNotice), or every trigger.
type wakes struct {
	all      bool
	triggers map[string]bool
	queues   map[string]bool
}

func newWakes() *wakes { return &wakes{triggers: map[string]bool{}, queues: map[string]bool{}} }

func (w *wakes) empty() bool { return !w.all && len(w.triggers) == 0 && len(w.queues) == 0 }

// has says whether w polls trigger t of queue.
func (w *wakes) has(t model.Trigger, queue string) bool {
	return w.all || w.triggers[t.ID] || w.queues[store.QueueNotice(t.AppID, queue)]
}

func newConsumers(e *Engine, run context.Context) *consumers {
	return &consumers{alarm: newAlarm(queueFallback), e: e, busy: map[string]bool{}, missed: map[string]bool{},
		woken: newWakes(), run: run}
}

// consume polls every trigger now and then every fallback, and what
// wakes it as it comes, until ctx ends; then it waits for the batches in
// delivery.
func (q *consumers) consume(ctx context.Context) {
	q.loop(ctx, func(woken bool) {
		if woken {
			q.poll(ctx, q.takeAgain())
		} else {
			q.poll(ctx, nil)
		}
	})
	q.wg.Wait()
}

// poll leases a batch for each idle queue trigger that has one ready:
// of every trigger when only is nil, else of those only holds.
func (q *consumers) poll(ctx context.Context, only *wakes) {
	if only != nil && only.empty() {
		return
	}
	if q.polled != nil {
		defer q.polled()
	}
	ts, err := q.e.store.TriggersOfType(ctx, model.TriggerQueue)
	if err != nil {
		if ctx.Err() == nil {
			q.e.log.Warn("list the queue triggers", "err", err)
		}
		return
	}
	for _, t := range ts {
		var c model.QueueConfig
		if err := json.Unmarshal(t.Config, &c); err != nil {
			q.e.log.Warn("read the settings of a queue trigger", "trigger", t.ID, "err", err)
			continue
		}
		if only != nil && !only.has(t, c.Queue) {
			continue
		}
		if ctx.Err() != nil || !q.claim(t.ID) {
			continue
		}
		msgs, err := q.lease(ctx, t, c)
		if err != nil || len(msgs) == 0 {
			if err != nil && ctx.Err() == nil {
				q.e.log.Warn("lease a queue batch", "trigger", t.ID, "err", err)
			}
			q.unclaim(t.ID)
			continue
		}
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			ran := q.deliver(q.run, t, c, msgs)
			if missed := q.unclaim(t.ID); missed || ran && len(msgs) >= c.MaxBatchSize {
				q.pollAgain(t.ID)
			}
		}()
	}
}

// pollAgain has the trigger polled again at once: its batch was full, so
// more messages are likely ready, or it was woken during its batch. One
// batch of a trigger is in delivery at a time still: the trigger is idle
// again before it is polled.
func (q *consumers) pollAgain(id string) {
	q.mu.Lock()
	q.woken.triggers[id] = true
	q.mu.Unlock()
	q.signal()
}

// wakeQueue has the triggers of an app's queue polled at once.
func (q *consumers) wakeQueue(appID, queue string) {
	q.mu.Lock()
	q.woken.queues[store.QueueNotice(appID, queue)] = true
	q.mu.Unlock()
	q.signal()
}

// wakeAll has every trigger polled at once.
func (q *consumers) wakeAll() {
	q.mu.Lock()
	q.woken.all = true
	q.mu.Unlock()
	q.signal()
}

// wakeAt has every trigger polled at t at the latest.
func (q *consumers) wakeAt(t time.Time) {
	q.dueAt(t)
	q.signal()
}

// takeAgain empties what the next wake polls and returns it: nil when
// that is every trigger.
func (q *consumers) takeAgain() *wakes {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := q.woken
	q.woken = newWakes()
	if w.all {
		return nil
	}
	return w
}

// claim marks a trigger busy; false if it was, and then it is polled
// again when its batch is settled.
func (q *consumers) claim(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.busy[id] {
		q.missed[id] = true
		return false
	}
	q.busy[id] = true
	return true
}

// unclaim marks a trigger idle, and says whether a poll skipped it
// meanwhile.
func (q *consumers) unclaim(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.busy, id)
	missed := q.missed[id]
	delete(q.missed, id)
	return missed
}

// listen LISTENs on store.QueueChannel and store.InboxChannel, on one
// connection of its own, until ctx ends: it wakes the triggers of each
// queue announced, and the inbox when received email is. A lost
// connection is opened again, after a backoff that doubles up to
// queueFallback, and every trigger and the inbox are polled then: what
// was announced meanwhile is lost.
func (q *consumers) listen(ctx context.Context) {
	backoff := listenBackoff
	for ctx.Err() == nil {
		err := q.listenOnce(ctx, func() { backoff = listenBackoff })
		if ctx.Err() != nil {
			return
		}
		q.e.log.Warn("listen for queue sends and received email; listening again", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, queueFallback)
	}
}

// listenBackoff is the first wait before listen connects again.
const listenBackoff = 100 * time.Millisecond

// listenOnce connects, LISTENs, and wakes what is announced until the
// connection fails or ctx ends; after LISTEN it calls ok and wakes every
// trigger and the inbox, for what was announced before.
func (q *consumers) listenOnce(ctx context.Context, ok func()) error {
	conn, err := q.connect(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	for _, ch := range []string{store.QueueChannel, store.InboxChannel} {
		if _, err := conn.Exec(ctx, `LISTEN `+ch); err != nil {
			return fmt.Errorf("listen on %s: %w", ch, err)
		}
	}
	ok()
	q.wakeAll()
	q.wakeInbox()
	if q.listening != nil {
		q.listening(conn.PgConn().PID())
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for a notification: %w", err)
		}
		switch n.Channel {
		case store.QueueChannel:
			if appID, queue, ok := store.ParseQueueNotice(n.Payload); ok {
				q.wakeQueue(appID, queue)
			}
		case store.InboxChannel:
			q.wakeInbox()
		}
	}
}

// wakeInbox has the engine's inbox, if it has one, looked at now.
func (q *consumers) wakeInbox() {
	if q.e.inbox != nil {
		q.e.inbox.signal()
	}
}

// lease leases the trigger's next batch: nothing while fewer than
// max_batch_size messages are ready and the oldest has waited less than
// max_wait_ms. When the batch waits, or a message is not due yet, the
// consumers wake when it is.
func (q *consumers) lease(ctx context.Context, t model.Trigger, c model.QueueConfig) ([]model.QueueMessage, error) {
	n, oldest, next, err := q.e.store.QueueReady(ctx, t.AppID, c.Queue)
	if err != nil {
		return nil, err
	}
	q.dueIn(next)
	if n == 0 {
		return nil, nil
	}
	maxWait := time.Duration(c.MaxWaitMS) * time.Millisecond
	if waited := q.e.cfg.Now().Sub(oldest); n < c.MaxBatchSize && waited < maxWait {
		q.dueAt(time.Now().Add(maxWait - waited))
		return nil, nil
	}
	return q.e.store.LeaseQueueBatch(ctx, t.AppID, c.Queue, c.MaxBatchSize, maxBatchBytes, q.e.cfg.RunTimeout)
}

// deliver runs the trigger's queue handler on a leased batch and settles
// each message as the handler said; false when the handler could not run
// (no slot before the daemon stopped) or was cut short, and the batch
// was given back.
func (q *consumers) deliver(ctx context.Context, t model.Trigger, c model.QueueConfig, msgs []model.QueueMessage) bool {
	q.mu.Lock()
	q.seq++
	seq := q.seq
	q.mu.Unlock()
	batch := &engine.QueueBatch{Queue: c.Queue, Messages: make([]engine.QueueMessage, len(msgs))}
	for i, m := range msgs {
		batch.Messages[i] = engine.QueueMessage{ID: m.ID, Body: m.Body, Attempts: m.Attempts, Timestamp: m.CreatedAt}
	}
	res, ok, err := q.e.runner.RunBackground(ctx, t.ScriptID, orchestrator.Call{
		RequestID: "queue-" + c.Queue + "-" + strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + strconv.FormatInt(seq, 36),
		Path:      c.Queue,
		Trigger:   orchestrator.TriggerQueue,
		Queue:     batch,
	})
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err != nil || ctx.Err() != nil {
		// Not run, or cut short by the daemon's stop: the messages the
		// handler acked are done, the others come again with no attempt
		// counted.
		q.giveBack(sctx, t, msgs, res)
		return false
	}
	var failure string
	switch {
	case !ok:
		failure = "the consumer script has no active version"
	case res.Error != nil:
		failure = res.Error.Error()
	}
	var acks []engine.QueueAck
	if res != nil {
		acks = res.QueueAcks
	}
	out := Outcomes(msgs, acks, failure, time.Duration(c.RetryDelaySeconds)*time.Second)
	if err := q.e.store.SettleQueueBatch(sctx, t.AppID, out, c.MaxRetries, c.DeadLetter); err != nil {
		// The leases expire and the messages come again.
		q.e.log.Warn("settle a queue batch", "trigger", t.ID, "err", err)
		return true
	}
	for _, o := range out {
		if !o.Ack { // retried after its delay (or dead, which is harmless)
			q.wakeAt(time.Now().Add(o.Delay))
		}
	}
	return true
}

// giveBack settles the messages a cut-short delivery acked and gives
// the lease of the others back.
func (q *consumers) giveBack(ctx context.Context, t model.Trigger, msgs []model.QueueMessage, res *engine.Result) {
	var acks []engine.QueueAck
	if res != nil {
		acks = res.QueueAcks
	}
	var acked []model.QueueOutcome
	var rest []string
	for _, o := range Outcomes(msgs, acks, "cut short", 0) {
		if o.Ack {
			acked = append(acked, o)
		} else {
			rest = append(rest, o.ID)
		}
	}
	if err := q.e.store.SettleQueueBatch(ctx, t.AppID, acked, 0, ""); err != nil {
		q.e.log.Warn("settle a queue batch cut short", "trigger", t.ID, "err", err)
	}
	if err := q.e.store.ReleaseQueueBatch(ctx, t.AppID, rest); err != nil {
		q.e.log.Warn("give a queue batch back", "trigger", t.ID, "err", err)
	}
}

// Outcomes decides what becomes of each delivered message: the last
// ack() or retry() the handler called for it counts (retry's delay, or
// delay when it gave none); a message it said nothing of is acked when
// the handler succeeded (failure "") and retried after delay when it
// failed, so that a throwing handler gets only its unacked messages
// again.
func Outcomes(msgs []model.QueueMessage, acks []engine.QueueAck, failure string, delay time.Duration) []model.QueueOutcome {
	said := make(map[string]engine.QueueAck, len(acks))
	for _, a := range acks {
		said[a.ID] = a
	}
	out := make([]model.QueueOutcome, len(msgs))
	for i, m := range msgs {
		o := model.QueueOutcome{ID: m.ID}
		a, ok := said[m.ID]
		switch {
		case ok && a.Ack:
			o.Ack = true
		case ok && a.Retry:
			o.Delay, o.Error = delay, "the handler called retry()"
			if a.DelaySeconds >= 0 {
				o.Delay = time.Duration(a.DelaySeconds) * time.Second
			}
		case failure != "":
			o.Delay, o.Error = delay, failure
		default:
			o.Ack = true
		}
		out[i] = o
	}
	return out
}
