package data

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// MaxEmailBytes is the longest email address a user may have.
const MaxEmailBytes = 254

// NormalizeEmail is the form in which an app user's email is stored and
// looked up: trimmed and lower-cased; it must be a bare address
// (name@domain, no display name).
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if len(e) > MaxEmailBytes {
		return "", tooLarge("an email is %d bytes, over the %d allowed", len(e), MaxEmailBytes)
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e {
		return "", invalid("%q is not an email address (name@example.org)", email)
	}
	return e, nil
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// throttleKey is the account users.verify throttles: an email of an app.
func throttleKey(app, email string) string { return app + "/" + email }

// userVerify checks an email and password: the user, or null for an
// unknown email, a wrong password, a user without one or a disabled user.
// An unknown email costs the hashing of a wrong password. The attempt
// takes its slots in the throttle before anything is checked.
func (s *Service) userVerify(ctx context.Context, app string, a userArgs) (any, error) {
	if a.Email == nil || a.Password == nil {
		return nil, invalid("users.verify: give an email and a password")
	}
	if len(*a.Password) > auth.MaxPasswordLen {
		return nil, nil // no stored password is that long
	}
	email, err := NormalizeEmail(*a.Email)
	if err != nil {
		return nil, err
	}
	account := throttleKey(app, email)
	addr := engine.ClientAddress(ctx)
	if addr == "" {
		addr = account
	}
	now := s.now()
	attempt, err := s.users.throttle.Begin(account, addr, now)
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		return nil, &engine.DataError{Code: CodeUsersThrottled, Message: "users.verify: " + te.Error()}
	}
	if err != nil {
		return nil, fmt.Errorf("users.verify: %w", err)
	}
	defer attempt.Abandon()
	u, err := s.users.st.AppUserByEmail(ctx, app, email)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return nil, err
	}
	if err != nil || u.PasswordHash == "" {
		if err := s.users.hasher.VerifyDummy(ctx, *a.Password); err != nil {
			return nil, fmt.Errorf("users.verify: %w", err)
		}
		attempt.Failed(now)
		return nil, nil
	}
	ok, err := s.users.hasher.Verify(ctx, *a.Password, u.PasswordHash)
	if err != nil {
		return nil, fmt.Errorf("users.verify: %w", err)
	}
	if !ok || u.Disabled {
		attempt.Failed(now)
		return nil, nil
	}
	attempt.Succeeded()
	s.rehash(ctx, app, u, *a.Password)
	return viewOf(u), nil
}

// rehash hashes a user's password again, after a right one, when it was
// hashed with other parameters than the board's now; a failure is logged
// and the old hash stays.
func (s *Service) rehash(ctx context.Context, app string, u model.AppUser, password string) {
	if !s.users.hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	hash, err := s.users.hasher.Hash(ctx, password)
	if err == nil {
		_, err = s.users.st.UpdateAppUser(ctx, app, u.ID, model.AppUserPatch{PasswordHash: &hash})
	}
	if err != nil {
		s.log.Warn("rehash an app user's password", "app", app, "user", u.ID, "err", err)
	}
}

