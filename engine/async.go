package engine

import (
	"time"

	"github.com/dop251/goja"
)

// Go work that a script awaits (an outbound fetch) runs in its own
// goroutine; when it is done, its continuation is queued here and run on
// the execution's goroutine, the only one that may touch the runtime, by
// the loop that drives timers (step).

// goAsync runs work in a goroutine and then, on the execution's goroutine,
// the continuation work returns. Continuations of an execution that ended
// are dropped; work should watch e.done to stop early.
func (e *execution) goAsync(work func() func()) {
	if e.completions == nil {
		// Sized for every subrequest an execution may make, so that a
		// finished goroutine never blocks on an execution that ended.
		e.completions = make(chan func(), e.lim.MaxSubrequests+1)
	}
	e.inflight++
	go func() {
		k := work()
		select {
		case e.completions <- k:
		case <-e.done:
		}
	}()
}

// step runs the next continuation or due timer, waiting for one if needed.
// With neither left, nothing can settle a pending promise but the deadline.
func (e *execution) step() *ExecError {
	t := e.timers.peek()
	if t == nil && e.inflight == 0 {
		<-e.done
		return e.stopError()
	}
	var due <-chan time.Time
	if t != nil {
		if d := time.Until(t.due); d > 0 {
			tm := time.NewTimer(d)
			defer tm.Stop()
			due = tm.C
		} else {
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			due = ch
		}
	}
	select {
	case k := <-e.completions:
		e.inflight--
		if e.stopped() {
			return e.stopError()
		}
		k()
		return nil
	case <-due:
	case <-e.done:
		return e.stopError()
	}
	if e.stopped() {
		return e.stopError()
	}
	e.timers.pop()
	if t.interval > 0 {
		t.due = time.Now().Add(t.interval)
		e.timers.push(t)
	} else {
		delete(e.timers.byID, t.id)
	}
	if _, err := t.fn(goja.Undefined(), t.args...); err != nil {
		return e.jsError(err)
	}
	return nil
}

// limit ends the execution because it passed one of its limits: the
// runtime is interrupted as soon as the native call that noticed returns.
func (e *execution) limit(code, msg string) {
	e.stop(&ExecError{Code: code, Message: msg})
}
