package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/mailtrace"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// InboxStore reads received email; appliance/store's Store satisfies it.
type InboxStore interface {
	// InboundEmail returns the message id of app appID; one of another
	// app is model.ErrNotFound.
	InboundEmail(ctx context.Context, appID, id string) (model.InboundEmail, error)
}

// WithInbox lets an email handler's message.forward read the message it
// forwards from in; board is this machine's name, for the Received: field
// of the forward. It returns s.
func (s *Service) WithInbox(in InboxStore, board string) *Service {
	s.inbox, s.board = in, board
	return s
}

// emailForward answers message.forward(address) of an email handler: the
// received message goes into the outbox for address, sent from the
// address it came to, which must be an allowed sender as for email.send.
// A forward is a relay's hop: the message gets a Received: field in front
// (by this board, for address), the rest byte for byte, and one that went
// through mailtrace.MaxHops hops already is refused with CodeEmailLoop.
// It returns {messageId}.
func (s *Service) emailForward(ctx context.Context, appID string, call engine.DataCall) (any, error) {
	if s.email == nil || s.inbox == nil {
		return nil, &engine.DataError{Code: CodeEmailNotConfigured, Message: "message.forward: this daemon has no SMTP relay (PICLOUD_SMTP_RELAY)"}
	}
	var a struct {
		ID string `json:"id"`
		To string `json:"to"`
	}
	if err := decodeArgs(call, &a); err != nil {
		return nil, err
	}
	to, err := mail.ParseAddress(a.To)
	if err != nil || strings.ContainsAny(a.To, "\r\n") || !strings.Contains(to.Address, "@") {
		return nil, invalid("message.forward: %q is not an email address", a.To)
	}
	if _, err := uuid.Parse(a.ID); err != nil {
		return nil, invalid("message.forward: no such message")
	}
	in, err := s.inbox.InboundEmail(ctx, appID, a.ID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, invalid("message.forward: no such message")
	}
	if err != nil {
		return nil, err
	}
	if n := mailtrace.Hops(in.Message); n >= mailtrace.MaxHops {
		return nil, &engine.DataError{Code: CodeEmailLoop,
			Message: fmt.Sprintf("message.forward: the message has %d Received headers already, a routing loop (at most %d hops)", n, mailtrace.MaxHops)}
	}
	if !s.senders.Allows(in.Recipient) {
		return nil, &engine.DataError{Code: CodeEmailSenderRefused,
			Message: fmt.Sprintf("message.forward: %s, the address the message came to, is not an allowed sender (PICLOUD_SMTP_SENDERS)", in.Recipient)}
	}
	if err := s.checkAppSender(ctx, appID, "message.forward", in.Recipient); err != nil {
		return nil, err
	}
	id := uuid.NewString() + in.Recipient[strings.LastIndexByte(in.Recipient, '@'):]
	if msg, err := mail.ReadMessage(bytes.NewReader(in.Message)); err == nil {
		if mid := strings.Trim(strings.TrimSpace(msg.Header.Get("Message-Id")), "<>"); mid != "" {
			id = mid
		}
	}
	out := model.OutboundEmail{AppID: appID, MessageID: id, Sender: in.Recipient, Recipients: []string{to.Address},
		Message: mailtrace.Prepend(in.Message, mailtrace.Stamp{By: s.board, ID: uuid.NewString(), For: to.Address, At: time.Now()})}
	if err := s.email.AddEmail(ctx, out); err != nil {
		return nil, err
	}
	return struct {
		MessageID string `json:"messageId"`
	}{id}, nil
}
