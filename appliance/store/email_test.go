package store_test

import (
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

// Due messages are taken oldest first, each attempt counted, and a taken
// message is not taken again while leased; a retry waits, a sent message
// loses its body and a failed one is never taken again.
func TestEmailOutbox(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	add := func(id string) {
		t.Helper()
		err := s.AddEmail(ctx, model.OutboundEmail{AppID: model.DefaultAppID, MessageID: id, Sender: "a@x.example",
			Recipients: []string{"b@x.example", "c@x.example"}, Message: []byte("Subject: " + id + "\r\n\r\nhi\r\n")})
		if err != nil {
			t.Fatal(err)
		}
	}
	take := func() []model.OutboundEmail {
		t.Helper()
		ms, err := s.TakeDueEmails(ctx, 10, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	add("m1")
	add("m2")
	add("m3")
	got := take()
	if len(got) != 3 || got[0].MessageID != "m1" || got[0].Attempts != 1 || len(got[0].Recipients) != 2 ||
		string(got[0].Message) != "Subject: m1\r\n\r\nhi\r\n" {
		t.Fatalf("first take: %+v", got)
	}
	if again := take(); len(again) != 0 {
		t.Fatalf("leased messages were taken again: %+v", again)
	}
	if err := s.EmailRetry(ctx, got[0].ID, 0, "451 later"); err != nil {
		t.Fatal(err)
	}
	if err := s.EmailSent(ctx, got[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.EmailFailed(ctx, got[2].ID, "550 no"); err != nil {
		t.Fatal(err)
	}
	if retried := take(); len(retried) != 1 || retried[0].ID != got[0].ID || retried[0].Attempts != 2 {
		t.Fatalf("after a retry with no wait: %+v, want m1 again at attempt 2", retried)
	}
	if err := s.EmailRetry(ctx, got[0].ID, time.Hour, "451 later"); err != nil {
		t.Fatal(err)
	}
	if none := take(); len(none) != 0 {
		t.Fatalf("a message retried in an hour, a sent and a failed one were taken: %+v", none)
	}
}
