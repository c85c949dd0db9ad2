package data

import (
	"context"
	"fmt"
	"strings"

	"github.com/picloud/picloud/engine"
)

// A replay (engine.Invocation.Replay) runs a version that is not live
// against a request captured earlier: its data calls must change nothing.
// They all run in one transaction of the execution's scope, begun at its
// first call and always rolled back when the execution ends; each call
// outside db.transaction runs in a savepoint of its own, so that a failed
// statement fails that call only, and db.transaction opens a savepoint
// that its commit releases. Queue sends and invoke.later are rows of that
// transaction, so they go too; invoke and email.send, which would reach
// outside it, are refused with replay.refused. A replay's writes do not
// count towards the app's storage quota.

// SavepointTx is a transaction in which savepoints open: a replay's.
type SavepointTx interface {
	Tx
	// Savepoint opens a savepoint: its Commit releases it, its Rollback
	// rolls back to it, and the transaction stays open either way.
	Savepoint(ctx context.Context) (Tx, error)
}

// ReplayBeginner begins replays' transactions; the TxBeginner of
// WithTransactions may be one. Without it, a replay's data calls are
// refused.
type ReplayBeginner interface {
	// BeginReplay starts a transaction that its caller always rolls
	// back.
	BeginReplay(ctx context.Context) (SavepointTx, error)
}

// refusedInReplay are the data calls that would reach outside the
// replay's transaction.
var refusedInReplay = map[string]string{
	"invoke":        "invoke",
	"email.send":    "email.send",
	"email.forward": "email forward",
}

// replaying reports whether ctx is a data call's of a replay.
func replaying(ctx context.Context) bool {
	sc, _ := ctx.Value(scopeKey{}).(*scope)
	return sc != nil && sc.replay
}

// replayCall answers one data call of a replay, in the replay's
// transaction; sc is the replay's scope.
func (s *Service) replayCall(ctx context.Context, sc *scope, app string, call engine.DataCall) (any, error) {
	if what, ok := refusedInReplay[call.Op]; ok {
		return nil, &engine.DataError{Code: engine.CodeReplayRefused,
			Message: what + " is refused during a replay: a replayed request may not reach outside the board"}
	}
	// One connection: the replay's calls take turns.
	sc.rmu.Lock()
	defer sc.rmu.Unlock()
	rtx, err := s.replayTx(ctx, sc)
	if err != nil {
		return nil, err
	}
	if call.Tx != 0 || strings.HasPrefix(call.Op, "tx.") {
		return s.txCall(ctx, app, call)
	}
	sp, err := rtx.Savepoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: open a savepoint of the replay: %w", call.Op, err)
	}
	bound := sp.Bind(ctx)
	var v any
	if strings.HasPrefix(call.Op, "users.") {
		v, _, err = s.userOp(bound, app, call)
	} else {
		v, err = s.run(bound, app, call)
	}
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		if rerr := sp.Rollback(rctx); rerr != nil {
			s.log.Warn("roll a replay's call back to its savepoint", "op", call.Op, "app", app, "err", rerr)
		}
		return nil, err
	}
	if err := sp.Commit(ctx); err != nil {
		return nil, fmt.Errorf("%s: release the savepoint of the replay: %w", call.Op, err)
	}
	return v, nil
}

// replayTx is the replay's transaction, begun on its first call, with a
// transaction slot of the daemon's; sc.rmu is held.
func (s *Service) replayTx(ctx context.Context, sc *scope) (SavepointTx, error) {
	if sc.rtx != nil {
		return sc.rtx, nil
	}
	sc.mu.Lock()
	ended := sc.ended
	sc.mu.Unlock()
	if ended {
		return nil, &engine.DataError{Code: engine.CodeDataNoTx, Message: "the execution has ended"}
	}
	rb, ok := s.txs.(ReplayBeginner)
	if !ok {
		return nil, &engine.DataError{Code: engine.CodeDataUnavailable, Message: "this executor cannot replay data calls"}
	}
	select {
	case s.txSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a free transaction slot: %w", ctx.Err())
	}
	// As begin: the BEGIN runs to its end, and is rolled back at once if
	// the execution ended meanwhile.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), beginTimeout)
	tx, err := rb.BeginReplay(bctx)
	cancel()
	if err != nil {
		<-s.txSlots
		return nil, err
	}
	sc.mu.Lock()
	ended = sc.ended
	sc.mu.Unlock()
	if ended {
		s.endReplay(tx)
		return nil, &engine.DataError{Code: engine.CodeDataNoTx, Message: "the execution has ended"}
	}
	sc.rtx = tx
	return tx, nil
}

// endReplay rolls a replay's transaction back and gives its slot back.
func (s *Service) endReplay(tx SavepointTx) {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	if err := tx.Rollback(ctx); err != nil {
		s.log.Warn("roll back a replay's transaction", "err", err)
	}
	<-s.txSlots
}
