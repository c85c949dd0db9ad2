package store_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

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
