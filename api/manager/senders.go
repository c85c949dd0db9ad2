package manager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/model"
)

// MaxAppSenders is the most senders an app may be given.
const MaxAppSenders = 100

// AppSendersStore keeps the senders the owner sets per app.
type AppSendersStore interface {
	AppEmailSenders(ctx context.Context, appID string) ([]string, bool, error)
	SetAppEmailSenders(ctx context.Context, appID string, senders []string) error
}

// ErrNoAppSenders means the daemon keeps no senders per app.
var ErrNoAppSenders = errors.New("per-app email senders are not available on this daemon")

// AppEmailSenders returns the senders of an app and the board's.
func (s *Service) AppEmailSenders(ctx context.Context, appID string) (model.AppEmailSenders, error) {
	if s.cfg.AppSenders == nil {
		return model.AppEmailSenders{}, ErrNoAppSenders
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return model.AppEmailSenders{}, err
	}
	own, ok, err := s.cfg.AppSenders.AppEmailSenders(ctx, appID)
	if err != nil {
		return model.AppEmailSenders{}, err
	}
	out := model.AppEmailSenders{Board: slices.Clone(s.cfg.BoardSenders)}
	if out.Board == nil {
		out.Board = []string{}
	}
	if ok {
		out.Senders = own
	}
	return out, nil
}

// SetAppEmailSenders restricts the senders an app's scripts may use to
// senders, addresses and "@domain"s each within the board's list; nil
// lifts the restriction. Audited.
func (s *Service) SetAppEmailSenders(ctx context.Context, a model.Actor, appID string, senders []string) (model.AppEmailSenders, error) {
	if s.cfg.AppSenders == nil {
		return model.AppEmailSenders{}, ErrNoAppSenders
	}
	clean, err := checkAppSenders(senders, s.cfg.BoardSenders)
	if err != nil {
		return model.AppEmailSenders{}, err
	}
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return err
		}
		if err := s.cfg.AppSenders.SetAppEmailSenders(ctx, appID, clean); err != nil {
			return err
		}
		return s.audit(ctx, a, "app.email_senders", appID, appID, map[string]any{"senders": clean})
	})
	if err != nil {
		return model.AppEmailSenders{}, err
	}
	s.log.Info("app email senders set", "app", appID, "senders", clean, "user", a.Username)
	return s.AppEmailSenders(ctx, appID)
}

// checkAppSenders checks an app's senders against the board's, and
// returns them in lower case, each once; nil stays nil.
func checkAppSenders(senders, board []string) ([]string, error) {
	if senders == nil {
		return nil, nil
	}
	if len(senders) > MaxAppSenders {
		return nil, fmt.Errorf("%w: %d senders: at most %d", model.ErrInvalid, len(senders), MaxAppSenders)
	}
	out := []string{}
	for _, raw := range senders {
		v := strings.ToLower(strings.TrimSpace(raw))
		at := strings.LastIndexByte(v, '@')
		if at < 0 || at == len(v)-1 || strings.ContainsAny(v, " <>\"\r\n,") {
			return nil, fmt.Errorf("%w: sender %q is neither an address (news@shop.example) nor a domain (@shop.example)", model.ErrInvalid, raw)
		}
		within := false
		if at == 0 {
			within = slices.ContainsFunc(board, func(b string) bool { return strings.EqualFold(strings.TrimSpace(b), v) })
		} else {
			within = data.Senders(board).Allows(v)
		}
		if !within {
			return nil, fmt.Errorf("%w: sender %q is not among the board's senders (PICLOUD_SMTP_SENDERS: %s)", model.ErrInvalid, raw, strings.Join(board, ", "))
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}
