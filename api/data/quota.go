package data

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// UsageStore measures apps' data; appliance/store's Store satisfies it.
type UsageStore interface {
	// AppDataUsage is what an app's data takes, per kind of store: one
	// query over the app's data, so not for every write.
	AppDataUsage(ctx context.Context, appID string) ([]model.StoreUsage, error)
	// AppStorageQuota is an app's own quota, nil for the default.
	AppStorageQuota(ctx context.Context, appID string) (*int64, error)
}

// Usage is counted exactly (UsageStore) when an app first writes, in the
// background when the count is older than recountAfter, and when a write
// would pass the quota,
// unless the count is younger than freshCount and nothing was deleted
// since. In between, each write adds its size: an overwrite counts as new
// bytes, a delete frees nothing, so the estimate errs high, and a write is
// refused only on an exact count (or one freshCount old).
const (
	recountAfter = time.Minute
	freshCount   = time.Second
)

// quotas keeps each app's usage for the write path: an estimate from the
// last exact count plus the writes since, so that a write costs no query.
type quotas struct {
	st   UsageStore
	def  atomic.Int64 // the default quota, bytes
	mu   sync.Mutex
	apps map[string]*appUsage

	scanning atomic.Bool // the metrics' background counts run
}

// appUsage is one app's usage. mu is held during a count a write needs
// (the first, or one to refuse it), so that the app's writes wait for one
// count rather than each making one; the periodic count runs beside them.
type appUsage struct {
	mu      sync.Mutex
	counted time.Time // the last exact count; zero: never
	gen     int       // counts made
	used    int64     // bytes: the count plus the writes since
	quota   int64     // the app's own quota, or 0 for the default
	deleted bool      // something was deleted since the count

	counting     bool  // a background count runs
	since        int64 // bytes written since it began
	deletedSince bool  // something was deleted since it began

	// What the metrics read without waiting for mu: used and quota as of
	// the last change, once counted.
	shownUsed, shownQuota atomic.Int64
	shown                 atomic.Bool
}

// publish makes used and quota what the metrics read; u.mu is held.
func (u *appUsage) publish() {
	u.shownUsed.Store(u.used)
	u.shownQuota.Store(u.quota)
	u.shown.Store(true)
}

// WithStorageQuota makes the service refuse writes that would take an
// app's data past its quota (limit.storage): the app's own from st, else
// defaultBytes. It returns s.
func (s *Service) WithStorageQuota(st UsageStore, defaultBytes int64) *Service {
	s.quota = &quotas{st: st, apps: map[string]*appUsage{}}
	s.quota.def.Store(defaultBytes)
	return s
}

// SetDefaultStorageQuota changes the default quota (a configuration
// reload).
func (s *Service) SetDefaultStorageQuota(bytes int64) {
	if s.quota != nil {
		s.quota.def.Store(bytes)
	}
}

// DefaultStorageQuota is the default quota in bytes, 0 without quotas.
func (s *Service) DefaultStorageQuota() int64 {
	if s.quota == nil {
		return 0
	}
	return s.quota.def.Load()
}

// ForgetUsage drops what the service knows of an app's usage and quota,
// after an administrator changed its quota: the next write counts again.
func (s *Service) ForgetUsage(appID string) {
	if s.quota == nil {
		return
	}
	s.quota.mu.Lock()
	delete(s.quota.apps, appID)
	s.quota.mu.Unlock()
}

func (q *quotas) app(id string) *appUsage {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.apps[id]
	if u == nil {
		u = &appUsage{}
		q.apps[id] = u
	}
	return u
}

// countTimeout bounds one count of an app's usage.
const countTimeout = 30 * time.Second

// measure counts app's usage exactly and reads its own quota (0 for the
// default). It runs outside any transaction ctx carries (a serializable
// one would read the whole app's data under its predicate locks), but
// ends with ctx.
func (q *quotas) measure(ctx context.Context, app string) (used, quota int64, err error) {
	cctx, cancel := context.WithTimeout(context.Background(), countTimeout)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	stores, err := q.st.AppDataUsage(cctx, app)
	if err != nil {
		return 0, 0, err
	}
	own, err := q.st.AppStorageQuota(cctx, app)
	if err != nil {
		return 0, 0, err
	}
	for _, st := range stores {
		used += st.Bytes
	}
	if own != nil {
		quota = *own
	}
	return used, quota, nil
}

// count measures app exactly while its writes wait; u.mu is held.
func (q *quotas) count(ctx context.Context, app string, u *appUsage) error {
	used, quota, err := q.measure(ctx, app)
	if err != nil {
		return err
	}
	u.used, u.quota = used, quota
	u.counted, u.deleted = time.Now(), false
	u.gen++
	u.publish()
	return nil
}

// recount measures app in the background while its writes go on, adding
// those made meanwhile; u.mu is held. A count made meanwhile by a write
// wins.
func (q *quotas) recount(app string, u *appUsage, log *slog.Logger) {
	if u.counting {
		return
	}
	go q.endRecount(app, u, u.beginRecount(), log)
}

// beginRecount notes that a background count begins and returns the
// counts made so far; u.mu is held.
func (u *appUsage) beginRecount() (gen int) {
	u.counting, u.since, u.deletedSince = true, 0, false
	return u.gen
}

