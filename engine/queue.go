package engine

import (
	"math"

	"github.com/dop251/goja"
)

// MaxQueueRetryDelay is the longest delay retry({delaySeconds}) may ask
// for: 12 hours, as in Workers.
const MaxQueueRetryDelay = 12 * 3600

// runQueue calls the default export's queue(batch, env, ctx) method, as
// Workers does for queue consumers, and awaits what it returns and its
// ctx.waitUntil promises. The ack() and retry() calls it makes are
// recorded for the consumer, whether the handler succeeds or throws.
func (e *execution) runQueue(def goja.Value) *ExecError {
	return e.runNamed(def, "queue", "batch, env, ctx", e.newBatch)
}

// newBatch builds the handler's batch: queue, messages (id, body,
// attempts, timestamp, ack(), retry({delaySeconds})), ackAll() and
// retryAll({delaySeconds}).
func (e *execution) newBatch() (goja.Value, error) {
	b := e.inv.Queue
	parse, _ := goja.AssertFunction(e.r.Get("JSON").ToObject(e.r).Get("parse"))
	msgs := make([]any, 0, len(b.Messages))
	for _, m := range b.Messages {
		body, err := parse(goja.Undefined(), e.str(m.Body))
		if err != nil {
			return nil, err
		}
		o := e.r.NewObject()
		_ = o.Set("id", m.ID)
		_ = o.Set("body", body)
		_ = o.Set("attempts", m.Attempts)
		date, err := e.r.New(e.r.Get("Date"), e.r.ToValue(m.Timestamp.UnixMilli()))
		if err != nil {
			return nil, err
		}
		_ = o.Set("timestamp", date)
		id := m.ID
		_ = o.Set("ack", func(goja.FunctionCall) goja.Value {
			e.settleMessage(QueueAck{ID: id, Ack: true})
			return goja.Undefined()
		})
		_ = o.Set("retry", func(call goja.FunctionCall) goja.Value {
			e.settleMessage(QueueAck{ID: id, Retry: true, DelaySeconds: e.retryDelay(call.Argument(0))})
			return goja.Undefined()
		})
		msgs = append(msgs, o)
	}
	out := e.r.NewObject()
	_ = out.Set("queue", b.Queue)
	_ = out.Set("messages", e.r.NewArray(msgs...))
	_ = out.Set("ackAll", func(goja.FunctionCall) goja.Value {
		for _, m := range b.Messages {
			e.settleMessage(QueueAck{ID: m.ID, Ack: true})
		}
		return goja.Undefined()
	})
	_ = out.Set("retryAll", func(call goja.FunctionCall) goja.Value {
		d := e.retryDelay(call.Argument(0))
		for _, m := range b.Messages {
			e.settleMessage(QueueAck{ID: m.ID, Retry: true, DelaySeconds: d})
		}
		return goja.Undefined()
	})
	return out, nil
}

// settleMessage records an ack() or retry(): the last call for a message
// counts.
func (e *execution) settleMessage(a QueueAck) {
	for i := range e.queueAcks {
		if e.queueAcks[i].ID == a.ID {
			e.queueAcks[i] = a
			return
		}
	}
	e.queueAcks = append(e.queueAcks, a)
}

// retryDelay reads retry's options: {delaySeconds} from 0 to
// MaxQueueRetryDelay; none is -1, the trigger's retry_delay_seconds.
func (e *execution) retryDelay(opts goja.Value) int {
	if goja.IsUndefined(opts) || goja.IsNull(opts) {
		return -1
	}
	o, ok := opts.(*goja.Object)
	if !ok {
		e.throw("TypeError", "retry: the options must be an object such as {delaySeconds: 30}")
	}
	v := o.Get("delaySeconds")
	if v == nil || goja.IsUndefined(v) {
		return -1
	}
	f := v.ToFloat()
	if _, isNum := v.Export().(float64); !isNum {
		if _, isInt := v.Export().(int64); !isInt {
			e.throw("TypeError", "retry: delaySeconds must be a number of seconds")
		}
	}
	if math.IsNaN(f) || f < 0 || f > MaxQueueRetryDelay {
		e.throw("RangeError", "retry: delaySeconds must be between 0 and 43200 (12 hours)")
	}
	return int(f)
}
