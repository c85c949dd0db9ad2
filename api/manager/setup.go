package manager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/model"
)

// SetupTTL is how long a first-start setup token stays valid.
const SetupTTL = 24 * time.Hour

// PrepareSetup makes a new single-use setup token when no user exists,
// valid for ttl and stored only as its hash; an earlier one stops working.
// With users, it returns "" and removes any token left.
func (s *Service) PrepareSetup(ctx context.Context, ttl time.Duration) (token string, expires time.Time, err error) {
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		n, err := s.store.CountUsers(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return s.store.DeleteSetupToken(ctx)
		}
		tok, hash, err := auth.NewSetupToken()
		if err != nil {
			return err
		}
		expires = s.now().Add(ttl)
		if err := s.store.ReplaceSetupToken(ctx, hash, expires); err != nil {
			return err
		}
		token = tok
		return nil
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("prepare the setup token: %w", err)
	}
	return token, expires, nil
}

// SetupStatus reports whether the first owner is still to be made, and
// until when the setup token is valid (zero if there is none).
func (s *Service) SetupStatus(ctx context.Context) (needed bool, expires time.Time, err error) {
	n, err := s.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return false, time.Time{}, err
	}
	expires, err = s.store.SetupToken(ctx)
	if errors.Is(err, model.ErrNotFound) {
		err = nil
	}
	return true, expires, err
}

// Setup creates the first owner with the setup token and opens a session
// for them. It succeeds once: of concurrent attempts, exactly one wins, and
// the others find the token taken and a user made.
func (s *Service) Setup(ctx context.Context, a model.Actor, token, username, password string) (model.User, string, time.Time, error) {
	if err := ValidateUsername(username); err != nil {
		return model.User{}, "", time.Time{}, err
	}
	hash, err := s.hashNew(ctx, password)
	if err != nil {
		return model.User{}, "", time.Time{}, err
	}
	session, sessionHash, err := auth.NewToken()
	if err != nil {
		return model.User{}, "", time.Time{}, fmt.Errorf("create session token: %w", err)
	}
	now := s.now()
	var u model.User
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		expires, err := s.store.TakeSetupToken(ctx, auth.HashToken(token))
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			return err
		}
		n, cerr := s.store.CountUsers(ctx)
		if cerr != nil {
			return cerr
		}
		switch {
		case n > 0:
			return fmt.Errorf("%w: setup is already done; log in instead", model.ErrConflict)
		case err != nil:
			return fmt.Errorf("%w: not the setup token; it is in the file setup-token of the data directory (picloud status shows where)", model.ErrUnauthorized)
		case !now.Before(expires):
			return fmt.Errorf("%w: the setup token expired at %s; restart the daemon for a new one, or create the first user with picloud user add",
				model.ErrUnauthorized, expires.UTC().Format(time.RFC3339))
		}
		if u, err = s.store.CreateUser(ctx, username, hash, model.RoleOwner); err != nil {
			return err
		}
		if err := s.store.CreateSession(ctx, model.Session{TokenHash: sessionHash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}); err != nil {
			return err
		}
		a.UserID, a.Username = u.ID, u.Username
		return s.audit(ctx, a, "setup.complete", "", u.ID, map[string]any{"username": username})
	})
	if err != nil {
		return model.User{}, "", time.Time{}, err
	}
	s.log.Info("first owner created with the setup token", "user", username, "client", a.Remote)
	s.setupDone()
	return u, session, now.Add(s.cfg.SessionTTL), nil
}

// setupDone tells the composition root that the setup token is spent.
func (s *Service) setupDone() {
	if s.cfg.SetupDone != nil {
		s.cfg.SetupDone()
	}
}
