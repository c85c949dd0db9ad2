package auth

import (
	"fmt"
	"sync"
	"time"
)

// ThrottleConfig is the login policy of a Throttle. Zero fields take the
// values of DefaultThrottleConfig.
type ThrottleConfig struct {
	// Pair limits the failures of one account from one address.
	Pair LimiterConfig
	// Address limits the failures from one address across accounts.
	Address LimiterConfig
	// Account paces the attempts on one account across addresses.
	Account PacerConfig
	// MaxInFlight caps the attempts being verified at once, across every
	// account and address; past it attempts are refused as busy.
	MaxInFlight int
}

// DefaultThrottleConfig is PiCloud's login policy: 5 failures of one
// account from one address, or 20 from one address across accounts, within
// 15 minutes lock that pair (or address) for 15 minutes, doubling with each
// repeat up to a day; one account takes 100 attempts per 15 minutes from
// all addresses together, then one every 9 seconds; 16 verifications run or
// wait at once.
func DefaultThrottleConfig() ThrottleConfig {
	addr := DefaultLimiterConfig()
	addr.MaxFailures = 20
	return ThrottleConfig{Pair: DefaultLimiterConfig(), Address: addr, Account: DefaultPacerConfig(), MaxInFlight: 16}
}

// Throttle decides whether a login attempt may be verified. Every attempt
// takes its slots (per account and address, per address, per account)
// before its password is verified, so that no more guesses are verified than
// the policy allows however many arrive at once. The account's own limit is
// a pace, not a lockout: an attacker at one address cannot lock the owner
// out, who logs in from elsewhere. A Throttle is safe for concurrent use.
type Throttle struct {
	pair, address *Limiter
	account       *Pacer
	maxInFlight   int
	mu            sync.Mutex
	inFlight      int
}

// NewThrottle returns a Throttle with the policy cfg, unset fields taking
// their defaults.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.MaxInFlight < 1 {
		cfg.MaxInFlight = DefaultThrottleConfig().MaxInFlight
	}
	if cfg.Address == (LimiterConfig{}) {
		cfg.Address = DefaultThrottleConfig().Address
	}
	return &Throttle{pair: NewLimiter(cfg.Pair), address: NewLimiter(cfg.Address),
		account: NewPacer(cfg.Account), maxInFlight: cfg.MaxInFlight}
}

// ThrottledError refuses an attempt: too many failures (or attempts in
// progress) for its account and address, or, Busy, too many attempts being
// verified at once.
type ThrottledError struct {
	RetryAfter time.Duration
	Busy       bool
}

func (e *ThrottledError) Error() string {
	if e.Busy {
		return "too many logins in progress; retry in a second"
	}
	return fmt.Sprintf("too many failed logins; retry in %s", e.RetryAfter.Round(time.Second))
}

// Begin takes the slots of an attempt on account from address at now, or
// refuses it with a *ThrottledError. Settle the attempt with Failed or
// Succeeded once the password is verified, and Abandon it on every path
// (a deferred Abandon after a settled attempt does nothing).
func (t *Throttle) Begin(account, address string, now time.Time) (*Attempt, error) {
	a := &Attempt{t: t, pairKey: pairKey(account, address)}
	for _, take := range []func() (*Reservation, time.Duration, bool){
		func() (*Reservation, time.Duration, bool) { return t.pair.Reserve(a.pairKey, now) },
		func() (*Reservation, time.Duration, bool) { return t.address.Reserve(address, now) },
		func() (*Reservation, time.Duration, bool) { return t.account.Reserve(account, now) },
	} {
		r, wait, ok := take()
		if !ok {
			a.cancel()
			return nil, &ThrottledError{RetryAfter: wait}
		}
		a.slots = append(a.slots, r)
	}
	t.mu.Lock()
	busy := t.inFlight >= t.maxInFlight
	if !busy {
		t.inFlight++
	}
	t.mu.Unlock()
	if busy {
		a.cancel()
		return nil, &ThrottledError{RetryAfter: time.Second, Busy: true}
	}
	a.counted = true
	return a, nil
}

// pairKey is the key of an account at an address; the NUL cannot occur
// in either.
func pairKey(account, address string) string { return account + "\x00" + address }

// An Attempt holds the slots of one login attempt until it is settled. It
// is not safe for concurrent use.
type Attempt struct {
	t       *Throttle
	pairKey string
	slots   []*Reservation // pair, address, account
	counted bool           // holds an in-flight place
}

// Failed settles the attempt as a wrong password (or an unknown or disabled
// account) at now: it counts against every limit.
func (a *Attempt) Failed(now time.Time) {
	for _, r := range a.slots {
		r.Fail(now)
	}
	a.leave()
}

// Succeeded settles the attempt as a right password: the account's failures
// from this address are forgotten; the address's failures on other
// accounts are not, so that one account an attacker knows cannot clear the
// address.
func (a *Attempt) Succeeded() {
	a.cancel()
	a.t.pair.Success(a.pairKey)
}

// Abandon settles an attempt that was not verified (an error on the way):
// it counts against nothing. After Failed or Succeeded it does nothing.
func (a *Attempt) Abandon() { a.cancel() }

func (a *Attempt) cancel() {
	for _, r := range a.slots {
		r.Cancel()
	}
	a.leave()
}

func (a *Attempt) leave() {
	if a.counted {
		a.counted = false
		a.t.mu.Lock()
		a.t.inFlight--
		a.t.mu.Unlock()
	}
}
