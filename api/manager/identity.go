package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/picloud/picloud/api/model"
)

// LocalOwner is who a request over the board's local admin socket acts as:
// the enabled owner who was created first. The socket's file permissions
// decide who may send such requests.
func (s *Service) LocalOwner(ctx context.Context) (model.Principal, error) {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return model.Principal{}, fmt.Errorf("find the local owner: %w", err)
	}
	var owner *model.User
	for i, u := range users {
		if u.Role != model.RoleOwner || u.Disabled {
			continue
		}
		if owner == nil || u.CreatedAt.Before(owner.CreatedAt) || (u.CreatedAt.Equal(owner.CreatedAt) && u.ID < owner.ID) {
			owner = &users[i]
		}
	}
	if owner == nil {
		return model.Principal{}, fmt.Errorf("%w: no enabled owner exists yet: create one on the board with picloud user add NAME --password-stdin", model.ErrUnauthorized)
	}
	return model.Principal{User: *owner}, nil
}

// UserPrincipal is who a request acts as on a connection that already
// authenticated a user (an SSH session): that user, with their app roles,
// unless they are disabled or gone.
func (s *Service) UserPrincipal(ctx context.Context, userID string) (model.Principal, error) {
	u, err := s.store.UserByID(ctx, userID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && u.Disabled) {
		return model.Principal{}, fmt.Errorf("%w: the user of this session is disabled or deleted", model.ErrUnauthorized)
	}
	if err != nil {
		return model.Principal{}, err
	}
	if u, err = s.withAppRoles(ctx, u); err != nil {
		return model.Principal{}, err
	}
	return model.Principal{User: u}, nil
}
