package store_test

import (
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
