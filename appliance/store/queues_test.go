package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

// A batch is leased oldest first, within its count and its bytes (one
// message at least), and a leased message is not leased again; a message
// past its retries moves to the dead-letter queue or stays as failed.
func TestQueueLeaseAndSettle(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	app := model.DefaultAppID
	body := func(i int) string { return `"` + strings.Repeat("x", 7) + strconv.Itoa(i) + `"` } // 10 bytes
	if err := s.SendQueue(ctx, app, "q", []model.QueueSend{{Body: body(1)}, {Body: body(2)}, {Body: body(3)}, {Body: body(4)}}); err != nil {
		t.Fatal(err)
	}
	lease := func(limit, maxBytes int) []model.QueueMessage {
		t.Helper()
		ms, err := s.LeaseQueueBatch(ctx, app, "q", limit, maxBytes, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	if ms := lease(10, 5); len(ms) != 1 || ms[0].Attempts != 1 || ms[0].Body != body(1) {
		t.Fatalf("a batch under its bytes: %+v, want the first message, attempt 1", ms)
	}
	if ms := lease(10, 25); len(ms) != 2 || ms[0].Body != body(2) || ms[1].Body != body(3) {
		t.Fatalf("a batch of 25 bytes: %+v, want the 2nd and 3rd messages in order", ms)
	}
	rest := lease(10, 1<<20)
	if len(rest) != 1 {
		t.Fatalf("the rest: %d messages, want the one not leased yet", len(rest))
	}
	if ms := lease(10, 1<<20); len(ms) != 0 {
		t.Fatalf("leased messages were leased again: %+v", ms)
	}
	// Delivered once with max_retries 0: past its retries.
	id := rest[0].ID
	if err := s.SettleQueueBatch(ctx, app, []model.QueueOutcome{{ID: id, Error: "boom"}}, 0, "dead"); err != nil {
		t.Fatal(err)
	}
	m, err := s.QueueMessage(ctx, app, "dead", id)
	if err != nil || m.State != "ready" || m.OriginQueue != "q" || m.Attempts != 0 || m.LastError != "boom" {
		t.Fatalf("dead letter: %+v %v", m, err)
	}
	if n, err := s.RedriveQueue(ctx, app, "dead"); err != nil || n != 1 {
		t.Fatalf("redrive: %d %v", n, err)
	}
	m2 := lease(10, 1<<20)
	if len(m2) != 1 || m2[0].ID != id || m2[0].Queue != "q" {
		t.Fatalf("after the redrive: %+v", m2)
	}
	if err := s.SettleQueueBatch(ctx, app, []model.QueueOutcome{{ID: id, Error: "again"}}, 0, ""); err != nil {
		t.Fatal(err)
	}
	if m, err := s.QueueMessage(ctx, app, "q", id); err != nil || m.State != "failed" {
		t.Fatalf("past its retries without a dead-letter queue: %+v %v, want failed", m, err)
	}
	stats, err := s.QueueStats(ctx, app)
	if err != nil || len(stats) != 1 || stats[0].Failed != 1 || stats[0].InFlight != 3 || stats[0].Depth != 0 {
		t.Fatalf("stats: %+v %v", stats, err)
	}
}

// A queue is announced on store.QueueChannel when messages become ready
// listen LISTENs on channels on a connection of its own and returns a
// function that waits (a minute at most) for the next notification.
func listen(t *testing.T, pool *pgxpool.Pool, channels ...string) func() *pgconn.Notification {
	t.Helper()
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, `LISTEN `+ch); err != nil {
			t.Fatal(err)
		}
	}
	return func() *pgconn.Notification {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			t.Fatalf("wait for a notice: %v", err)
		}
		return n
	}
}

// in it: at the commit of a send (not at all if it rolls back), when a
// message moves to its dead-letter queue, and when a redrive sends it
// back.
func TestQueueNotices(t *testing.T) {
	pool := pgtest.NewDatabase(t)
	s := store.New(pool)
	app := model.DefaultAppID
	notice := listen(t, pool, store.QueueChannel)
	// next is the queue of the next notice. Notices come in the order of
	// their commits, so one that should not have been sent shows as the
	// wrong queue: each step announces a queue the step before does not.
	next := func() string {
		t.Helper()
		n := notice()
		a, q, ok := store.ParseQueueNotice(n.Payload)
		if !ok || a != app {
			t.Fatalf("notice %q: want app %s and a queue", n.Payload, app)
		}
		return q
	}

	boom := errors.New("boom")
	if err := s.Atomically(ctx, func(ctx context.Context) error {
		if err := s.SendQueue(ctx, app, "rolled-back", []model.QueueSend{{Body: "1"}}); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := s.SendQueue(ctx, app, "q", []model.QueueSend{{Body: "1"}, {Body: "2"}}); err != nil {
		t.Fatal(err)
	}
	if q := next(); q != "q" {
		t.Fatalf("announced %q, want q: a send rolled back must announce nothing", q)
	}
	ms, err := s.LeaseQueueBatch(ctx, app, "q", 1, 1<<20, time.Minute)
	if err != nil || len(ms) != 1 {
		t.Fatalf("lease: %+v %v", ms, err)
	}
	if err := s.SettleQueueBatch(ctx, app, []model.QueueOutcome{{ID: ms[0].ID, Error: "boom"}}, 0, "dead"); err != nil {
		t.Fatal(err)
	}
	if q := next(); q != "dead" {
		t.Fatalf("announced %q, want dead: a send of two messages announces its queue once, a move to the dead-letter queue announces that", q)
	}
	if n, err := s.RedriveQueue(ctx, app, "dead"); err != nil || n != 1 {
		t.Fatalf("redrive: %d %v", n, err)
	}
	if q := next(); q != "q" {
		t.Fatalf("a redrive announced %q, want q", q)
	}
}
