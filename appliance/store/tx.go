package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/picloud/picloud/api/model"
)

// Tx is a transaction the store's methods join when their context comes
// from Bind: scripts' db.transaction, which lives across many calls, each
// with a context of its own. It pins one connection of the pool until
// Commit or Rollback. Its methods must not run concurrently.
type Tx struct {
	s  *Store
	tx pgx.Tx
}

// BeginSerializable starts a SERIALIZABLE transaction: its calls see one
// snapshot, and PostgreSQL refuses (with model.ErrTxConflict) any commit
// that would make the result differ from running the transactions one
// after another.
func (s *Store) BeginSerializable(ctx context.Context) (*Tx, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return nil, fmt.Errorf("begin a transaction: %w", mapError(err))
	}
	return &Tx{s: s, tx: tx}, nil
}

// Bind returns ctx carrying the transaction: the store's methods called
// with it run in the transaction.
func (t *Tx) Bind(ctx context.Context) context.Context {
	return context.WithValue(ctx, txKey{t.s}, t.tx)
}

// Commit commits the transaction; a serialization failure is
// model.ErrTxConflict, a transaction that an earlier failed statement
// aborted is model.ErrTxAborted, and either is rolled back.
func (t *Tx) Commit(ctx context.Context) error {
	err := t.tx.Commit(ctx)
	if errors.Is(err, pgx.ErrTxCommitRollback) {
		// A statement failed earlier: PostgreSQL rolled back instead.
		return fmt.Errorf("commit the transaction: %w", model.ErrTxAborted)
	}
	if err != nil {
		return fmt.Errorf("commit the transaction: %w", mapError(err))
	}
	return nil
}

// Rollback rolls the transaction back; after Commit it does nothing. When
// it fails, the connection is closed rather than returned to the pool; and
// since pgx closes a broken connection in the background (a cancel request
// first, then the socket), its server process may hold the transaction a
// while longer: Rollback then ends that process itself, so that the
// transaction is over when Rollback returns.
func (t *Tx) Rollback(ctx context.Context) error {
	pid := t.tx.Conn().PgConn().PID()
	err := t.tx.Rollback(ctx)
	if err == nil || errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}
	if terr := t.s.terminateIdleInTx(ctx, pid); terr != nil {
		return fmt.Errorf("roll the transaction back: %w (and end its server process: %w)", mapError(err), terr)
	}
	return fmt.Errorf("roll the transaction back: %w", mapError(err))
}

// terminateIdleInTx ends the server process pid if it is idle in a
// transaction, waiting up to a second for it to be gone (PostgreSQL 14
// and later; older ones are only signalled).
func (s *Store) terminateIdleInTx(ctx context.Context, pid uint32) error {
	const q = `SELECT pg_terminate_backend(pid%s) FROM pg_stat_activity
WHERE pid = $1 AND state LIKE 'idle in transaction%%'`
	_, err := s.pool.Exec(ctx, fmt.Sprintf(q, ", 1000"), int32(pid))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42883" { // no such function: before 14
		_, err = s.pool.Exec(ctx, fmt.Sprintf(q, ""), int32(pid))
	}
	return err
}

// BeginReplay starts the transaction of a replay's data calls, which its
// caller always rolls back: READ COMMITTED, so that it takes no part in
// the serializable transactions' conflicts.
func (s *Store) BeginReplay(ctx context.Context) (*Tx, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin a replay's transaction: %w", mapError(err))
	}
	return &Tx{s: s, tx: tx}, nil
}

// Savepoint opens a savepoint in the transaction: a Tx whose Commit
// releases it and whose Rollback rolls back to it, the transaction
// staying open either way.
func (t *Tx) Savepoint(ctx context.Context) (*Tx, error) {
	sp, err := t.tx.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("open a savepoint: %w", mapError(err))
	}
	return &Tx{s: t.s, tx: sp}, nil
}
