package auth

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// begin expects an attempt to be let through.
func begin(t *testing.T, th *Throttle, account, address string, now time.Time) *Attempt {
	t.Helper()
	a, err := th.Begin(account, address, now)
	if err != nil {
		t.Fatalf("Begin(%q, %q, t0+%v): %v", account, address, now.Sub(t0), err)
	}
	return a
}

// wantThrottled expects an attempt to be refused and returns the error.
func wantThrottled(t *testing.T, th *Throttle, account, address string, now time.Time) *ThrottledError {
	t.Helper()
	a, err := th.Begin(account, address, now)
	var te *ThrottledError
	if !errors.As(err, &te) || a != nil {
		t.Fatalf("Begin(%q, %q, t0+%v) = %v, %v; want a ThrottledError", account, address, now.Sub(t0), a, err)
	}
	return te
}

func TestThrottleOwnerGetsInFromElsewhere(t *testing.T) {
	th := NewThrottle(ThrottleConfig{})
	for range 5 {
		begin(t, th, "admin", "attacker", t0).Failed(t0)
	}
	if te := wantThrottled(t, th, "admin", "attacker", t0); te.Busy || te.RetryAfter != 15*time.Minute {
		t.Fatalf("the attacker's pair: %+v, want a 15-minute lockout", te)
	}
	begin(t, th, "admin", "owner", t0).Succeeded()
	begin(t, th, "carol", "attacker", t0).Abandon() // other accounts from there: still allowed
}

func TestThrottleAddressAcrossAccounts(t *testing.T) {
	th := NewThrottle(ThrottleConfig{})
	for i := range 20 {
		begin(t, th, fmt.Sprint("user", i), "sprayer", t0).Failed(t0)
	}
	if te := wantThrottled(t, th, "fresh", "sprayer", t0); te.RetryAfter != 15*time.Minute {
		t.Fatalf("the sprayer: %+v", te)
	}
	// A success does not clear the address.
	wantThrottled(t, th, "user0", "sprayer", t0)
	begin(t, th, "fresh", "elsewhere", t0).Succeeded()
}

func TestThrottleAccountIsPacedNotLocked(t *testing.T) {
	th := NewThrottle(ThrottleConfig{Account: PacerConfig{Burst: 10, Period: 100 * time.Second}})
	for i := range 10 {
		begin(t, th, "admin", fmt.Sprint("addr", i), t0).Failed(t0)
	}
	te := wantThrottled(t, th, "admin", "owner", t0)
	if te.Busy || te.RetryAfter != 10*time.Second {
		t.Fatalf("past the account's ceiling: %+v, want a wait of one interval", te)
	}
	begin(t, th, "admin", "owner", at(10*time.Second)).Succeeded()
}

func TestThrottleSuccessForgetsThePair(t *testing.T) {
	th := NewThrottle(ThrottleConfig{})
	for range 4 {
		begin(t, th, "admin", "laptop", t0).Failed(t0)
	}
	begin(t, th, "admin", "laptop", t0).Succeeded()
	for range 5 {
		begin(t, th, "admin", "laptop", t0).Failed(t0)
	}
	wantThrottled(t, th, "admin", "laptop", t0)
}

func TestThrottleRefusalTakesNoSlot(t *testing.T) {
	th := NewThrottle(ThrottleConfig{})
	for i := range 5 {
		begin(t, th, "admin", fmt.Sprint("a", i), t0).Failed(t0)
	}
	for range 5 {
		begin(t, th, "bob", "a0", t0).Failed(t0)
	}
	// a0 is locked for bob; its refusals must not use up the address's
	// or the account's slots.
	for range 100 {
		wantThrottled(t, th, "bob", "a0", t0)
	}
	// a0 has failed 6 times (admin once, bob 5 times): 14 more for 20.
	for i := range 14 {
		begin(t, th, fmt.Sprint("carol", i), "a0", t0).Failed(t0)
	}
	wantThrottled(t, th, "dave", "a0", t0)
	begin(t, th, "bob", "elsewhere", t0).Abandon()
}

func TestThrottleBusy(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxInFlight: 2})
	a := begin(t, th, "u1", "x", t0)
	b := begin(t, th, "u2", "y", t0)
	if te := wantThrottled(t, th, "u3", "z", t0); !te.Busy || te.RetryAfter != time.Second {
		t.Fatalf("past MaxInFlight: %+v, want busy", te)
	}
	a.Failed(t0)
	a.Abandon() // settled already: frees nothing more
	c := begin(t, th, "u3", "z", t0)
	wantThrottled(t, th, "u4", "w", t0)
	b.Succeeded()
	c.Abandon()
	begin(t, th, "u4", "w", t0).Abandon()
	// The busy refusal gave its slots back: u3 from z was never counted.
	for range 5 {
		begin(t, th, "u3", "z", t0).Failed(t0)
	}
}

// TestThrottleBurstFromOneAddress is the scenario: 200 attempts at
// once on one account from one address; five are let through.
func TestThrottleBurstFromOneAddress(t *testing.T) {
	th := NewThrottle(ThrottleConfig{MaxInFlight: 1000})
	var through atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			a, err := th.Begin("admin", "attacker", t0)
			if err != nil {
				return
			}
			through.Add(1)
			a.Failed(t0)
		})
	}
	close(start)
	wg.Wait()
	if n := through.Load(); n != 5 {
		t.Fatalf("%d of 200 attempts let through, want 5", n)
	}
}
