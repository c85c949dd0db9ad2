package manager

import (
	"context"
	"fmt"

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