// newUserToken makes a token of kind for a user of app, living life (and,
// for a sliding session, renewed up to limit after its issue; 0: fixed),
// stores its hash and returns it. A live token counts against the app's
// storage quota.
func (s *Service) newUserToken(ctx context.Context, op, app, userID, kind, prefix string, life, limit time.Duration) (any, error) {
	if err := checkUserID(op, userID); err != nil {
		return nil, err
	}
	u, err := s.users.st.AppUser(ctx, app, userID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, invalid("%s: no user %s in this app", op, userID)
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, &engine.DataError{Code: CodeUsersDisabled, Message: op + ": the user is disabled"}
	}
	if err := s.reserve(ctx, app, op, model.AppUserTokenBytes); err != nil {
		return nil, err
	}
	token, hash, err := auth.NewAppToken(prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	now := s.now()
	t := model.AppUserToken{Hash: hash, AppID: app, UserID: userID, Kind: kind, ExpiresAt: now.Add(life)}
	out := issued{Token: token, ExpiresAt: t.ExpiresAt.UnixMilli()}
	if limit > 0 {
		t.SlidingTTL, t.MaxExpiresAt = life, now.Add(limit)
		out.MaxExpiresAt = t.MaxExpiresAt.UnixMilli()
	}
	if err := s.users.st.CreateAppUserToken(ctx, t); err != nil {
		return nil, err
	}
	return out, nil
}

// userIssueSession makes a session token: a fixed expiry, or with
// sliding: true one renewed when used (see the store's AppUserBySession).
func (s *Service) userIssueSession(ctx context.Context, app string, a userArgs) (any, error) {
	life, limit, err := sessionLifetimes(a)
	if err != nil {
		return nil, err
	}
	return s.newUserToken(ctx, "users.issueSession", app, a.ID, model.AppTokenSession, auth.AppSessionTokenPrefix, life, limit)
}

// userIssueToken makes a single-use email verification (purpose
// "verify") or password reset ("reset") token.
func (s *Service) userIssueToken(ctx context.Context, app string, a userArgs) (any, error) {
	var op, kind, prefix string
	var def int
	switch a.Purpose {
	case "verify":
		op, kind, prefix, def = "users.issueVerificationToken", model.AppTokenVerify, auth.AppVerifyTokenPrefix, DefaultVerifyTTL
	case "reset":
		op, kind, prefix, def = "users.issueResetToken", model.AppTokenReset, auth.AppResetTokenPrefix, DefaultResetTTL
	default:
		return nil, invalid("users.issueToken: purpose must be \"verify\" or \"reset\", not %q", a.Purpose)
	}
	if a.Sliding != nil || a.MaxTTL != nil {
		return nil, invalid("%s: only sessions slide: sliding and maxTtl are options of users.issueSession", op)
	}
	life, err := tokenTTL(op, a.TTL, def)
	if err != nil {
		return nil, err
	}
	return s.newUserToken(ctx, op, app, a.ID, kind, prefix, life, 0)
}

// userFromToken is the user behind a session token of the app, or null:
// a token of another app, expired, revoked or malformed is no one's, and
// neither is a disabled user's. A sliding session is renewed by the
// lookup when it is due.
func (s *Service) userFromToken(ctx context.Context, app string, a userArgs) (any, error) {
	if !auth.WellFormedAppToken(a.Token, auth.AppSessionTokenPrefix) {
		return nil, nil
	}
	u, err := s.users.st.AppUserBySession(ctx, app, auth.HashToken(a.Token), s.now())
	if err == nil && u.Disabled {
		return nil, nil
	}
	return found(u, err)
}

func (s *Service) userRevokeSession(ctx context.Context, app string, a userArgs) (any, error) {
	ok := false
	if auth.WellFormedAppToken(a.Token, auth.AppSessionTokenPrefix) {
		var err error
		if ok, err = s.users.st.DeleteAppUserSession(ctx, app, auth.HashToken(a.Token)); err != nil {
			return nil, err
		}
	}
	if ok {
		s.freed(app)
	}
	return map[string]bool{"revoked": ok}, nil
}

func (s *Service) userRevokeSessions(ctx context.Context, app string, a userArgs) (any, error) {
	if err := checkUserID("users.revokeSessions", a.ID); err != nil {
		return nil, err
	}
	n, err := s.users.st.DeleteAppUserTokens(ctx, app, a.ID, model.AppTokenSession)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		s.freed(app)
	}
	return map[string]int64{"revoked": n}, nil
}

// useToken spends a single-use token of kind: its user's id, or "" when
// the token is unknown to the app, used or expired.
func (s *Service) useToken(ctx context.Context, app, kind, prefix, token string) (string, error) {
	if !auth.WellFormedAppToken(token, prefix) {
		return "", nil
	}
	id, err := s.users.st.UseAppUserToken(ctx, app, kind, auth.HashToken(token), s.now())
	if errors.Is(err, model.ErrNotFound) {
		return "", nil
	}
	if err == nil {
		s.freed(app)
	}
	return id, err
}

// userConfirmEmail spends a verification token and marks its user's email
// verified: the user, or null for a token that is not (or no longer) good.
func (s *Service) userConfirmEmail(ctx context.Context, app string, a userArgs) (any, error) {
	id, err := s.useToken(ctx, app, model.AppTokenVerify, auth.AppVerifyTokenPrefix, a.Token)
	if err != nil || id == "" {
		return nil, err
	}
	yes := true
	return found(s.users.st.UpdateAppUser(ctx, app, id, model.AppUserPatch{Verified: &yes}))
}

// userResetPassword spends a reset token and sets its user's password;
// the user's sessions and other reset tokens are revoked. It returns the
// user, or null for a token that is not (or no longer) good. The new
// password is checked before the token is spent.
func (s *Service) userResetPassword(ctx context.Context, app string, a userArgs) (any, error) {
	if a.Password == nil {
		return nil, invalid("users.resetPassword: give the new password")
	}
	hash, err := s.hashPassword(ctx, "users.resetPassword", *a.Password)
	if err != nil {
		return nil, err
	}
	id, err := s.useToken(ctx, app, model.AppTokenReset, auth.AppResetTokenPrefix, a.Token)
	if err != nil || id == "" {
		return nil, err
	}
	for _, kind := range []string{model.AppTokenSession, model.AppTokenReset} {
		if _, err := s.users.st.DeleteAppUserTokens(ctx, app, id, kind); err != nil {
			return nil, err
		}
	}
	return found(s.users.st.UpdateAppUser(ctx, app, id, model.AppUserPatch{PasswordHash: &hash}))
}
