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
func (s *Service) GrantAppRole(ctx context.Context, by model.User, userID, appID, role string) error {
	if role != model.RoleEditor && role != model.RoleViewer {
		return fmt.Errorf("%w: role %q: use editor or viewer", model.ErrInvalid, role)
	}
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		return err
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return fmt.Errorf("%w: app %s does not exist", model.ErrInvalid, appID)
	}
	if err := s.store.SetAppRole(ctx, userID, appID, role); err != nil {
		return err
	}
	s.log.Info("app role granted", "user_id", userID, "app", appID, "role", role, "by", by.Username)
	return nil
}

// RevokeAppRole removes a user's role in an app.
func (s *Service) RevokeAppRole(ctx context.Context, by model.User, userID, appID string) error {
	if err := s.store.DeleteAppRole(ctx, userID, appID); err != nil {
		return err
	}
	s.log.Info("app role revoked", "user_id", userID, "app", appID, "by", by.Username)
	return nil
}
