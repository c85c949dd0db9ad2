package data

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// Tx is one open database transaction; appliance/store's Tx satisfies it.
// Its methods are never called concurrently.
type Tx interface {
	// Bind returns ctx carrying the transaction: the store's methods
	// called with it run in the transaction.
	Bind(ctx context.Context) context.Context
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// TxBeginner begins the transactions of db.transaction.
type TxBeginner interface {
	// BeginSerializable starts a SERIALIZABLE transaction.
	BeginSerializable(ctx context.Context) (Tx, error)
}

// maxTxPerExecution is how many transactions one execution may have open
// at once: transactions do not nest.
const maxTxPerExecution = 1

// rollbackTimeout bounds the rollback of a transaction its execution left
// open; past it the connection is closed, which rolls back too.
const rollbackTimeout = 10 * time.Second

// beginTimeout bounds a begin, which runs to its end even when its
// execution ends meanwhile.
const beginTimeout = 5 * time.Second

// WithTransactions lets the service's scripts open transactions with b,
// at most maxOpen at once over the whole daemon: each pins a database
// connection, and the pool also serves the control plane. A script's
// begin waits for a free slot until its execution ends. It returns s.
func (s *Service) WithTransactions(b TxBeginner, maxOpen int) *Service {
	s.txs = b
	s.txSlots = make(chan struct{}, max(maxOpen, 1))
	return s
}

// Transactions is how many transactions of scripts are open now, and how
// many may be at once (0 without transactions).
func (s *Service) Transactions() (open, max int) { return len(s.txSlots), cap(s.txSlots) }

// scopeKey marks an execution's scope in the context of its data calls.
type scopeKey struct{}

// scope is one execution's data state: the transactions it opened, by id.
// Ids are unique in the daemon, but an id is only served to the scope
// that holds it: another execution's id is unknown here.
type scope struct {
	s        *Service
	mu       sync.Mutex
	ended    bool
	starting int // begins under way
	// begins counts the begins under way; end waits for them, so a
	// transaction begun as the execution ended is rolled back before
	// end returns, not after the execution is answered.
	begins sync.WaitGroup
	open   map[uint64]*openTx

	// replay: the execution is a replay's (see replay.go); its calls
	// take turns on rmu and run in rtx, which end rolls back.
	replay bool
	rmu    sync.Mutex
	rtx    SavepointTx
}

// openTx is a transaction of a scope. mu serialises its calls: the script
// may send several at once, and a connection runs one at a time.
type openTx struct {
	id  uint64
	app string
	mu  sync.Mutex
	tx  Tx
	// done: committed or rolled back, its slot given back.
	done bool
	// failed is why the transaction can only roll back (a conflict, or an
	// earlier statement that failed), nil while it can commit.
	failed error
	// savepoint: a replay's db.transaction, a savepoint of the replay's
	// transaction, which holds no slot of its own.
	savepoint bool
}

var _ engine.DataScoper = (*Service)(nil)

// OpenScope starts the data scope of one execution: every data call of
// the execution must come with the context returned, and end must be
// called when the execution is over; end rolls back the transactions the
// execution left open, after waiting for the call each may be running
// and for the begins under way. The context must be canceled before end
// is called, or a begin waiting for a free slot holds end up.
func (s *Service) OpenScope(ctx context.Context) (context.Context, func()) {
	sc := &scope{s: s, replay: engine.IsReplay(ctx)}
	return context.WithValue(ctx, scopeKey{}, sc), sc.end
}

func (sc *scope) end() {
	sc.mu.Lock()
	sc.ended = true
	left := sc.open
	sc.open = nil
	sc.mu.Unlock()
	// A begin under way sees ended when it gets its transaction and rolls
	// it back itself; its calls were canceled before end, so it is quick.
	sc.begins.Wait()
	if sc.replay {
		// The replay's one connection: wait for the call on it to end.
		sc.rmu.Lock()
		defer sc.rmu.Unlock()
	}
	for _, t := range left {
		t.mu.Lock()
		if !t.done {
			sc.s.log.Info("roll back a transaction its execution left open", "tx", t.id, "app", t.app)
			sc.s.finish(t)
		}
		t.mu.Unlock()
	}
	if sc.replay && sc.rtx != nil {
		// Savepoints rolled back, the replay's transaction goes whole.
		sc.s.endReplay(sc.rtx)
		sc.rtx = nil
	}
}

// finish rolls t back (nothing if it was committed) and gives its slot
// back; t.mu is held.
func (s *Service) finish(t *openTx) {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	if err := t.tx.Rollback(ctx); err != nil {
		s.log.Warn("roll back a script's transaction", "tx", t.id, "app", t.app, "err", err)
	}
	t.done = true
	if !t.savepoint {
		<-s.txSlots
	}
}

func noTx(op string, id uint64) error {
	return &engine.DataError{Code: engine.CodeDataNoTx,
		Message: fmt.Sprintf("%s: transaction %d is not open in this execution", op, id)}
}

// txCall answers the calls about transactions (tx.begin, tx.commit,
// tx.rollback) and the calls that run in one (call.Tx set).
func (s *Service) txCall(ctx context.Context, app string, call engine.DataCall) (any, error) {
	sc, _ := ctx.Value(scopeKey{}).(*scope)
	if sc == nil || s.txs == nil {
		return nil, &engine.DataError{Code: engine.CodeDataUnavailable, Message: call.Op + ": this executor has no transactions"}
	}
	if call.Op == "tx.begin" {
		if call.Tx != 0 {
			return nil, &engine.DataError{Code: engine.CodeDataNestedTx, Message: "transactions do not nest"}
		}
		return s.begin(ctx, sc, app)
	}
	sc.mu.Lock()
	t := sc.open[call.Tx]
	sc.mu.Unlock()
	if t == nil || t.app != app {
		return nil, noTx(call.Op, call.Tx)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, noTx(call.Op, call.Tx)
	}
	switch call.Op {
	case "tx.commit":
		return s.commit(ctx, sc, t)
	case "tx.rollback":
		sc.forget(t)
		s.finish(t)
		return struct{}{}, nil
	}
	if t.failed != nil {
		return nil, t.failed
	}
	v, err := s.run(t.tx.Bind(ctx), app, call)
	if isTxFailure(err) {
		t.failed = err
	}
	return v, err
}

// isTxFailure reports whether err leaves its transaction only able to roll
// back: a conflict, a failed statement, a call the execution's end cut.
func isTxFailure(err error) bool {
	return errors.Is(err, model.ErrTxConflict) || errors.Is(err, model.ErrTxAborted) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// begin opens a transaction for the scope's execution, waiting for a
// slot until the execution ends.
func (s *Service) begin(ctx context.Context, sc *scope, app string) (any, error) {
	sc.mu.Lock()
	switch {
	case sc.ended:
		sc.mu.Unlock()
		return nil, &engine.DataError{Code: engine.CodeDataNoTx, Message: "tx.begin: the execution has ended"}
	case len(sc.open)+sc.starting >= maxTxPerExecution:
		sc.mu.Unlock()
		return nil, &engine.DataError{Code: engine.CodeDataNestedTx,
			Message: "db.transaction: a transaction of this execution is already open; transactions do not nest"}
	}
	if sc.replay {
		// A savepoint of the replay's transaction (sc.rmu is held).
		sc.mu.Unlock()
		sp, err := sc.rtx.Savepoint(ctx)
		if err != nil {
			return nil, fmt.Errorf("tx.begin: open a savepoint of the replay: %w", err)
		}
		t := &openTx{id: s.nextTx.Add(1), app: app, tx: sp, savepoint: true}
		sc.mu.Lock()
		if sc.open == nil {
			sc.open = map[uint64]*openTx{}
		}
		sc.open[t.id] = t
		sc.mu.Unlock()
		return map[string]uint64{"tx": t.id}, nil
	}
	sc.starting++
	sc.begins.Add(1)
	sc.mu.Unlock()
	defer func() {
		sc.mu.Lock()
		sc.starting--
		sc.mu.Unlock()
		sc.begins.Done()
	}()
	select {
	case s.txSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a free transaction slot: %w", ctx.Err())
	}
	if err := ctx.Err(); err != nil {
		<-s.txSlots
		return nil, fmt.Errorf("begin a transaction: %w", err)
	}
	// A begin canceled after its BEGIN reached PostgreSQL makes pgx close
	// the connection, whose server process stays idle in a transaction
	// until it notices: so the begin runs to its end, bounded by
	// beginTimeout, and what it began is rolled back below if the
	// execution ended meanwhile.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), beginTimeout)
	tx, err := s.txs.BeginSerializable(bctx)
	cancel()
	if err != nil {
		<-s.txSlots
		return nil, err
	}
	t := &openTx{id: s.nextTx.Add(1), app: app, tx: tx}
	sc.mu.Lock()
	if sc.ended {
		sc.mu.Unlock()
		t.mu.Lock()
		s.finish(t)
		t.mu.Unlock()
		return nil, &engine.DataError{Code: engine.CodeDataNoTx, Message: "tx.begin: the execution has ended"}
	}
	if sc.open == nil {
		sc.open = map[uint64]*openTx{}
	}
	sc.open[t.id] = t
	sc.mu.Unlock()
	return map[string]uint64{"tx": t.id}, nil
}

// commit commits t, or rolls it back if it already failed; t.mu is held.
func (s *Service) commit(ctx context.Context, sc *scope, t *openTx) (any, error) {
	sc.forget(t)
	if t.failed != nil {
		s.finish(t)
		return nil, t.failed
	}
	err := t.tx.Commit(ctx)
	s.finish(t) // after a commit, only gives the slot back
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// forget takes t out of the scope's open transactions.
func (sc *scope) forget(t *openTx) {
	sc.mu.Lock()
	delete(sc.open, t.id)
	sc.mu.Unlock()
}
