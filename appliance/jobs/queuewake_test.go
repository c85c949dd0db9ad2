package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/engine"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// batchRecorder runs queue handlers by recording their batches, and
// succeeds (every message is acked); it notes whether two batches were
// ever in delivery at once.
type batchRecorder struct {
	mu      sync.Mutex
	sizes   []int
	running int
	overlap bool
}

func (r *batchRecorder) RunBackground(ctx context.Context, scriptID string, call orchestrator.Call) (*engine.Result, bool, error) {
	r.mu.Lock()
	r.running++
	r.overlap = r.overlap || r.running > 1
	r.sizes = append(r.sizes, len(call.Queue.Messages))
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
	}()
	return &engine.Result{}, true, nil
}

func (r *batchRecorder) ScriptID(ctx context.Context, appID, name string) (string, bool, error) {
	return "", false, nil
}

// A full batch has its trigger polled again as soon as it is settled, and
// again while batches come back full: one tick drains 11 messages in
// batches of 2 (5 full ones and the last message), one batch at a time,
// in exactly 6 polls; the partial last batch asks for no more. The test
// plays the consumers' loop with one tick and then only the wakes, and
// waits for each poll's deliveries before it looks for a wake: no clock
// is involved.
func TestFullBatchPollsAgain(t *testing.T) {
	ctx := context.Background()
	st := store.New(pgtest.NewDatabase(t))
	sc, err := st.CreateScript(ctx, model.DefaultAppID, "consumer", "js", model.NewVersion{Source: "1", Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.InsertTrigger(ctx, model.Trigger{AppID: sc.AppID, ScriptID: sc.ID, Type: model.TriggerQueue,
		Config: []byte(`{"queue":"q","max_batch_size":2,"max_wait_ms":0,"max_retries":3,"retry_delay_seconds":30}`)}); err != nil {
		t.Fatal(err)
	}
	const messages = 11
	var sends []model.QueueSend
	for i := 0; i < messages; i++ {
		sends = append(sends, model.QueueSend{Body: fmt.Sprint(i)})
	}
	if err := st.SendQueue(ctx, sc.AppID, "q", sends); err != nil {
		t.Fatal(err)
	}

	rec := &batchRecorder{}
	e := &Engine{cfg: Config{RunTimeout: time.Minute, Now: time.Now}, store: st, runner: rec, log: slog.New(slog.DiscardHandler)}
	q := newConsumers(e, ctx)
	polls := 0
	q.polled = func() { polls++ } // polls run on this goroutine only
	q.poll(ctx, nil)              // the tick
	for woken := true; woken; {
		q.wg.Wait()
		select {
		case <-q.wake:
			q.poll(ctx, q.takeAgain())
		default:
			woken = false
		}
	}

	if want := []int{2, 2, 2, 2, 2, 1}; fmt.Sprint(rec.sizes) != fmt.Sprint(want) {
		t.Errorf("one tick delivered batches %v, want %v: a full batch must poll its trigger again, a partial one not", rec.sizes, want)
	}
	if rec.overlap {
		t.Error("two batches of the trigger were in delivery at once")
	}
	if polls != 6 {
		t.Errorf("%d polls, want 6: the tick, and one after each of the 5 full batches", polls)
	}
	stats, err := st.QueueStats(ctx, sc.AppID)
	if err != nil || len(stats) != 0 {
		t.Errorf("queue stats %+v (%v), want none: every message acked", stats, err)
	}
}
