package manager

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/model"
)

// Users lists every user with their app roles.
func (s *Service) Users(ctx context.Context) ([]model.User, error) {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for i := range users {
		if users[i].AppRoles, err = s.store.AppRoles(ctx, users[i].ID); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// GrantAppRole gives a user the editor or viewer role in an app.
func (s *Service) GrantAppRole(ctx context.Context, a model.Actor, userID, appID, role string) error {
	if role != model.RoleEditor && role != model.RoleViewer {
		return fmt.Errorf("%w: role %q: use editor or viewer", model.ErrInvalid, role)
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		u, err := s.store.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return fmt.Errorf("%w: app %s does not exist", model.ErrInvalid, appID)
		}
		if err := s.store.SetAppRole(ctx, userID, appID, role); err != nil {
			return err
		}
		return s.audit(ctx, a, "user.grant_role", appID, userID, map[string]any{"username": u.Username, "role": role})
	})
	if err != nil {
		return err
	}
	s.log.Info("app role granted", "user_id", userID, "app", appID, "role", role, "by", a.Username)
	return nil
}

// RevokeAppRole removes a user's role in an app.
func (s *Service) RevokeAppRole(ctx context.Context, a model.Actor, userID, appID string) error {
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteAppRole(ctx, userID, appID); err != nil {
			return err
		}
		return s.audit(ctx, a, "user.revoke_role", appID, userID, nil)
	})
	if err != nil {
		return err
	}
	s.log.Info("app role revoked", "user_id", userID, "app", appID, "by", a.Username)
	return nil
}

// UserChange is what an owner changes about a user; nil fields stay.
type UserChange struct {
	Role     *string
	Disabled *bool
}

// UpdateUser changes a user's instance role, or disables or enables them. A
// disabled user's sessions end at once, their API tokens stop working while
// they are disabled, and they cannot log in. The last enabled owner can be
// neither disabled nor demoted, even by concurrent requests.
func (s *Service) UpdateUser(ctx context.Context, a model.Actor, id string, ch UserChange) (model.User, error) {
	if ch.Role == nil && ch.Disabled == nil {
		return model.User{}, fmt.Errorf("%w: nothing to change: give role or disabled", model.ErrInvalid)
	}
	if ch.Role != nil {
		if err := validateRole(*ch.Role); err != nil {
			return model.User{}, err
		}
	}
	var u model.User
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		owners, err := s.store.LockEnabledOwners(ctx)
		if err != nil {
			return err
		}
		cur, err := s.store.UserByID(ctx, id)
		if err != nil {
			return err
		}
		demoted := ch.Role != nil && *ch.Role != model.RoleOwner
		disabled := ch.Disabled != nil && *ch.Disabled
		if cur.Role == model.RoleOwner && !cur.Disabled && (demoted || disabled) && len(owners) <= 1 {
			return fmt.Errorf("%w: %s is the last enabled owner; make another user owner first", model.ErrConflict, cur.Username)
		}
		if u, err = s.store.UpdateUser(ctx, id, ch.Role, ch.Disabled); err != nil {
			return err
		}
		if u.Disabled {
			if _, err := s.store.DeleteSessions(ctx, id, nil); err != nil {
				return err
			}
		}
		details := map[string]any{"username": u.Username}
		action := "user.update"
		if ch.Role != nil {
			details["role"] = *ch.Role
			action = "user.set_role"
		}
		if ch.Disabled != nil {
			details["disabled"] = *ch.Disabled
			action = map[bool]string{true: "user.disable", false: "user.enable"}[*ch.Disabled]
		}
		if ch.Role != nil && ch.Disabled != nil {
			action = "user.update"
		}
		return s.audit(ctx, a, action, "", id, details)
	})
	if err != nil {
		return model.User{}, err
	}
	s.log.Info("user updated", "user", u.Username, "role", u.Role, "disabled", u.Disabled, "by", a.Username)
	return s.withAppRoles(ctx, u)
}

// ResetPassword sets a user's password for them (an owner's doing) and
// ends all their sessions.
func (s *Service) ResetPassword(ctx context.Context, a model.Actor, id, password string) error {
	hash, err := s.hashNew(ctx, password)
	if err != nil {
		return err
	}
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		u, err := s.store.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.SetPasswordByID(ctx, id, hash); err != nil {
			return err
		}
		if _, err := s.store.DeleteSessions(ctx, id, nil); err != nil {
			return err
		}
		return s.audit(ctx, a, "user.reset_password", "", id, map[string]any{"username": u.Username})
	})
	if err != nil {
		return err
	}
	s.log.Info("password reset", "user_id", id, "by", a.Username)
	return nil
}

// ChangePassword changes the password of the user of a session, who must
// give the current one; their other sessions end. Wrong current passwords
// count as failed logins.
func (s *Service) ChangePassword(ctx context.Context, a model.Actor, sessionToken, current, next string) error {
	user, err := s.store.UserByID(ctx, a.UserID)
	if err != nil {
		return err
	}
	now := s.now()
	attempt, err := s.beginAttempt(user.Username, a.Remote, now)
	if err != nil {
		return err
	}
	defer attempt.Abandon()
	ok, err := s.creds.Hasher.Verify(ctx, current, user.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password of %q: %w", user.Username, err)
	}
	if !ok {
		attempt.Failed(now)
		s.log.Warn("wrong current password on password change", "user", user.Username, "client", a.Remote)
		return fmt.Errorf("%w: the current password is not right", model.ErrInvalid)
	}
	attempt.Succeeded()
	hash, err := s.hashNew(ctx, next)
	if err != nil {
		return err
	}
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.SetPasswordByID(ctx, user.ID, hash); err != nil {
			return err
		}
		if _, err := s.store.DeleteSessions(ctx, user.ID, auth.HashToken(sessionToken)); err != nil {
			return err
		}
		return s.audit(ctx, a, "user.change_password", "", user.ID, map[string]any{"username": user.Username})
	})
	if err != nil {
		return err
	}
	s.log.Info("password changed", "user", user.Username)
	return nil
}

// hashNew checks a new password against the policy and hashes it.
func (s *Service) hashNew(ctx context.Context, password string) (string, error) {
	if err := auth.ValidatePassword(password); err != nil {
		return "", fmt.Errorf("%w: %w", model.ErrInvalid, err)
	}
	hash, err := s.creds.Hasher.Hash(ctx, password)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}
