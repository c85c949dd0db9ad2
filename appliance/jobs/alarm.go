package jobs

import (
	"context"
	"sync"
	"time"
)

// alarm is what wakes a polling loop, the queue consumers' and the
// inbox's: a signal (a notification heard, work known to be waiting), the
// earliest due time a poll saw in the database, and fallback at the
// latest.
type alarm struct {
	// wake tells the loop to poll: it holds one signal at most, and a
	// signal sent while one is pending is taken with it.
	wake  chan struct{}
	dueMu sync.Mutex
	// due is the earliest time work is known to become due (zero: none),
	// taken by the loop after each poll.
	due time.Time
	// fallback is how long the loop sleeps when nothing wakes it (tests
	// set it longer).
	fallback time.Duration
}

func newAlarm(fallback time.Duration) alarm {
	return alarm{wake: make(chan struct{}, 1), fallback: fallback}
}

// loop calls poll(false) now, and again every fallback and at each due
// time noted; poll(true) when signalled; until ctx ends.
func (a *alarm) loop(ctx context.Context, poll func(woken bool)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var next time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			next = time.Now().Add(a.fallback)
			poll(false)
		case <-a.wake:
			poll(true)
		}
		if due := a.takeDue(); !due.IsZero() && due.Before(next) {
			next = due
		}
		timer.Reset(max(time.Until(next), minWait))
	}
}

// signal has the loop poll at once (after the poll it is in).
func (a *alarm) signal() {
	select {
	case a.wake <- struct{}{}:
	default: // a wake is pending already: it takes this one too
	}
}

// dueAt notes that work is due at t, for the loop to poll then once the
// poll it is in ends.
func (a *alarm) dueAt(t time.Time) {
	a.dueMu.Lock()
	if a.due.IsZero() || t.Before(a.due) {
		a.due = t
	}
	a.dueMu.Unlock()
}

// dueIn notes that work is due in d; nothing when d is not above zero
// (none waits).
func (a *alarm) dueIn(d time.Duration) {
	if d > 0 {
		a.dueAt(time.Now().Add(d))
	}
}

// takeDue empties the earliest due time and returns it.
func (a *alarm) takeDue() time.Time {
	a.dueMu.Lock()
	defer a.dueMu.Unlock()
	due := a.due
	a.due = time.Time{}
	return due
}
