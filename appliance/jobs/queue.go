package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/engine"
)

// queuePoll is how often the consumers look for ready messages: a
// message is delivered within about this of being ready (and of its
// batch's max_wait_ms).
const queuePoll = 200 * time.Millisecond

// maxBatchBytes bounds the bodies of one batch, so that it fits the
// executor protocol's frames with room to spare; a batch holds at least
// one message whatever its size.
const maxBatchBytes = 16 << 20

// consumers delivers the messages of every queue trigger: each poll, a
// trigger whose batch is not being delivered by this daemon gets its
// ready messages leased (full batches at once, smaller ones after
// max_wait_ms), and a goroutine runs the handler and settles them. A
// trigger whose delivered batch was full is polled again as soon as that
// batch is settled, rather than at the next tick, so that a backlog
// drains as fast as its handler runs; an empty or partial batch waits
// for the tick. Messages live in PostgreSQL (queue_messages), leased
// with SKIP LOCKED, so several daemons on one database share the work,
// and a daemon that dies leaves its leases to expire: the messages come
// again.
type consumers struct {
	e    *Engine
	mu   sync.Mutex
	busy map[string]bool // triggers with a batch in delivery here
	// again holds the triggers whose last batch was full, to be polled
	// again at once; wake tells the polling that it holds some.
	again map[string]bool
	wake  chan struct{}
	wg    sync.WaitGroup
	seq   int64
	// run is the context of the deliveries: it outlives the polling, so
	// that a stopping daemon lets the batches in delivery finish.
	run context.Context
	// polled, when set, is called after each poll (tests).
	polled func()
}

func newConsumers(e *Engine, run context.Context) *consumers {
	return &consumers{e: e, busy: map[string]bool{}, again: map[string]bool{}, wake: make(chan struct{}, 1), run: run}
}

// consume polls every trigger now and every queuePoll, and the triggers
// whose batch came back full as soon as they do, until ctx ends; then it
// waits for the batches in delivery.
func (q *consumers) consume(ctx context.Context) {
	t := time.NewTicker(queuePoll)
	defer t.Stop()
	q.poll(ctx, nil)
	for {
		select {
		case <-ctx.Done():
			q.wg.Wait()
			return
		case <-t.C:
			q.poll(ctx, nil)
		case <-q.wake:
			q.poll(ctx, q.takeAgain())
		}
	}
}

// poll leases a batch for each idle queue trigger that has one ready:
// of every trigger when only is nil, else of those in only.
func (q *consumers) poll(ctx context.Context, only map[string]bool) {
	if q.polled != nil {
		defer q.polled()
	}
	if only != nil && len(only) == 0 {
		return
	}
	ts, err := q.e.store.TriggersOfType(ctx, model.TriggerQueue)
	if err != nil {
		if ctx.Err() == nil {
			q.e.log.Warn("list the queue triggers", "err", err)
		}
		return
	}
	for _, t := range ts {
		if only != nil && !only[t.ID] {
			continue
		}
		if ctx.Err() != nil || !q.claim(t.ID) {
			continue
		}
		msgs, c, err := q.lease(ctx, t)
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
			q.unclaim(t.ID)
			if ran && len(msgs) >= c.MaxBatchSize {
				q.pollAgain(t.ID)
			}
		}()
	}
}

// pollAgain has the trigger polled again at once: its batch was full, so
// more messages are likely ready. One batch of a trigger is in delivery
// at a time still: the trigger is idle again before it is polled.
func (q *consumers) pollAgain(id string) {
	q.mu.Lock()
	q.again[id] = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake is pending already: it takes this trigger too
	}
}

// takeAgain empties the triggers to poll again and returns them.
func (q *consumers) takeAgain() map[string]bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	ids := q.again
	q.again = map[string]bool{}
	return ids
}

func (q *consumers) claim(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.busy[id] {
		return false
	}
	q.busy[id] = true
	return true
}

func (q *consumers) unclaim(id string) {
	q.mu.Lock()
	delete(q.busy, id)
	q.mu.Unlock()
}

// lease leases the trigger's next batch: nothing while fewer than
// max_batch_size messages are ready and the oldest has waited less than
// max_wait_ms.
func (q *consumers) lease(ctx context.Context, t model.Trigger) ([]model.QueueMessage, model.QueueConfig, error) {
	var c model.QueueConfig
	if err := json.Unmarshal(t.Config, &c); err != nil {
		return nil, c, fmt.Errorf("trigger %s: read its settings: %w", t.ID, err)
	}
	n, oldest, err := q.e.store.QueueReady(ctx, t.AppID, c.Queue)
	if err != nil || n == 0 {
		return nil, c, err
	}
	if n < c.MaxBatchSize && q.e.cfg.Now().Sub(oldest) < time.Duration(c.MaxWaitMS)*time.Millisecond {
		return nil, c, nil
	}
	msgs, err := q.e.store.LeaseQueueBatch(ctx, t.AppID, c.Queue, c.MaxBatchSize, maxBatchBytes, q.e.cfg.RunTimeout)
	return msgs, c, err
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
