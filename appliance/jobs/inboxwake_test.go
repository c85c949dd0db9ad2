package jobs

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
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

// attempt is one delivery of a received message to its handler.
type attempt struct {
	to      string
	attempt int // 1 for the first
}

// mailbox runs email handlers by passing on what they were given; a
// handler fails with the error fail gives for it (nil: it succeeds).
type mailbox struct {
	got  chan attempt
	fail func(a attempt) *engine.ExecError
}

func (m *mailbox) RunBackground(ctx context.Context, scriptID string, call orchestrator.Call) (*engine.Result, bool, error) {
	// The inbox names a run email-<id>-<attempt>.
	n, err := strconv.Atoi(call.RequestID[strings.LastIndex(call.RequestID, "-")+1:])
	if err != nil {
		return nil, false, err
	}
	a := attempt{to: call.Email.To, attempt: n}
	m.got <- a
	return &engine.Result{Error: m.fail(a)}, true, nil
}

func (m *mailbox) ScriptID(ctx context.Context, appID, name string) (string, bool, error) {
	return "", false, nil
}

// inboxRig is an inbox, and the consumers' listener that wakes it, whose
// poll is an hour away, so that only a notification or a due time the
// database gave explains a delivery within the test.
type inboxRig struct {
	pool      *pgxpool.Pool
	st        *store.Store
	app       string
	script    string
	mail      *mailbox
	passes    chan struct{}
	listening chan uint32
}

// newInboxRig makes the rig's database and the script its messages go
// to; start runs it. A handler fails as fail says.
func newInboxRig(t *testing.T, fail func(a attempt) *engine.ExecError) *inboxRig {
	pool := pgtest.NewDatabase(t)
	r := &inboxRig{pool: pool, st: store.New(pool), mail: &mailbox{got: make(chan attempt, 10), fail: fail},
		passes: make(chan struct{}, 100), listening: make(chan uint32, 10)}
	sc, err := r.st.CreateScript(context.Background(), model.DefaultAppID, "mail", "js", model.NewVersion{Source: "1", Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	r.app, r.script = sc.AppID, sc.ID
	return r
}

// start runs the inbox and the listener until the test ends, a failed
// delivery waiting retryWait, and waits for the inbox's first pass, the
// LISTEN and the pass it asks for: after these only a notification or a
// due time wakes the inbox, its next poll being an hour away.
func (r *inboxRig) start(t *testing.T, retryWait time.Duration) {
	t.Helper()
	e := &Engine{cfg: Config{RunTimeout: time.Minute, EmailRetryWait: retryWait, Now: time.Now},
		store: r.st, runner: r.mail, log: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithCancel(context.Background())
	e.inbox = newInbox(e, ctx)
	e.inbox.fallback = time.Hour
	e.inbox.passed = func() { r.passes <- struct{}{} }
	q := newConsumers(e, ctx)
	q.connect = func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, r.pool.Config().ConnConfig.Copy())
	}
	q.listening = func(pid uint32) { r.listening <- pid }
	done := make(chan struct{}, 2)
	go func() { e.inbox.deliverAll(ctx); done <- struct{}{} }()
	go func() { q.listen(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	wait(t, r.passes, "first pass of the inbox")
	wait(t, r.listening, "LISTEN")
	wait(t, r.passes, "pass after the LISTEN")
}

// store stores a message for to, as the SMTP listener does.
func (r *inboxRig) store(t *testing.T, to string) {
	t.Helper()
	if err := r.st.AddInboundEmails(context.Background(), []model.InboundEmail{{AppID: r.app, ScriptID: r.script,
		Sender: "a@example.com", Recipient: to, Message: []byte("Subject: hi\r\n\r\nhello\r\n")}}); err != nil {
		t.Fatal(err)
	}
}

// expect waits for the next delivery, which must be want.
func (r *inboxRig) expect(t *testing.T, want attempt, why string) {
	t.Helper()
	if got := wait(t, r.mail.got, "delivery to "+want.to+" ("+why+")"); got != want {
		t.Fatalf("delivered %+v, want %+v", got, want)
	}
}

// A message stored, and one retried from the admin view, are delivered
// when their change commits, not at the next poll (an hour away): the
// store announces them on store.InboxChannel, and the consumers'
// listener wakes the inbox.
func TestInboxWokenByStoreAndRetry(t *testing.T) {
	r := newInboxRig(t, func(a attempt) *engine.ExecError {
		if a.to == "nohandler@example.com" && a.attempt == 1 {
			return &engine.ExecError{Code: engine.CodeNoHandler, Message: "no email handler"}
		}
		return nil
	})
	r.start(t, time.Hour)
	const why = "the poll is an hour away: the notification did not wake the inbox"
	r.store(t, "one@example.com")
	r.expect(t, attempt{"one@example.com", 1}, why)
	r.store(t, "nohandler@example.com")
	r.expect(t, attempt{"nohandler@example.com", 1}, why)

	// That one failed at once (no handler): retried, it comes again.
	var id string
	for id == "" {
		wait(t, r.passes, "the pass that failed the message")
		ms, err := r.st.InboxMessages(context.Background(), r.app, "failed", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 1 {
			id = ms[0].ID
		}
	}
	if err := r.st.RetryInboxMessage(context.Background(), r.app, id); err != nil {
		t.Fatal(err)
	}
	r.expect(t, attempt{"nohandler@example.com", 1}, why)
}

// A delivery that fails is tried again when its retry is due, which the
// inbox learns from the database: the message is stored before the inbox
// starts (so no notification is needed), its first attempt fails, and the
// second comes after the retry's wait, the poll being an hour away.
func TestInboxRetryWhenDue(t *testing.T) {
	r := newInboxRig(t, func(a attempt) *engine.ExecError {
		if a.attempt == 1 {
			return &engine.ExecError{Code: engine.CodeException, Message: "boom"}
		}
		return nil
	})
	r.store(t, "retry@example.com")
	r.start(t, time.Second)
	r.expect(t, attempt{"retry@example.com", 1}, "the message stored before the start")
	r.expect(t, attempt{"retry@example.com", 2}, "the poll is an hour away: the retry's due time did not wake the inbox")
}
