package auth

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func newLimiter(t *testing.T, cfg LimiterConfig) *Limiter {
	t.Helper()
	l := NewLimiter(cfg)
	if l.Config() != cfg {
		t.Fatalf("Config() = %+v, want %+v", l.Config(), cfg)
	}
	return l
}

// reserve takes a slot and expects it granted.
func reserve(t *testing.T, l *Limiter, key string, now time.Time) *Reservation {
	t.Helper()
	r, wait, ok := l.Reserve(key, now)
	if !ok || r == nil || wait != 0 {
		t.Fatalf("Reserve(%q, t0+%v) = %v, %v, %v; want a slot", key, now.Sub(t0), r, wait, ok)
	}
	return r
}

// fail records one failed attempt.
func fail(t *testing.T, l *Limiter, key string, now time.Time) {
	t.Helper()
	reserve(t, l, key, now).Fail(now)
}

// wantRefused expects Reserve to refuse with retry.
func wantRefused(t *testing.T, l *Limiter, key string, now time.Time, retry time.Duration) {
	t.Helper()
	r, wait, ok := l.Reserve(key, now)
	if ok || r != nil || wait != retry {
		t.Fatalf("Reserve(%q, t0+%v) = %v, %v, %v; want refused for %v", key, now.Sub(t0), r, wait, ok, retry)
	}
}

// wantFree expects Reserve to grant a slot, and gives it back.
func wantFree(t *testing.T, l *Limiter, key string, now time.Time) {
	t.Helper()
	reserve(t, l, key, now).Cancel()
}

func TestLimiterLockout(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	wantFree(t, l, "k", t0)
	for i := range 4 {
		fail(t, l, "k", at(time.Duration(i)*time.Minute))
		wantFree(t, l, "k", at(time.Duration(i)*time.Minute))
	}
	fail(t, l, "k", at(4*time.Minute)) // the fifth: locked until t0+19m
	wantRefused(t, l, "k", at(4*time.Minute), 15*time.Minute)
	wantRefused(t, l, "k", at(10*time.Minute), 9*time.Minute)
	wantFree(t, l, "other", at(10*time.Minute))
	wantRefused(t, l, "k", at(19*time.Minute-time.Nanosecond), time.Nanosecond)
	wantFree(t, l, "k", at(19*time.Minute))
}

func TestLimiterLockoutDoubles(t *testing.T) {
	cfg := DefaultLimiterConfig()
	cfg.MaxLockout = time.Hour
	l := newLimiter(t, cfg)
	now := t0
	for _, want := range []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, time.Hour} {
		for range 5 {
			fail(t, l, "k", now)
		}
		wantRefused(t, l, "k", now, want)
		now = now.Add(want)
		wantFree(t, l, "k", now)
	}
	// A lockout is remembered until MaxLockout after it ended: after that,
	// the next one is as short as the first.
	now = now.Add(time.Hour)
	for range 5 {
		fail(t, l, "k", now)
	}
	wantRefused(t, l, "k", now, 15*time.Minute)
}

func TestLimiterSlidingWindow(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	// Failures at 0, 5, 10, 14 minutes; at 15 the first has left the window.
	for _, m := range []int{0, 5, 10, 14, 15} {
		fail(t, l, "k", at(time.Duration(m)*time.Minute))
	}
	wantFree(t, l, "k", at(15*time.Minute))
	fail(t, l, "k", at(16*time.Minute)) // 5, 10, 14, 15, 16: five within 15 min
	wantRefused(t, l, "k", at(16*time.Minute), 15*time.Minute)
}

// TestLimiterReservationsCount is item 3's guarantee: attempts in progress
// hold slots, so no more than MaxFailures are let through at once.
func TestLimiterReservationsCount(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	var held []*Reservation
	for range 5 {
		held = append(held, reserve(t, l, "k", t0))
	}
	wantRefused(t, l, "k", t0, time.Second) // full of attempts in progress
	held[0].Cancel()                        // one was right, or never verified
	held[0].Cancel()                        // settling twice does nothing
	held[0] = reserve(t, l, "k", t0)
	for _, r := range held {
		r.Fail(at(time.Second))
	}
	wantRefused(t, l, "k", at(time.Second), 15*time.Minute)
	held[1].Fail(at(2 * time.Second)) // settled already: nothing
	wantRefused(t, l, "k", at(time.Second), 15*time.Minute)
}

