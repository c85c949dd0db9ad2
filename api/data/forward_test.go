package data

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/mailtrace"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// keptInbox holds received messages by id.
type keptInbox map[string]model.InboundEmail

func (k keptInbox) InboundEmail(_ context.Context, appID, id string) (model.InboundEmail, error) {
	m, ok := k[id]
	if !ok || m.AppID != appID {
		return model.InboundEmail{}, model.ErrNotFound
	}
	return m, nil
}

// TestEmailForwardHops checks that message.forward is a relay hop: the
// forwarded message gets a Received: field by this board for the new
// recipient in front of the message as received, byte for byte; one that
// went through mailtrace.MaxHops hops already is refused with email.loop,
// and nothing goes into the outbox.
func TestEmailForwardHops(t *testing.T) {
	received := func(n int, eol string) []byte {
		return []byte(strings.Repeat("Received: from a.example by b.example; Mon, 07 Dec 2026 09:00:00 +0000"+eol, n) +
			"From: ann@x.example" + eol + "Subject: hops" + eol + "Message-ID: <hops@x.example>" + eol + eol +
			"Received: in the body, not a hop" + eol)
	}
	inbox := keptInbox{}
	add := func(msg []byte) string {
		id := uuid.NewString()
		inbox[id] = model.InboundEmail{AppID: "app-1", Recipient: "orders@shop.example", Message: msg}
		return id
	}
	kept := &keptEmails{}
	s := New(nil, nil).WithEmail(kept, Senders{"@shop.example"}).WithInbox(inbox, "pi.example")
	forward := func(id string) error {
		_, err := s.Call(context.Background(), "app-1", engine.DataCall{Op: "email.forward",
			Args: fmt.Appendf(nil, `{"id":%q,"to":"Boss <boss@x.example>"}`, id)})
		return err
	}

	for _, eol := range []string{"\r\n", "\n"} {
		kept.got = nil
		msg := received(mailtrace.MaxHops-1, eol)
		if err := forward(add(msg)); err != nil {
			t.Fatalf("forward a message of %d hops: %v", mailtrace.MaxHops-1, err)
		}
		if len(kept.got) != 1 {
			t.Fatalf("%d messages in the outbox, want 1", len(kept.got))
		}
		out := kept.got[0].Message
		if !bytes.HasSuffix(out, msg) {
			t.Fatalf("the forwarded message does not end with the received one, byte for byte:\n%q", out)
		}
		head := out[:len(out)-len(msg)]
		if mailtrace.Hops(head) != 1 || !bytes.HasSuffix(head, []byte(eol)) || bytes.Contains(bytes.TrimSuffix(head, []byte(eol)), []byte(eol+eol)) {
			t.Errorf("in front of the received message: %q, want one Received field", head)
		}
		for _, want := range []string{"Received: from pi.example ", "by pi.example id ", "for <boss@x.example>; "} {
			if !bytes.Contains(head, []byte(want)) {
				t.Errorf("the new Received field %q has no %q", head, want)
			}
		}
		if got := mailtrace.Hops(out); got != mailtrace.MaxHops {
			t.Errorf("the forward has %d hops, want %d", got, mailtrace.MaxHops)
		}
	}

	kept.got = nil
	for _, n := range []int{mailtrace.MaxHops, mailtrace.MaxHops + 10} {
		err := forward(add(received(n, "\r\n")))
		if dataCode(err) != CodeEmailLoop || !strings.Contains(err.Error(), fmt.Sprintf("%d Received headers", n)) {
			t.Errorf("forward a message of %d hops: %v, want %s", n, err, CodeEmailLoop)
		}
	}
	if len(kept.got) != 0 {
		t.Errorf("refused forwards stored %d messages", len(kept.got))
	}
}
