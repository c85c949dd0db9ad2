package jobs

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/engine"
)

// deliveries runs queue handlers by passing on the bodies of their
// batches, and succeeds.
type deliveries chan string

func (d deliveries) RunBackground(ctx context.Context, scriptID string, call orchestrator.Call) (*engine.Result, bool, error) {
	for _, m := range call.Queue.Messages {
		d <- m.Body
	}
	return &engine.Result{}, true, nil
}

func (d deliveries) ScriptID(ctx context.Context, appID, name string) (string, bool, error) {
	return "", false, nil
}

// listenRig is a consumer of queue "q" whose fallback poll is an hour
// away, so that only a notification explains a delivery within the
// test: it polls once at its start, and then when woken.
type listenRig struct {
	pool      *pgxpool.Pool
	st        *store.Store
	app       string
	delivered deliveries
	polls     chan struct{}
	listening chan uint32
}

// notifiedWithin is how long a test waits for a delivery: far less than
// the rig's fallback poll, which is all a test needs to know.
const notifiedWithin = time.Minute

func startListenRig(t *testing.T) *listenRig {
	ctx := context.Background()
	pool := pgtest.NewDatabase(t)
	r := &listenRig{pool: pool, st: store.New(pool), delivered: make(deliveries, 10),
		polls: make(chan struct{}, 100), listening: make(chan uint32, 10)}
	sc, err := r.st.CreateScript(ctx, model.DefaultAppID, "consumer", "js", model.NewVersion{Source: "1", Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	r.app = sc.AppID
	if _, err := r.st.InsertTrigger(ctx, model.Trigger{AppID: sc.AppID, ScriptID: sc.ID, Type: model.TriggerQueue,
		Config: []byte(`{"queue":"q","max_batch_size":10,"max_wait_ms":0,"max_retries":3,"retry_delay_seconds":30}`)}); err != nil {
		t.Fatal(err)
	}
	e := &Engine{cfg: Config{RunTimeout: time.Minute, Now: time.Now}, store: r.st, runner: r.delivered, log: slog.New(slog.DiscardHandler)}
	cctx, cancel := context.WithCancel(ctx)
	q := newConsumers(e, cctx)
	q.fallback = time.Hour
	q.connect = func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	}
	q.polled = func() { r.polls <- struct{}{} }
	q.listening = func(pid uint32) { r.listening <- pid }
	done := make(chan struct{}, 2)
	go func() { q.consume(cctx); done <- struct{}{} }()
	go func() { q.listen(cctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return r
}

// wait waits for what ch gives, failing the test if that takes longer
// than notifiedWithin.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(notifiedWithin):
		t.Fatalf("no %s within %v", what, notifiedWithin)
		panic("unreachable")
	}
}

// listened waits for the listener's LISTEN and for the poll it asks for
// then, after which only a notification wakes the consumer; it returns
// the listener's backend.
func (r *listenRig) listened(t *testing.T) uint32 {
	t.Helper()
	pid := wait(t, r.listening, "LISTEN")
	wait(t, r.polls, "poll after the LISTEN")
	return pid
}

// sendAndExpect sends a message and waits for its delivery.
func (r *listenRig) sendAndExpect(t *testing.T, body string) {
	t.Helper()
	if err := r.st.SendQueue(context.Background(), r.app, "q", []model.QueueSend{{Body: body}}); err != nil {
		t.Fatal(err)
	}
	if got := wait(t, r.delivered, "delivery of "+body+" (the fallback poll is an hour away: the send's notification did not wake the consumer)"); got != body {
		t.Fatalf("delivered %s, want %s", got, body)
	}
}

// A message sent is delivered when its send commits, not at the next
// poll: the consumer polls once at its start and once when it listens,
// and the next poll is an hour away.
func TestQueueSendWakesConsumer(t *testing.T) {
	r := startListenRig(t)
	wait(t, r.polls, "first poll")
	r.listened(t)
	r.sendAndExpect(t, `"one"`)
	r.sendAndExpect(t, `"two"`)
}

// The listener's connection, ended by the server, is opened again, and
// a send is then delivered on its notification.
func TestQueueListenerReconnects(t *testing.T) {
	r := startListenRig(t)
	wait(t, r.polls, "first poll")
	pid := r.listened(t)
	r.sendAndExpect(t, `"before"`)
	var ended bool
	if err := r.pool.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&ended); err != nil || !ended {
		t.Fatalf("terminate the listener's backend %d: %v %v", pid, ended, err)
	}
	if again := r.listened(t); again == pid {
		t.Fatalf("listening again on backend %d, which was terminated", pid)
	}
	r.sendAndExpect(t, `"after"`)
}
