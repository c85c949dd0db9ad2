package manager

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/textproto"

	"github.com/picloud/picloud/api/model"
)

// Limits of the admin API's received messages.
const (
	DefaultInboxBrowseLimit = 50
	MaxInboxBrowseLimit     = 500
	// MaxInboxRaw is the most of a received message shown when one
	// message is asked for.
	MaxInboxRaw = 1 << 20
)

// InboxStore holds the apps' received email, for the admin API.
type InboxStore interface {
	InboxMessages(ctx context.Context, appID, state, cursor string, limit int) ([]model.InboxMessage, error)
	InboxMessage(ctx context.Context, appID, id string, maxRaw int) (model.InboxMessage, error)
	RetryInboxMessage(ctx context.Context, appID, id string) error
	DeleteInboxMessage(ctx context.Context, appID, id string) error
}

// ErrNoInbox means the daemon keeps no received email.
var ErrNoInbox = errors.New("received email is not available on this daemon")

// InboxMessages lists up to limit received messages of an app, newest
// first, those after the message cursor (the last of the previous page);
// state is "" or one of queued, delivered, rejected and failed.
func (s *Service) InboxMessages(ctx context.Context, appID, state, cursor string, limit int) ([]model.InboxMessage, error) {
	if s.cfg.Inbox == nil {
		return nil, ErrNoInbox
	}
	switch state {
	case "", "queued", "delivered", "rejected", "failed":
	default:
		return nil, fmt.Errorf("%w: state %q: it is queued, delivered, rejected or failed", model.ErrInvalid, state)
	}
	switch {
	case limit == 0:
		limit = DefaultInboxBrowseLimit
	case limit < 1 || limit > MaxInboxBrowseLimit:
		return nil, fmt.Errorf("%w: limit is %d: it is between 1 and %d", model.ErrInvalid, limit, MaxInboxBrowseLimit)
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	ms, err := s.cfg.Inbox.InboxMessages(ctx, appID, state, cursor, limit)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		ms[i].Subject = subject(ms[i].Head)
	}
	return ms, nil
}

// InboxMessage returns one received message of an app, with the message
// itself up to MaxInboxRaw bytes.
func (s *Service) InboxMessage(ctx context.Context, appID, id string) (model.InboxMessage, error) {
	if s.cfg.Inbox == nil {
		return model.InboxMessage{}, ErrNoInbox
	}
	m, err := s.cfg.Inbox.InboxMessage(ctx, appID, id, MaxInboxRaw)
	if err != nil {
		return m, err
	}
	m.Subject = subject(m.Head)
	return m, nil
}

// InboxMessageAction changes one received message of an app: "retry"
// delivers a failed or rejected one again, attempts from zero; "delete"
// removes it. Audited.
func (s *Service) InboxMessageAction(ctx context.Context, a model.Actor, appID, id, action string) error {
	if s.cfg.Inbox == nil {
		return ErrNoInbox
	}
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		m, err := s.cfg.Inbox.InboxMessage(ctx, appID, id, 0)
		if err != nil {
			return err
		}
		switch action {
		case "retry":
			err = s.cfg.Inbox.RetryInboxMessage(ctx, appID, id)
		case "delete":
			err = s.cfg.Inbox.DeleteInboxMessage(ctx, appID, id)
		default:
			err = fmt.Errorf("%w: unknown action %q on a received message", model.ErrInvalid, action)
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, a, "email.inbox."+action, appID, id, map[string]any{"to": m.To, "state": m.State})
	})
}

// subject is the decoded Subject header of a message's head; "" when it
// has none or the head does not parse.
func subject(head []byte) string {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(head))).ReadMIMEHeader()
	if len(h) == 0 && err != nil {
		return ""
	}
	v := h.Get("Subject")
	if dec, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return dec
	}
	return v
}
