package auth

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// LimiterConfig sets the limits of a Limiter. Zero (or negative) fields take
// the values of DefaultLimiterConfig, so LimiterConfig{} means the defaults.
type LimiterConfig struct {
	// MaxFailures failures within Window lock a key out.
	MaxFailures int
	// Window is how long a failure counts.
	Window time.Duration
	// Lockout is how long a locked key is refused, from the failure that
	// locked it.
	Lockout time.Duration
	// MaxEntries caps the keys tracked; beyond it the key whose last failure
	// is oldest is forgotten.
	MaxEntries int
}

// DefaultLimiterConfig returns 5 failures per 15 minutes, a 15-minute
// lockout and 10000 tracked keys (a few MB at most).
func DefaultLimiterConfig() LimiterConfig {
	return LimiterConfig{MaxFailures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute, MaxEntries: 10000}
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
	if c.MaxEntries < 1 {
		c.MaxEntries = d.MaxEntries
	}
	return c
}

// Limiter counts failed logins per key (a client address, an account name)
// in memory and locks a key out after too many. Its memory is bounded by
// MaxEntries: entries expire, and when full the least recently failed key is
// forgotten. An attacker with more addresses than MaxEntries can therefore
// flush address entries; the account-name key still limits guesses per
// account. A Limiter is safe for concurrent use.
//
// Use: refuse when Allow says no; after a wrong password call Failure for
// each key; after a right one call Success for the account key only (so one
// valid account cannot reset an address's count).
type Limiter struct {
	cfg   LimiterConfig
	mu    sync.Mutex
	byKey map[string]*list.Element // of *limitEntry
	order *list.List               // least recently failed first
}

type limitEntry struct {
	key         string
	fails       []time.Time // failures within the window, oldest first
	lockedUntil time.Time
	last        time.Time // latest failure
}

// NewLimiter returns an empty Limiter with the given limits, unset ones
// taking their defaults.
func NewLimiter(cfg LimiterConfig) *Limiter {
	return &Limiter{cfg: cfg.withDefaults(), byKey: map[string]*list.Element{}, order: list.New()}
}

// Config returns the limits in effect, defaults filled in.
func (l *Limiter) Config() LimiterConfig { return l.cfg }

// Allow reports whether an attempt for key may proceed at now; if not, it
// also returns how long until the lockout ends.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	key = limitKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.byKey[key]
	if el == nil {
		return true, 0
	}
	if e := el.Value.(*limitEntry); now.Before(e.lockedUntil) {
		return false, e.lockedUntil.Sub(now)
	}
	return true, 0
}

// Failure records a failed attempt for key at now. The MaxFailures-th
// failure within Window locks the key for Lockout. Failures while locked are
// ignored (they do not extend the lockout).
func (l *Limiter) Failure(key string, now time.Time) {
	key = limitKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	el := l.byKey[key]
	if el == nil {
		if len(l.byKey) >= l.cfg.MaxEntries {
			l.remove(l.order.Front())
		}
		el = l.order.PushBack(&limitEntry{key: key, fails: make([]time.Time, 0, min(l.cfg.MaxFailures, 8))})
		l.byKey[key] = el
	}
	e := el.Value.(*limitEntry)
	if now.Before(e.lockedUntil) {
		return
	}
	keep := 0
	for keep < len(e.fails) && now.Sub(e.fails[keep]) >= l.cfg.Window {
		keep++
	}
	e.fails = append(e.fails[:0], e.fails[keep:]...)
	e.fails = append(e.fails, now)
	if len(e.fails) >= l.cfg.MaxFailures {
		e.lockedUntil = now.Add(l.cfg.Lockout)
		e.fails = e.fails[:0]
	}
	e.last = now
	l.order.MoveToBack(el)
}

// Success forgets key, typically after a successful login.
func (l *Limiter) Success(key string) {
	key = limitKey(key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if el := l.byKey[key]; el != nil {
		l.remove(el)
	}
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byKey)
}

// prune drops entries that no longer matter at now, from the least recently
// failed, and stops at the first live one. That order is only roughly expiry
// order (a long lockout in front can shield expired entries behind it for a
// while), which costs memory within MaxEntries, never correctness.
func (l *Limiter) prune(now time.Time) {
	for el := l.order.Front(); el != nil; el = l.order.Front() {
		e := el.Value.(*limitEntry)
		if now.Before(e.lockedUntil) || now.Sub(e.last) < l.cfg.Window {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.byKey, el.Value.(*limitEntry).key)
	l.order.Remove(el)
}

// limitKey bounds the memory a key can take: long keys (an attacker's
// made-up account names) are replaced by their hash.
func limitKey(key string) string {
	const maxKeyLen = 64
	if len(key) <= maxKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}
