package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/picloud/picloud/api/model"
)

// ErrNoAppUsers means the daemon was built without app users.
var ErrNoAppUsers = errors.New("app users are not available in this daemon")

// MaxAppUsersPage is the most app users one list returns.
const MaxAppUsersPage = 500

// AppUserStore holds the users of apps, for administrators.
type AppUserStore interface {
	ListAppUsers(ctx context.Context, appID, search, after string, limit int) ([]model.AppUser, error)
	AppUser(ctx context.Context, appID, id string) (model.AppUser, error)
	UpdateAppUser(ctx context.Context, appID, id string, p model.AppUserPatch) (model.AppUser, error)
	DeleteAppUser(ctx context.Context, appID, id string) (bool, error)
	DeleteAppUserTokens(ctx context.Context, appID, userID, kind string) (int64, error)
}

// AppUsers lists up to limit users of an app in email order, after the
// email after, whose email contains search.
func (s *Service) AppUsers(ctx context.Context, appID, search, after string, limit int) ([]model.AppUser, error) {
	if s.cfg.AppUsers == nil {
		return nil, ErrNoAppUsers
	}
	if limit < 1 || limit > MaxAppUsersPage {
		return nil, fmt.Errorf("%w: limit must be from 1 to %d", model.ErrInvalid, MaxAppUsersPage)
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	return s.cfg.AppUsers.ListAppUsers(ctx, appID, search, after, limit)
}

// SetAppUserDisabled disables (or enables again) a user of an app; a
// disabled user's sessions are revoked and it cannot log in.
func (s *Service) SetAppUserDisabled(ctx context.Context, a model.Actor, appID, id string, disabled bool) (model.AppUser, error) {
	if s.cfg.AppUsers == nil {
		return model.AppUser{}, ErrNoAppUsers
	}
	var u model.AppUser
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if u, err = s.cfg.AppUsers.UpdateAppUser(ctx, appID, id, model.AppUserPatch{Disabled: &disabled}); err != nil {
			return err
		}
		if disabled {
			if _, err := s.cfg.AppUsers.DeleteAppUserTokens(ctx, appID, id, ""); err != nil {
				return err
			}
		}
		action := "app_user.enable"
		if disabled {
			action = "app_user.disable"
		}
		return s.audit(ctx, a, action, appID, id, map[string]any{"email": u.Email})
	})
	if err != nil {
		return model.AppUser{}, err
	}
	if disabled {
		s.storageFreed(appID)
	}
	return u, nil
}

// DeleteAppUser deletes a user of an app and its tokens.
func (s *Service) DeleteAppUser(ctx context.Context, a model.Actor, appID, id string) error {
	if s.cfg.AppUsers == nil {
		return ErrNoAppUsers
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		u, err := s.cfg.AppUsers.AppUser(ctx, appID, id)
		if err != nil {
			return err
		}
		if _, err := s.cfg.AppUsers.DeleteAppUser(ctx, appID, id); err != nil {
			return err
		}
		return s.audit(ctx, a, "app_user.delete", appID, id, map[string]any{"email": u.Email})
	})
	if err == nil {
		s.storageFreed(appID)
	}
	return err
}

// RevokeAppUserSessions ends every session of a user of an app and says
// how many there were.
func (s *Service) RevokeAppUserSessions(ctx context.Context, a model.Actor, appID, id string) (int64, error) {
	if s.cfg.AppUsers == nil {
		return 0, ErrNoAppUsers
	}
	var n int64
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		u, err := s.cfg.AppUsers.AppUser(ctx, appID, id)
		if err != nil {
			return err
		}
		if n, err = s.cfg.AppUsers.DeleteAppUserTokens(ctx, appID, id, model.AppTokenSession); err != nil {
			return err
		}
		return s.audit(ctx, a, "app_user.revoke_sessions", appID, id, map[string]any{"email": u.Email, "sessions": n})
	})
	if err == nil && n > 0 {
		s.storageFreed(appID)
	}
	return n, err
}
