package manager

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/model"
)

// Credentials bundles password hashing and the login throttle.
type Credentials struct {
	Hasher   *auth.Hasher
	Throttle *auth.Throttle
}

// RateLimitedError is returned by Login while a client's attempts on an
// account are refused after too many failures, or, Busy, while too many
// logins are being verified at once.
type RateLimitedError struct {
	RetryAfter time.Duration
	Busy       bool
}

func (e *RateLimitedError) Error() string {
	if e.Busy {
		return "too many logins in progress; retry in a second"
	}
	return fmt.Sprintf("too many failed logins; retry in %s", e.RetryAfter.Round(time.Second))
}

// beginAttempt takes the throttle's slots for a password check of username
// from client, before the password is verified.
func (s *Service) beginAttempt(username, client string, now time.Time) (*auth.Attempt, error) {
	a, err := s.creds.Throttle.Begin(username, client, now)
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		return nil, &RateLimitedError{RetryAfter: te.RetryAfter, Busy: te.Busy}
	}
	return a, err
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateUsername checks a user name: lower-case letters, digits, '.', '_'
// and '-', at most 63 characters, starting with a letter or digit.
func ValidateUsername(name string) error {
	if !usernamePattern.MatchString(name) {
		return fmt.Errorf("%w: user name %q must be 1-63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", model.ErrInvalid, name)
	}
	return nil
}

// AddUser creates a user with a password and an instance role (owner, admin
// or member).
func (s *Service) AddUser(ctx context.Context, a model.Actor, username, password, role string) (model.User, error) {
	if err := ValidateUsername(username); err != nil {
		return model.User{}, err
	}
	if err := validateRole(role); err != nil {
		return model.User{}, err
	}
	hash, err := s.hashNew(ctx, password)
	if err != nil {
		return model.User{}, err
	}
	var u model.User
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if u, err = s.store.CreateUser(ctx, username, hash, role); err != nil {
			return err
		}
		// With a user, the first-start setup token has no use left.
		if err := s.store.DeleteSetupToken(ctx); err != nil {
			return err
		}
		return s.audit(ctx, a, "user.create", "", u.ID, map[string]any{"username": username, "role": role})
	})
	if errors.Is(err, model.ErrConflict) {
		return model.User{}, fmt.Errorf("%w: user %q already exists", model.ErrConflict, username)
	}
	if err != nil {
		return model.User{}, err
	}
	s.log.Info("user created", "user", username, "role", role, "by", a.Username, "channel", a.Channel)
	s.setupDone()
	return u, nil
}

func validateRole(role string) error {
	switch role {
	case model.RoleOwner, model.RoleAdmin, model.RoleMember:
		return nil
	}
	return fmt.Errorf("%w: role %q: use owner, admin or member", model.ErrInvalid, role)
}

// Login checks a user's password and opens a session. Unknown users cost the
// same work as wrong passwords. Each attempt takes its slots in the throttle
// (per account and client address, per address, per account) before the
// password is verified, so that parallel guesses cannot pass its limits.
func (s *Service) Login(ctx context.Context, a model.Actor, username, password string) (token string, expires time.Time, err error) {
	clientAddr := a.Remote
	now := s.now()
	attempt, err := s.beginAttempt(username, clientAddr, now)
	if err != nil {
		return "", time.Time{}, err
	}
	defer attempt.Abandon()
	fail := func() (string, time.Time, error) {
		attempt.Failed(now)
		s.log.Warn("failed login", "user", username, "client", clientAddr)
		return "", time.Time{}, fmt.Errorf("%w: invalid user name or password", model.ErrUnauthorized)
	}
	user, err := s.store.UserByName(ctx, username)
	if errors.Is(err, model.ErrNotFound) {
		if err := s.creds.Hasher.VerifyDummy(ctx, password); err != nil {
			return "", time.Time{}, fmt.Errorf("verify password: %w", err)
		}
		return fail()
	}
	if err != nil {
		return "", time.Time{}, err
	}
	ok, err := s.creds.Hasher.Verify(ctx, password, user.PasswordHash)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("verify password of %q: %w", username, err)
	}
	if !ok || user.Disabled {
		return fail()
	}
	attempt.Succeeded()
	token, hash, err := auth.NewToken()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("create session token: %w", err)
	}
	expires = now.Add(s.cfg.SessionTTL)
	a.UserID, a.Username = user.ID, user.Username
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.CreateSession(ctx, model.Session{TokenHash: hash, UserID: user.ID, CreatedAt: now, ExpiresAt: expires}); err != nil {
			return err
		}
		return s.audit(ctx, a, "session.login", "", user.ID, nil)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	s.log.Info("login", "user", username, "client", clientAddr)
	return token, expires, nil
}

// Authenticate returns who a session or API token belongs to. A session's
// expiry slides; an API token's use is recorded. A disabled user's tokens
// of either kind are refused.
func (s *Service) Authenticate(ctx context.Context, token string) (model.Principal, time.Time, error) {
	if !auth.WellFormedToken(token) {
		return model.Principal{}, time.Time{}, model.ErrUnauthorized
	}
	if strings.HasPrefix(token, auth.APITokenPrefix) {
		return s.authenticateAPIToken(ctx, token)
	}
	user, expires, err := s.store.TouchSession(ctx, auth.HashToken(token), s.now(), s.cfg.SessionTTL)
	if errors.Is(err, model.ErrNotFound) || (err == nil && user.Disabled) {
		return model.Principal{}, time.Time{}, model.ErrUnauthorized
	}
	if err != nil {
		return model.Principal{}, time.Time{}, err
	}
	if user, err = s.withAppRoles(ctx, user); err != nil {
		return model.Principal{}, time.Time{}, err
	}
	return model.Principal{User: user}, expires, nil
}

func (s *Service) authenticateAPIToken(ctx context.Context, token string) (model.Principal, time.Time, error) {
	t, user, err := s.store.TouchAPIToken(ctx, auth.HashToken(token), s.now())
	if errors.Is(err, model.ErrNotFound) || (err == nil && user.Disabled) {
		return model.Principal{}, time.Time{}, model.ErrUnauthorized
	}
	if err != nil {
		return model.Principal{}, time.Time{}, err
	}
	if user, err = s.withAppRoles(ctx, user); err != nil {
		return model.Principal{}, time.Time{}, err
	}
	var expires time.Time
	if t.ExpiresAt != nil {
		expires = *t.ExpiresAt
	}
	return model.Principal{User: user, Token: &t}, expires, nil
}

// withAppRoles loads a member's app roles.
func (s *Service) withAppRoles(ctx context.Context, user model.User) (model.User, error) {
	if user.Role != model.RoleMember {
		return user, nil
	}
	var err error
	user.AppRoles, err = s.store.AppRoles(ctx, user.ID)
	return user, err
}

// Logout revokes a session token.
func (s *Service) Logout(ctx context.Context, a model.Actor, token string) error {
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteSession(ctx, auth.HashToken(token)); err != nil {
			return err
		}
		return s.audit(ctx, a, "session.logout", "", a.UserID, nil)
	})
}