func TestLimiterConcurrentReservations(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	var granted atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			if r, _, ok := l.Reserve("k", t0); ok {
				granted.Add(1)
				r.Fail(t0)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := granted.Load(); n != 5 {
		t.Fatalf("%d of 200 concurrent attempts got a slot, want 5", n)
	}
}

func TestLimiterSuccessClears(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	for range 5 {
		fail(t, l, "acct", t0)
	}
	wantRefused(t, l, "acct", t0, 15*time.Minute)
	l.Success("acct")
	wantFree(t, l, "acct", t0)
	if l.Len() != 0 {
		t.Fatalf("Len() = %d after Success", l.Len())
	}
	l.Success("never-seen") // no-op

	// Attempts in progress keep their slots across a Success.
	var held []*Reservation
	for range 4 {
		held = append(held, reserve(t, l, "k", t0))
	}
	fail(t, l, "k", t0)
	l.Success("k")
	reserve(t, l, "k", t0)
	wantRefused(t, l, "k", t0, time.Second)
	for _, r := range held {
		r.Cancel()
	}
	wantFree(t, l, "k", t0)
}

func TestLimiterEvictsLeastRecentlyUsed(t *testing.T) {
	cfg := DefaultLimiterConfig()
	cfg.MaxEntries = 3
	l := newLimiter(t, cfg)
	for range 5 {
		fail(t, l, "a", t0)
	}
	busy := reserve(t, l, "b", at(time.Second)) // in progress: never evicted
	fail(t, l, "c", at(2*time.Second))
	fail(t, l, "d", at(3*time.Second)) // evicts a, the least recently used
	if l.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", l.Len())
	}
	wantFree(t, l, "a", at(4*time.Second)) // forgotten; evicts c, since b is busy
	if l.keys.get("b") == nil || l.keys.get("c") != nil {
		t.Fatal("evicted an entry with an attempt in progress")
	}
	busy.Fail(at(5 * time.Second))
}

func TestLimiterPrunesExpired(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	for i := range 100 {
		fail(t, l, fmt.Sprint("addr", i), t0)
	}
	for range 5 {
		fail(t, l, "locked", at(time.Minute))
	}
	fail(t, l, "fresh", at(15*time.Minute))
	if l.Len() != 2 {
		t.Fatalf("Len() = %d, want 2 (locked, fresh)", l.Len())
	}
	// The lockout ended at 16m and is remembered a day longer.
	fail(t, l, "fresh", at(24*time.Hour+16*time.Minute+time.Second))
	if l.Len() != 1 {
		t.Fatalf("Len() = %d, want 1 (fresh)", l.Len())
	}
}

func TestLimiterLongKeys(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	long := strings.Repeat("x", 1<<20)
	for range 5 {
		fail(t, l, long, t0)
	}
	wantRefused(t, l, long, t0, 15*time.Minute)
	wantFree(t, l, long+"y", t0)
	for k := range l.keys.byKey {
		if len(k) > 100 {
			t.Fatalf("stored key of %d bytes", len(k))
		}
	}
}

func TestLimiterConfigDefaults(t *testing.T) {
	if got := NewLimiter(LimiterConfig{}).Config(); got != DefaultLimiterConfig() {
		t.Fatalf("LimiterConfig{} gives %+v, want the defaults", got)
	}
	got := NewLimiter(LimiterConfig{MaxFailures: 3, Window: -time.Second, Lockout: time.Hour, MaxLockout: time.Minute}).Config()
	want := DefaultLimiterConfig()
	want.MaxFailures, want.Lockout, want.MaxLockout = 3, time.Hour, time.Hour
	if got != want {
		t.Fatalf("partial config gives %+v, want %+v", got, want)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	cfg := DefaultLimiterConfig()
	cfg.MaxEntries = 50
	l := newLimiter(t, cfg)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				key := fmt.Sprint("k", (g*7+i)%120)
				now := at(time.Duration(i) * time.Second)
				if r, _, ok := l.Reserve(key, now); ok {
					if i%3 == 0 {
						r.Cancel()
					} else {
						r.Fail(now)
					}
				}
				if i%97 == 0 {
					l.Success(key)
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > cfg.MaxEntries || n != l.keys.order.Len() {
		t.Fatalf("Len() = %d, list %d, cap %d", n, l.keys.order.Len(), cfg.MaxEntries)
	}
	for el := l.keys.order.Front(); el != nil; el = el.Next() {
		if p := el.Value.(*row[limitEntry]).val.pending; p != 0 {
			t.Fatalf("%d attempts still pending after all were settled", p)
		}
	}
}