// endRecount measures app and keeps the count, with the writes made
// meanwhile, unless a write counted it meanwhile (gen changed). It
// returns the count's error, logged.
func (q *quotas) endRecount(app string, u *appUsage, gen int, log *slog.Logger) error {
	used, quota, err := q.measure(context.Background(), app)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.counting = false
	switch {
	case err != nil:
		log.Warn("count an app's data", "app", app, "err", err)
	case u.gen == gen:
		u.used, u.quota = used+u.since, quota
		u.counted, u.deleted = time.Now(), u.deletedSince
		u.gen++
		u.publish()
	}
	return err
}

// reserve takes size bytes of app's quota for a write, or refuses it with
// limit.storage.
func (s *Service) reserve(ctx context.Context, app, op string, size int64) error {
	q := s.quota
	if q == nil || replaying(ctx) {
		// A replay's writes are rolled back: they count for nothing.
		return nil
	}
	u := q.app(app)
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.counted.IsZero():
		if err := q.count(ctx, app, u); err != nil {
			return err
		}
	case time.Since(u.counted) > recountAfter:
		q.recount(app, u, s.log)
	}
	limit := u.quota
	if limit == 0 {
		limit = q.def.Load()
	}
	if u.used+size > limit && (u.deleted || time.Since(u.counted) > freshCount) {
		if err := q.count(ctx, app, u); err != nil {
			return err
		}
		if limit = u.quota; limit == 0 {
			limit = q.def.Load()
		}
	}
	if u.used+size > limit {
		s.log.Warn("execution limit", "code", engine.CodeStorageLimit, "app", app, "op", op, "used_bytes", u.used, "quota_bytes", limit)
		return &engine.DataError{Code: engine.CodeStorageLimit, Message: fmt.Sprintf(
			"%s: the app's data would pass its storage quota of %s (%s used); nothing was changed: delete data, or ask an administrator to raise the quota",
			op, mib(limit), mib(u.used))}
	}
	u.used += size
	if u.counting {
		u.since += size
	}
	u.publish()
	return nil
}

// freed notes that app deleted something: the next write that would pass
// the quota counts again.
func (s *Service) freed(app string) {
	if s.quota == nil {
		return
	}
	u := s.quota.app(app)
	u.mu.Lock()
	u.deleted = true
	if u.counting {
		u.deletedSince = true
	}
	u.mu.Unlock()
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// ReserveStorage takes size bytes of app's storage quota for a write that
// does not come from a script (an administrator's), or refuses it with an
// error wrapping model.ErrQuotaExceeded.
func (s *Service) ReserveStorage(ctx context.Context, app, what string, size int64) error {
	err := s.reserve(ctx, app, what, size)
	var de *engine.DataError
	if errors.As(err, &de) && de.Code == engine.CodeStorageLimit {
		return fmt.Errorf("%w: %s", model.ErrQuotaExceeded, de.Message)
	}
	return err
}

// StorageFreed notes that something of app's data was deleted other than
// by a script.
func (s *Service) StorageFreed(app string) { s.freed(app) }

// maxBackgroundCounts bounds the apps one StorageUsage sets counting.
const maxBackgroundCounts = 32

// StorageUsage is the usage and quota (the app's own, else the default)
// of each app of appIDs that the service has counted since it started, as
// it keeps them for its quota checks (an estimate that errs high between
// exact counts, without the app's name): it makes no query. Apps not counted
// yet are counted in the background, one at a time and at most
// maxBackgroundCounts per call, and appear in a later answer. Nil without
// quotas.
func (s *Service) StorageUsage(appIDs []string) []model.AppStorage {
	q := s.quota
	if q == nil {
		return nil
	}
	def := q.def.Load()
	out := make([]model.AppStorage, 0, len(appIDs))
	var uncounted []string
	q.mu.Lock()
	for _, id := range appIDs {
		u := q.apps[id]
		if u == nil || !u.shown.Load() {
			uncounted = append(uncounted, id)
			continue
		}
		quota := u.shownQuota.Load()
		if quota == 0 {
			quota = def
		}
		out = append(out, model.AppStorage{AppID: id, UsedBytes: u.shownUsed.Load(), QuotaBytes: quota})
	}
	q.mu.Unlock()
	q.countInBackground(uncounted, s.log)
	return out
}

// countInBackground counts apps one after another, unless such counts
// already run; the first that fails ends them (the database is likely
// down: the next scrape tries again).
func (q *quotas) countInBackground(apps []string, log *slog.Logger) {
	if len(apps) == 0 || !q.scanning.CompareAndSwap(false, true) {
		return
	}
	apps = apps[:min(len(apps), maxBackgroundCounts)]
	go func() {
		defer q.scanning.Store(false)
		for _, app := range apps {
			u := q.app(app)
			u.mu.Lock()
			if !u.counted.IsZero() || u.counting {
				u.mu.Unlock()
				continue
			}
			gen := u.beginRecount()
			u.mu.Unlock()
			if q.endRecount(app, u, gen, log) != nil {
				return
			}
		}
	}()
}
