package appliance

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/engine"
)

// gatedBegins begins real transactions, then holds each begin's return
// until release is closed: a begin that has its transaction as the
// execution ends.
type gatedBegins struct {
	txStore
	begun      chan struct{}
	release    chan struct{}
	rolledBack atomic.Bool
}

func (g *gatedBegins) BeginSerializable(ctx context.Context) (data.Tx, error) {
	tx, err := g.txStore.BeginSerializable(ctx)
	close(g.begun)
	<-g.release
	if err != nil {
		return nil, err
	}
	return &watchedTx{Tx: tx, rolledBack: &g.rolledBack}, nil
}

type watchedTx struct {
	data.Tx
	rolledBack *atomic.Bool
}

func (t *watchedTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.rolledBack.Store(true)
	return err
}

// TestScopeEndWaitsForABeginUnderWay: an execution that ends while its
// db.transaction's begin is under way has that transaction rolled back
// before its scope's end returns, that is before the execution is
// answered, never after.
func TestScopeEndWaitsForABeginUnderWay(t *testing.T) {
	st := store.New(pgtest.NewDatabase(t))
	app, err := st.CreateApp(context.Background(), "tx-end", "")
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedBegins{txStore: txStore{st}, begun: make(chan struct{}), release: make(chan struct{})}
	ds := data.New(st, nil).WithTransactions(g, 1)
	ctx, cancel := context.WithCancel(context.Background())
	ctx, end := ds.OpenScope(ctx)
	began := make(chan error, 1)
	go func() {
		_, err := ds.Call(ctx, app.ID, engine.DataCall{Op: "tx.begin"})
		began <- err
	}()
	<-g.begun
	// The execution ends: its calls are canceled, then its scope ends.
	cancel()
	ended := make(chan struct{})
	go func() {
		end()
		close(ended)
	}()
	select {
	case <-ended:
		if !g.rolledBack.Load() {
			t.Error("the scope ended with its execution's transaction still open")
		}
		close(g.release)
	case <-time.After(200 * time.Millisecond):
		// end waits for the begin: let the begin return.
		close(g.release)
		<-ended
		if !g.rolledBack.Load() {
			t.Error("the scope ended without rolling back the transaction begun as it ended")
		}
	}
	if err := <-began; err == nil {
		t.Error("a begin that ended with its execution succeeded")
	}
	if open, _ := ds.Transactions(); open != 0 {
		t.Errorf("%d transaction slots still taken", open)
	}
}
