package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newLimiter(t *testing.T, cfg LimiterConfig) *Limiter {
	t.Helper()
	l := NewLimiter(cfg)
	if l.Config() != cfg {
		t.Fatalf("Config() = %+v, want %+v", l.Config(), cfg)
	}
	return l
}

func wantAllow(t *testing.T, l *Limiter, key string, now time.Time, ok bool, retry time.Duration) {
	t.Helper()
	gotOK, gotRetry := l.Allow(key, now)
	if gotOK != ok || gotRetry != retry {
		t.Fatalf("Allow(%q, t0+%v) = %v, %v; want %v, %v", key, now.Sub(t0), gotOK, gotRetry, ok, retry)
	}
}

func TestLimiterLockout(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	wantAllow(t, l, "k", t0, true, 0)
	for i := 0; i < 4; i++ {
		l.Failure("k", t0.Add(time.Duration(i)*time.Minute))
		wantAllow(t, l, "k", t0.Add(time.Duration(i)*time.Minute), true, 0)
	}
	l.Failure("k", t0.Add(4*time.Minute)) // the fifth: locked until t0+19m
	wantAllow(t, l, "k", t0.Add(4*time.Minute), false, 15*time.Minute)
	wantAllow(t, l, "k", t0.Add(10*time.Minute), false, 9*time.Minute)
	wantAllow(t, l, "other", t0.Add(10*time.Minute), true, 0)
	l.Failure("k", t0.Add(10*time.Minute)) // ignored while locked
	wantAllow(t, l, "k", t0.Add(19*time.Minute-time.Nanosecond), false, time.Nanosecond)
	wantAllow(t, l, "k", t0.Add(19*time.Minute), true, 0)
	// After a lockout the count starts again.
	for i := 0; i < 4; i++ {
		l.Failure("k", t0.Add(20*time.Minute))
	}
	wantAllow(t, l, "k", t0.Add(20*time.Minute), true, 0)
	l.Failure("k", t0.Add(21*time.Minute))
	wantAllow(t, l, "k", t0.Add(21*time.Minute), false, 15*time.Minute)
}

func TestLimiterSlidingWindow(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	// Failures at 0, 5, 10, 14 minutes; at 15 the first has left the window.
	for _, m := range []int{0, 5, 10, 14, 15} {
		l.Failure("k", t0.Add(time.Duration(m)*time.Minute))
	}
	wantAllow(t, l, "k", t0.Add(15*time.Minute), true, 0)
	l.Failure("k", t0.Add(16*time.Minute)) // 5, 10, 14, 15, 16: five within 15 min
	wantAllow(t, l, "k", t0.Add(16*time.Minute), false, 15*time.Minute)
}

func TestLimiterSuccessClears(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	for i := 0; i < 5; i++ {
		l.Failure("acct", t0)
	}
	wantAllow(t, l, "acct", t0, false, 15*time.Minute)
	l.Success("acct")
	wantAllow(t, l, "acct", t0, true, 0)
	if l.Len() != 0 {
		t.Fatalf("Len() = %d after Success", l.Len())
	}
	l.Success("never-seen") // no-op
}

func TestLimiterEvictsOldest(t *testing.T) {
	cfg := DefaultLimiterConfig()
	cfg.MaxEntries = 3
	l := newLimiter(t, cfg)
	for i := 0; i < 5; i++ {
		l.Failure("a", t0)
	}
	l.Failure("b", t0.Add(time.Second))
	l.Failure("c", t0.Add(2*time.Second))
	l.Failure("a", t0.Add(3*time.Second)) // locked: ignored, a stays oldest
	l.Failure("d", t0.Add(4*time.Second))
	if l.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", l.Len())
	}
	wantAllow(t, l, "a", t0.Add(5*time.Second), true, 0) // evicted
	l.Failure("b", t0.Add(6*time.Second))                // b becomes newest
	l.Failure("e", t0.Add(7*time.Second))                // evicts c
	for _, k := range []string{"b", "d", "e"} {
		if l.byKey[k] == nil {
			t.Errorf("key %q evicted", k)
		}
	}
	if l.byKey["c"] != nil {
		t.Error("key c not evicted")
	}
}

func TestLimiterPrunesExpired(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	for i := 0; i < 100; i++ {
		l.Failure(fmt.Sprint("addr", i), t0)
	}
	for i := 0; i < 5; i++ {
		l.Failure("locked", t0.Add(time.Minute))
	}
	l.Failure("fresh", t0.Add(15*time.Minute))
	if l.Len() != 2 {
		t.Fatalf("Len() = %d, want 2 (locked, fresh)", l.Len())
	}
	l.Failure("fresh", t0.Add(16*time.Minute+time.Second))
	if l.Len() != 1 {
		t.Fatalf("Len() = %d, want 1 (fresh)", l.Len())
	}
}

func TestLimiterLongKeys(t *testing.T) {
	l := newLimiter(t, DefaultLimiterConfig())
	long := strings.Repeat("x", 1<<20)
	for i := 0; i < 5; i++ {
		l.Failure(long, t0)
	}
	wantAllow(t, l, long, t0, false, 15*time.Minute)
	wantAllow(t, l, long+"y", t0, true, 0)
	for k := range l.byKey {
		if len(k) > 100 {
			t.Fatalf("stored key of %d bytes", len(k))
		}
	}
}

func TestLimiterConfigDefaults(t *testing.T) {
	if got := NewLimiter(LimiterConfig{}).Config(); got != DefaultLimiterConfig() {
		t.Fatalf("LimiterConfig{} gives %+v, want the defaults", got)
	}
	got := NewLimiter(LimiterConfig{MaxFailures: 3, Window: -time.Second, Lockout: time.Hour}).Config()
	want := DefaultLimiterConfig()
	want.MaxFailures, want.Lockout = 3, time.Hour
	if got != want {
		t.Fatalf("partial config gives %+v, want %+v", got, want)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	cfg := DefaultLimiterConfig()
	cfg.MaxEntries = 50
	l := newLimiter(t, cfg)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 2000; i++ {
				key := fmt.Sprint("k", (g*7+i)%120)
				now := t0.Add(time.Duration(i) * time.Second)
				if ok, _ := l.Allow(key, now); ok {
					l.Failure(key, now)
				}
				if i%97 == 0 {
					l.Success(key)
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > cfg.MaxEntries || n != l.order.Len() {
		t.Fatalf("Len() = %d, list %d, cap %d", n, l.order.Len(), cfg.MaxEntries)
	}
}
