package appliance

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/appliance/jobs"
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
// calls on the database, with storageMB the apps' default storage quota,
// and queue messages of at most maxMessageBytes, and starts the purge of expired keys; onStop registers how to stop it.
// It returns the store the service runs on too: its transactions are
// bound to contexts for that store.
func startDataService(pool *pgxpool.Pool, storageMB, maxMessageBytes int, logger *slog.Logger, onStop func(string, func(context.Context) error)) (*data.Service, *store.Store) {
	st := store.New(pool)
	ds := data.New(st, logger).WithTransactions(txStore{st}, maxScriptTransactions(pool)).
		WithStorageQuota(st, int64(storageMB)<<20).WithQueues(st, maxMessageBytes).
		WithUsers(st, auth.NewHasher(auth.DefaultParams), auth.NewThrottle(auth.ThrottleConfig{}))
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
	return ds, st
}

// maxScriptTransactions bounds the transactions scripts hold open at once:
// each pins a connection, and half the pool stays for the control plane,
// the execution log and the calls outside transactions.
func maxScriptTransactions(pool *pgxpool.Pool) int {
	return max(int(pool.Config().MaxConns)/2, 1)
}

// txStore begins the data service's transactions on the store.
type txStore struct{ st *store.Store }

func (t txStore) BeginSerializable(ctx context.Context) (data.Tx, error) {
	tx, err := t.st.BeginSerializable(ctx)
	if err != nil {
		return nil, err
	}
	return tx, nil
}

// BeginReplay begins a replay's transaction on the store.
func (t txStore) BeginReplay(ctx context.Context) (data.SavepointTx, error) {
	tx, err := t.st.BeginReplay(ctx)
	if err != nil {
		return nil, err
	}
	return replayTx{tx}, nil
}

// replayTx is a replay's transaction, in which savepoints open.
type replayTx struct{ *store.Tx }

func (r replayTx) Savepoint(ctx context.Context) (data.Tx, error) {
	sp, err := r.Tx.Savepoint(ctx)
	if err != nil {
		return nil, err
	}
	return sp, nil
}

// laterPlanner plans the data service's invoke.later calls on the job
// engine, in the script's transaction when the call is made in one: the
// data service binds it to the call's context for its store, st.
type laterPlanner struct {
	st   *store.Store
	jobs *jobs.Engine
}

func (p laterPlanner) InvokeLater(ctx context.Context, appID, script, body string, delay time.Duration) (string, error) {
	tx, _ := p.st.Tx(ctx) // nil outside a transaction
	return p.jobs.InvokeLater(ctx, tx, appID, script, body, delay)
}

// purgeExpired deletes expired kv keys and app users' tokens in small
// batches until ctx ends.
func purgeExpired(ctx context.Context, st *store.Store, logger *slog.Logger) {
	t := time.NewTicker(purgeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		purgeBatches(ctx, "purge expired keys", st.PurgeExpiredKV, logger)
		purgeBatches(ctx, "purge expired app user tokens", st.PurgeExpiredAppUserTokens, logger)
	}
}

// purgeBatches runs purge until a batch comes back short or ctx ends.
func purgeBatches(ctx context.Context, what string, purge func(context.Context, int) (int, error), logger *slog.Logger) {
	for ctx.Err() == nil {
		n, err := purge(ctx, purgeBatch)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn(what, "component", "data", "err", err)
			}
			return
		}
		if n < purgeBatch {
			return
		}
	}
}
