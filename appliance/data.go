package appliance

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/appliance/store"
)

// Expired kv keys are invisible at once; the purge deletes them in the
// background, purgeBatch at a time every purgeInterval (and at once again
// while batches come back full).
const (
	purgeInterval = 30 * time.Second
	purgeBatch    = 500
)

// startDataService builds the data service that answers scripts' data
// calls on the database, and starts the purge of expired keys; onStop
// registers how to stop it.
func startDataService(pool *pgxpool.Pool, logger *slog.Logger, onStop func(string, func(context.Context) error)) *data.Service {
	st := store.New(pool)
	ds := data.New(st, logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		purgeExpired(ctx, st, logger)
	}()
	onStop("the expired keys' purge", func(sctx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-sctx.Done():
			return sctx.Err()
		}
	})
	return ds
}

// purgeExpired deletes expired kv keys in small batches until ctx ends.
func purgeExpired(ctx context.Context, st *store.Store, logger *slog.Logger) {
	t := time.NewTicker(purgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			n, err := st.PurgeExpiredKV(ctx, purgeBatch)
			if err != nil {
				if ctx.Err() == nil {
					logger.Warn("purge expired keys", "component", "data", "err", err)
				}
				break
			}
			if n < purgeBatch {
				break
			}
		}
	}
}
