package manager

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/model"
)

// maxTokenApps caps the apps of one API token.
const maxTokenApps = 100

// TokenInput is what a person asks for in a new API token.
type TokenInput struct {
	Name         string
	Apps         []string
	Capabilities []string
	ExpiresAt    *time.Time // nil: until revoked
}

// ValidateToken checks a token request and returns it cleaned up: known
// capabilities, app ids in canonical form, each once. Whether the creator
// may hand out that scope is the caller's to ask access.Can.
func ValidateToken(in TokenInput, now time.Time) (TokenInput, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 || strings.ContainsFunc(in.Name, func(r rune) bool { return r < ' ' }) {
		return in, fmt.Errorf("%w: name is required: up to 100 characters saying what the token is for", model.ErrInvalid)
	}
	if len(in.Capabilities) == 0 {
		return in, fmt.Errorf("%w: capabilities is required: a list of %s", model.ErrInvalid, capabilityList())
	}
	caps, appScoped := []string{}, false
	for _, c := range in.Capabilities {
		capability, ok := access.Parse(c)
		if !ok {
			return in, fmt.Errorf("%w: unknown capability %q: use %s", model.ErrInvalid, c, capabilityList())
		}
		appScoped = appScoped || capability.AppScoped()
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	in.Capabilities = caps
	apps := []string{}
	for _, a := range in.Apps {
		u, err := uuid.Parse(a)
		if err != nil {
			return in, fmt.Errorf("%w: apps must be a list of app ids; %q is not one", model.ErrInvalid, a)
		}
		if !slices.Contains(apps, u.String()) {
			apps = append(apps, u.String())
		}
	}
	if len(apps) > maxTokenApps {
		return in, fmt.Errorf("%w: a token may name at most %d apps", model.ErrInvalid, maxTokenApps)
	}
	if appScoped && len(apps) == 0 {
		return in, fmt.Errorf("%w: app.read and app.write need the apps they apply to, in apps", model.ErrInvalid)
	}
	in.Apps = apps
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return in, fmt.Errorf("%w: expires_at is in the past", model.ErrInvalid)
	}
	return in, nil
}

func capabilityList() string {
	names := make([]string, len(access.Grantable))
	for i, c := range access.Grantable {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}

// CreateToken makes an API token for the acting user, as ValidateToken
// cleaned the input. It returns the token, to be shown once, and what is
// stored of it.
func (s *Service) CreateToken(ctx context.Context, a model.Actor, in TokenInput) (model.APIToken, string, error) {
	in, err := ValidateToken(in, s.now())
	if err != nil {
		return model.APIToken{}, "", err
	}
	token, hash, err := auth.NewAPIToken()
	if err != nil {
		return model.APIToken{}, "", fmt.Errorf("create API token: %w", err)
	}
	var t model.APIToken
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		for _, app := range in.Apps {
			if _, err := s.store.AppByID(ctx, app); err != nil {
				return fmt.Errorf("%w: app %s does not exist", model.ErrInvalid, app)
			}
		}
		var err error
		t, err = s.store.CreateAPIToken(ctx, model.APIToken{UserID: a.UserID, Name: in.Name, TokenHash: hash,
			Hint: token[:len(auth.APITokenPrefix)+6], Apps: in.Apps, Capabilities: in.Capabilities, ExpiresAt: in.ExpiresAt})
		if err != nil {
			return err
		}
		details := map[string]any{"name": t.Name, "apps": t.Apps, "capabilities": t.Capabilities}
		if t.ExpiresAt != nil {
			details["expires_at"] = t.ExpiresAt.UTC()
		}
		return s.audit(ctx, a, "token.create", "", t.ID, details)
	})
	if err != nil {
		return model.APIToken{}, "", err
	}
	s.log.Info("API token created", "token_id", t.ID, "name", t.Name, "user", a.Username)
	return t, token, nil
}

// Tokens lists the API tokens of a user, or of everyone for "".
func (s *Service) Tokens(ctx context.Context, userID string) ([]model.APIToken, error) {
	return s.store.ListAPITokens(ctx, userID)
}

// Token returns one API token (never the token itself, which is not kept).
func (s *Service) Token(ctx context.Context, id string) (model.APIToken, error) {
	return s.store.APITokenByID(ctx, id)
}

// RevokeToken deletes an API token; the next request with it is refused.
func (s *Service) RevokeToken(ctx context.Context, a model.Actor, id string) error {
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		t, err := s.store.APITokenByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.DeleteAPIToken(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, a, "token.revoke", "", id, map[string]any{"name": t.Name, "user_id": t.UserID})
	})
	if err != nil {
		return err
	}
	s.log.Info("API token revoked", "token_id", id, "user", a.Username)
	return nil
}
