package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/tui/client"
)

// TestInboxScreens draws an app's received mail, reached with M on the
// apps screen: the list with each message's state and why it failed or was
// rejected, and one message opened with its text.
func TestInboxScreens(t *testing.T) {
	raw := "From: Ann <ann@x.example>\r\nTo: orders@shop.example\r\nSubject: where is my order?\r\n\r\nIt has been a week.\r\n"
	msgs := []client.InboxMessage{
		{ID: "m3", From: "ann@x.example", To: "orders@shop.example", Subject: "where is my order?", Size: len(raw),
			State: "failed", Attempts: 6, LastError: "script.exception: Error: no such order", ReceivedAt: at},
		{ID: "m2", From: "bob@x.example", To: "orders@shop.example", Subject: "buy now", Size: 900,
			State: "rejected", Attempts: 1, RejectReason: "we do not take orders by mail", ReceivedAt: at.Add(-time.Hour)},
		{ID: "m1", From: "", To: "orders@shop.example", Subject: "Undelivered Mail Returned to Sender", Size: 4000,
			State: "delivered", Attempts: 1, ReceivedAt: at.Add(-2 * time.Hour)},
	}
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			apps := open(m, newAppsScreen(m.e))
			feed(m, appsMsg{to{apps.id()}, []client.App{shop}})
			follow(m, press("M"))
			in, ok := m.top().(*inboxScreen)
			if !ok {
				t.Fatalf("M on an app opened %T", m.top())
			}
			feed(m, inboxMsg{in.to(), msgs})
			v := m.View()
			for _, want := range []string{"failed", "rejected", "delivered", "where is", "we do no", "x retry", "d delete"} {
				if !strings.Contains(v, want) {
					t.Errorf("the mail list has no %q:\n%s", want, v)
				}
			}
			golden(t, m, "inbox")
			follow(m, press("enter"))
			ms, ok := m.top().(*mailScreen)
			if !ok || ms.m.ID != "m3" {
				t.Fatalf("enter on the first message opened %T", m.top())
			}
			full := msgs[0]
			full.Raw = raw
			feed(m, mailMsg{ms.to(), full})
			if v := m.View(); !strings.Contains(v, "It has been a week.") || !strings.Contains(v, "failed after 6 attempts") {
				t.Errorf("the message does not show itself:\n%s", v)
			}
			golden(t, m, "inbox_message")
		})
	}
}
