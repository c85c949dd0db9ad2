package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

// Settled email past the retention is deleted, one rule for both ways:
// received messages delivered or rejected, outbox messages sent; failed
// and queued ones, and those settled since, stay.
func TestPruneSettledEmail(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	sc, err := s.CreateScript(ctx, model.DefaultAppID, "inbox", "js", model.NewVersion{Source: "1", Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	old, recent := time.Now().Add(-8*24*time.Hour), time.Now().Add(-time.Hour)
	for _, r := range []struct {
		subject, state string
		settled        time.Time
	}{
		{"old delivered", "delivered", old}, {"old rejected", "rejected", old}, {"old failed", "failed", old},
		{"recent delivered", "delivered", recent}, {"queued", "queued", time.Time{}},
	} {
		var settled any
		if !r.settled.IsZero() {
			settled = r.settled
		}
		_, err := s.Pool().Exec(ctx, `INSERT INTO email_inbox (app_id, script_id, sender, recipient, message, state, settled_at)
VALUES ($1, $2, 'a@x.example', 'in@x.example', $3, $4, $5)`, model.DefaultAppID, sc.ID, []byte("Subject: "+r.subject+"\r\n\r\n"), r.state, settled)
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []struct {
		id, state string
		sent      time.Time
	}{{"old-sent", "sent", old}, {"old-failed", "failed", time.Time{}}, {"recent-sent", "sent", recent}} {
		var sent any
		if !r.sent.IsZero() {
			sent = r.sent
		}
		_, err := s.Pool().Exec(ctx, `INSERT INTO email_outbox (app_id, message_id, sender, recipients, message, state, sent_at, created_at)
VALUES ($1, $2, 'a@x.example', '{b@x.example}', '', $3, $4, $5)`, model.DefaultAppID, r.id, r.state, sent, old)
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneSettledEmail(ctx, time.Now().Add(-7*24*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("pruned %d, %v; want the 3 old settled ones", n, err)
	}
	ms, err := s.InboxMessages(ctx, model.DefaultAppID, "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]string{}
	for _, m := range ms {
		left[string(m.Head)] = m.State
	}
	if len(left) != 3 || left["Subject: old failed\r\n\r\n"] != "failed" || left["Subject: recent delivered\r\n\r\n"] != "delivered" ||
		left["Subject: queued\r\n\r\n"] != "queued" {
		t.Errorf("received messages left: %v", left)
	}
	var sent []string
	rows, err := s.Pool().Query(ctx, `SELECT message_id FROM email_outbox ORDER BY message_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, id)
	}
	if len(sent) != 2 || sent[0] != "old-failed" || sent[1] != "recent-sent" {
		t.Errorf("outbox messages left: %v", sent)
	}
}

// Received email is announced on store.InboxChannel at the commit of the
// change that queued it: a message stored (not at all if its transaction
// rolls back) and one retried. Notices come in the order of their
// commits, so a notice on a channel of the test's own, sent after the
// rollback, comes first when the rollback announced nothing.
func TestInboxNotices(t *testing.T) {
	pool := pgtest.NewDatabase(t)
	s := store.New(pool)
	sc, err := s.CreateScript(ctx, model.DefaultAppID, "inbox", "js", model.NewVersion{Source: "1", Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	const marker = "picloud_test_marker"
	notice := listen(t, pool, store.InboxChannel, marker)
	next := func() string { t.Helper(); return notice().Channel }
	msg := []model.InboundEmail{{AppID: model.DefaultAppID, ScriptID: sc.ID, Sender: "a@x.example",
		Recipient: "in@x.example", Message: []byte("Subject: hi\r\n\r\nhello\r\n")}}

	boom := errors.New("boom")
	if err := s.Atomically(ctx, func(ctx context.Context) error {
		if err := s.AddInboundEmails(ctx, msg); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `SELECT pg_notify($1, '')`, marker); err != nil {
		t.Fatal(err)
	}
	if ch := next(); ch != marker {
		t.Fatalf("first notice on %s, want %s: a store rolled back must announce nothing", ch, marker)
	}
	if err := s.AddInboundEmails(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if ch := next(); ch != store.InboxChannel {
		t.Fatalf("a message stored announced on %s, want %s", ch, store.InboxChannel)
	}
	ms, err := s.TakeDueInboundEmails(ctx, 10, time.Minute)
	if err != nil || len(ms) != 1 {
		t.Fatalf("take: %+v %v", ms, err)
	}
	if err := s.InboundEmailFailed(ctx, ms[0].ID, "boom"); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryInboxMessage(ctx, model.DefaultAppID, ms[0].ID); err != nil {
		t.Fatal(err)
	}
	if ch := next(); ch != store.InboxChannel {
		t.Fatalf("a message retried announced on %s, want %s", ch, store.InboxChannel)
	}
}

// InboxNextDue is how long until the earliest queued message not due yet
// is: none is 0, and one retried in an hour is due within that hour;
// messages settled, or due already, do not count.
func TestInboxNextDue(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	sc, err := s.CreateScript(ctx, model.DefaultAppID, "inbox", "js", model.NewVersion{Source: "1", Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := s.InboxNextDue(ctx); err != nil || d != 0 {
		t.Fatalf("empty inbox: next due in %v (%v), want 0", d, err)
	}
	for _, r := range []struct {
		state string
		in    string
	}{{"queued", "-1 minute"}, {"queued", "1 hour"}, {"queued", "2 hours"}, {"failed", "1 minute"}} {
		_, err := s.Pool().Exec(ctx, `INSERT INTO email_inbox (app_id, script_id, sender, recipient, message, state, next_attempt_at)
VALUES ($1, $2, 'a@x.example', 'in@x.example', 'Subject: x', $3, now() + $4::interval)`, model.DefaultAppID, sc.ID, r.state, r.in)
		if err != nil {
			t.Fatal(err)
		}
	}
	if d, err := s.InboxNextDue(ctx); err != nil || d <= 59*time.Minute || d > time.Hour {
		t.Fatalf("next due in %v (%v), want the queued message an hour away", d, err)
	}
}
