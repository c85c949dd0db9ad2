package auth

import (
	"sync"
	"time"
)

// PacerConfig sets the pace of a Pacer. Zero (or negative) fields take the
// values of DefaultPacerConfig.
type PacerConfig struct {
	// Burst attempts may be made at once, and Burst within any Period.
	Burst int
	// Period is how long Burst attempts take to be allowed again; past the
	// burst, one attempt is allowed every Period/Burst.
	Period time.Duration
	// MaxEntries caps the keys tracked; beyond it the key least recently
	// used is forgotten.
	MaxEntries int
}

// DefaultPacerConfig returns 100 attempts per 15 minutes (past them one every
// 9 seconds) and 10000 tracked keys.
func DefaultPacerConfig() PacerConfig {
	return PacerConfig{Burst: 100, Period: 15 * time.Minute, MaxEntries: 10000}
}

func (c PacerConfig) withDefaults() PacerConfig {
	d := DefaultPacerConfig()
	if c.Burst < 1 {
		c.Burst = d.Burst
	}
	if c.Period <= 0 {
		c.Period = d.Period
	}
	if c.MaxEntries < 1 {
		c.MaxEntries = d.MaxEntries
	}
	return c
}

// Pacer paces attempts per key: a burst, then a steady rate, never a
// lockout (the generic cell rate algorithm). It slows down guesses against
// one account from many addresses without locking the account for its
// owner: past the burst, the wait is one interval, not a lockout. Failed
// attempts keep their slot; cancelled ones give it back. A Pacer is safe for
// concurrent use.
type Pacer struct {
	cfg      PacerConfig
	interval time.Duration
	mu       sync.Mutex
	keys     *table[time.Time] // when the key's slots are all free again
}

// NewPacer returns an empty Pacer with the given pace, unset fields taking
// their defaults.
func NewPacer(cfg PacerConfig) *Pacer {
	cfg = cfg.withDefaults()
	return &Pacer{cfg: cfg, interval: cfg.Period / time.Duration(cfg.Burst), keys: newTable[time.Time](cfg.MaxEntries)}
}

// Config returns the pace in effect, defaults filled in.
func (p *Pacer) Config() PacerConfig { return p.cfg }

// Reserve takes a slot for an attempt on key at now, in one step with the
// check; when none is free, retryAfter says when the next one is.
func (p *Pacer) Reserve(key string, now time.Time) (r *Reservation, retryAfter time.Duration, ok bool) {
	key = limitKey(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys.prune(func(free *time.Time) bool { return !now.Before(*free) })
	free := p.keys.use(key, func() time.Time { return now }, func(*time.Time) bool { return false })
	next := *free
	if next.Before(now) {
		next = now
	}
	next = next.Add(p.interval)
	if over := next.Sub(now) - p.cfg.Period; over > 0 {
		return nil, over, false
	}
	*free = next
	return &Reservation{
		fail:   func(time.Time) {},
		cancel: func() { p.release(key) },
	}, 0, true
}

// release gives a slot of key back.
func (p *Pacer) release(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if free := p.keys.get(key); free != nil {
		*free = free.Add(-p.interval)
	}
}

// Len returns the number of keys tracked.
func (p *Pacer) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys.len()
}
