package auth

import (
	"sync"
	"time"
)

// LimiterConfig sets the limits of a Limiter. Zero (or negative) fields take
// the values of DefaultLimiterConfig, so LimiterConfig{} means the defaults.
type LimiterConfig struct {
	// MaxFailures failures within Window lock a key out. Attempts in
	// progress count as failures until they are settled.
	MaxFailures int
	// Window is how long a failure counts.
	Window time.Duration
	// Lockout is how long a key is refused the first time it is locked,
	// from the failure that locked it.
	Lockout time.Duration
	// MaxLockout bounds the lockout, which doubles each time the key is
	// locked again; a key's lockouts are remembered until MaxLockout has
	// passed since the last one ended. Below Lockout it is Lockout: every
	// lockout is as long as the first.
	MaxLockout time.Duration
	// MaxEntries caps the keys tracked; beyond it the key least recently
	// used is forgotten.
	MaxEntries int
}

// DefaultLimiterConfig returns 5 failures per 15 minutes, a 15-minute
// lockout doubling up to a day and 10000 tracked keys (a few MB at most).
func DefaultLimiterConfig() LimiterConfig {
	return LimiterConfig{MaxFailures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute,
		MaxLockout: 24 * time.Hour, MaxEntries: 10000}
}

// withDefaults replaces unset fields by their defaults.
func (c LimiterConfig) withDefaults() LimiterConfig {
	d := DefaultLimiterConfig()
	if c.MaxFailures < 1 {
		c.MaxFailures = d.MaxFailures
	}
	if c.Window <= 0 {
		c.Window = d.Window
	}
	if c.Lockout <= 0 {
		c.Lockout = d.Lockout
	}
	if c.MaxLockout <= 0 {
		c.MaxLockout = d.MaxLockout
	}
	c.MaxLockout = max(c.MaxLockout, c.Lockout)
	if c.MaxEntries < 1 {
		c.MaxEntries = d.MaxEntries
	}
	return c
}

// Limiter counts failed attempts per key (an address, an account, the two
// together) in memory and locks a key out after too many, for longer each
// time. An attempt reserves its slot before it is verified (Reserve) and
// the reservation counts as a failure until it is settled, so that however
// many attempts arrive at once, no more than MaxFailures are ever let
// through. A Limiter is safe for concurrent use.
//
// Its memory is bounded by MaxEntries: entries expire, and when full the
// least recently used key is forgotten. An attacker with more addresses than
// MaxEntries can therefore flush address entries; a limit on a key they
// cannot multiply (a Pacer per account) bounds guesses per account.
type Limiter struct {
	cfg  LimiterConfig
	mu   sync.Mutex
	keys *table[limitEntry]
}

type limitEntry struct {
	fails       []time.Time // failures within the window, oldest first
	pending     int         // attempts reserved, not yet settled
	lockedUntil time.Time
	strikes     int       // lockouts remembered, for the next one's length
	last        time.Time // latest failure or reservation
}

// NewLimiter returns an empty Limiter with the given limits, unset ones
// taking their defaults.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg = cfg.withDefaults()
	return &Limiter{cfg: cfg, keys: newTable[limitEntry](cfg.MaxEntries)}
}

// Config returns the limits in effect, defaults filled in.
func (l *Limiter) Config() LimiterConfig { return l.cfg }

// Reserve takes a slot for an attempt on key at now, in one step with the
// check: the key is refused while it is locked or while its failures and
// the attempts in progress fill MaxFailures, and retryAfter then says how
// long to wait. Settle a reservation with Fail or Cancel.
func (l *Limiter) Reserve(key string, now time.Time) (r *Reservation, retryAfter time.Duration, ok bool) {
	key = limitKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys.prune(func(e *limitEntry) bool { return l.expired(e, now) })
	e := l.keys.use(key, func() limitEntry { return limitEntry{} }, busyEntry)
	if now.Before(e.lockedUntil) {
		return nil, e.lockedUntil.Sub(now), false
	}
	l.slide(e, now)
	if len(e.fails)+e.pending >= l.cfg.MaxFailures {
		// Only attempts in progress fill the slots (the last failure would
		// have locked the key): they settle within a verification.
		return nil, time.Second, false
	}
	e.pending++
	e.last = now
	return &Reservation{
		fail:   func(at time.Time) { l.settle(key, at, true) },
		cancel: func() { l.settle(key, now, false) },
	}, 0, true
}

// settle ends a reservation of key: as a failure at now, or not counted.
// The MaxFailures-th failure within Window locks the key.
func (l *Limiter) settle(key string, now time.Time, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys.get(key)
	if e == nil { // evicted meanwhile
		if !failed {
			return
		}
		e = l.keys.use(key, func() limitEntry { return limitEntry{} }, busyEntry)
	} else if e.pending > 0 {
		e.pending--
	}
	if !failed {
		if e.pending == 0 && len(e.fails) == 0 && e.strikes == 0 {
			l.keys.remove(key) // nothing left to remember
		}
		return
	}
	if now.Before(e.lockedUntil) {
		return
	}
	l.slide(e, now)
	e.fails = append(e.fails, now)
	e.last = now
	if len(e.fails) >= l.cfg.MaxFailures {
		e.lockedUntil = now.Add(l.lockout(e.strikes))
		e.strikes++
		e.fails = e.fails[:0]
	}
}

// Success forgets key's failures and lockouts, typically after a right
// password; attempts in progress still hold their slots.
func (l *Limiter) Success(key string) {
	key = limitKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys.get(key)
	if e == nil {
		return
	}
	if e.pending == 0 {
		l.keys.remove(key)
		return
	}
	*e = limitEntry{pending: e.pending, last: e.last}
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys.len()
}

// lockout is the length of a key's lockout after strikes earlier ones.
func (l *Limiter) lockout(strikes int) time.Duration {
	d := l.cfg.Lockout
	for range strikes {
		if d >= l.cfg.MaxLockout/2 {
			return l.cfg.MaxLockout
		}
		d *= 2
	}
	return d
}

// slide drops the failures that have left the window at now.
func (l *Limiter) slide(e *limitEntry, now time.Time) {
	keep := 0
	for keep < len(e.fails) && now.Sub(e.fails[keep]) >= l.cfg.Window {
		keep++
	}
	e.fails = append(e.fails[:0], e.fails[keep:]...)
}

// expired reports whether e no longer matters at now: nothing in progress,
// its failures out of the window and its last lockout long enough ago to be
// forgotten.
func (l *Limiter) expired(e *limitEntry, now time.Time) bool {
	if e.pending > 0 || now.Sub(e.last) < l.cfg.Window {
		return false
	}
	return e.strikes == 0 || now.Sub(e.lockedUntil) >= l.cfg.MaxLockout
}

func busyEntry(e *limitEntry) bool { return e.pending > 0 }

// A Reservation is the slot of one attempt, taken from a Limiter or a
// Pacer. Settle it once, with Fail or Cancel; later calls do nothing. It
// is not safe for concurrent use.
type Reservation struct {
	fail   func(now time.Time)
	cancel func()
	done   bool
}

// Fail settles the reservation as a failed attempt at now.
func (r *Reservation) Fail(now time.Time) {
	if r != nil && !r.done {
		r.done = true
		r.fail(now)
	}
}

// Cancel settles the reservation as not counted: a successful attempt, or
// one that could not be verified.
func (r *Reservation) Cancel() {
	if r != nil && !r.done {
		r.done = true
		r.cancel()
	}
}
