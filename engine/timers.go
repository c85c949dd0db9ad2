package engine

import (
	"container/heap"
	"fmt"
	"math"
	"time"

	"github.com/dop251/goja"
)

// Timers live as long as the execution: they fire only while the engine
// awaits the handler's promise (or ctx.waitUntil), and whatever is pending
// when the execution ends is dropped.

type timer struct {
	id       int64
	seq      int64
	due      time.Time
	interval time.Duration // > 0 for setInterval
	fn       goja.Callable
	args     []goja.Value
	index    int
}

// timerQueue is a min-heap of timers by due time, then creation order.
type timerQueue struct {
	items  []*timer
	byID   map[int64]*timer
	nextID int64
	seq    int64
}

func (q *timerQueue) Len() int { return len(q.items) }
func (q *timerQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if !a.due.Equal(b.due) {
		return a.due.Before(b.due)
	}
	return a.seq < b.seq
}
func (q *timerQueue) Swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.items[i].index = i
	q.items[j].index = j
}
func (q *timerQueue) Push(x any) {
	t := x.(*timer)
	t.index = len(q.items)
	q.items = append(q.items, t)
}
func (q *timerQueue) Pop() any {
	n := len(q.items) - 1
	t := q.items[n]
	q.items[n] = nil
	q.items = q.items[:n]
	t.index = -1
	return t
}

func (q *timerQueue) push(t *timer) {
	q.seq++
	t.seq = q.seq
	heap.Push(q, t)
}

func (q *timerQueue) peek() *timer {
	if len(q.items) == 0 {
		return nil
	}
	return q.items[0]
}

func (q *timerQueue) pop() *timer { return heap.Pop(q).(*timer) }

func (q *timerQueue) cancel(id int64) {
	t, ok := q.byID[id]
	if !ok {
		return
	}
	delete(q.byID, id)
	if t.index >= 0 {
		heap.Remove(q, t.index)
	}
}

// setTimer implements setTimeout and setInterval.
func (e *execution) setTimer(call goja.FunctionCall, repeat bool) goja.Value {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(e.r.NewTypeError("The callback must be a function"))
	}
	delay := call.Argument(1).ToFloat()
	if math.IsNaN(delay) || delay < 0 {
		delay = 0
	}
	d := time.Duration(math.Min(delay, float64(24*time.Hour/time.Millisecond)) * float64(time.Millisecond))
	t := &timer{fn: fn, due: time.Now().Add(d)}
	if repeat {
		t.interval = max(d, time.Millisecond)
	}
	if len(call.Arguments) > 2 {
		t.args = append([]goja.Value(nil), call.Arguments[2:]...)
	}
	q := &e.timers
	if len(q.byID) >= e.lim.MaxTimers {
		e.limit(CodeTimersLimit, fmt.Sprintf("the script had more than %d timers pending at once", e.lim.MaxTimers))
		return goja.Undefined()
	}
	if q.byID == nil {
		q.byID = make(map[int64]*timer)
	}
	q.nextID++
	t.id = q.nextID
	q.byID[t.id] = t
	q.push(t)
	return e.r.ToValue(t.id)
}

func (e *execution) clearTimer(call goja.FunctionCall) goja.Value {
	if id := call.Argument(0).ToInteger(); id > 0 {
		e.timers.cancel(id)
	}
	return goja.Undefined()
}

// queueMicrotask schedules fn as a promise job; an exception it throws
// becomes an unhandled rejection, as in browsers it is only reported.
func (e *execution) queueMicrotask(call goja.FunctionCall) goja.Value {
	fn := call.Argument(0)
	if _, ok := goja.AssertFunction(fn); !ok {
		panic(e.r.NewTypeError("The callback must be a function"))
	}
	p, resolve, _ := e.r.NewPromise()
	_ = resolve(goja.Undefined())
	if e.promiseThen == nil {
		e.promiseThen = e.r.ToValue(p).(*goja.Object).Get("then")
	}
	then, ok := goja.AssertFunction(e.promiseThen)
	if !ok {
		panic(e.r.NewTypeError("Promise.prototype.then is not a function"))
	}
	if _, err := then(e.r.ToValue(p), fn); err != nil {
		panic(err)
	}
	return goja.Undefined()
}
