package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// Every query of app_users and app_user_tokens names the app: a user or a
// token of one app is never reached with another's id.

const appUserColumns = `id, app_id, email, coalesce(password_hash, ''), data, verified, disabled, created_at, updated_at`

func scanAppUser(row pgx.Row) (model.AppUser, error) {
	var u model.AppUser
	err := row.Scan(&u.ID, &u.AppID, &u.Email, &u.PasswordHash, &u.Data, &u.Verified, &u.Disabled, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

func collectAppUser(row pgx.CollectableRow) (model.AppUser, error) { return scanAppUser(row) }

// CreateAppUser adds a user to an app; model.ErrConflict if the email is
// taken in that app.
func (s *Store) CreateAppUser(ctx context.Context, appID, email, passwordHash string, data json.RawMessage) (model.AppUser, error) {
	u, err := scanAppUser(s.q(ctx).QueryRow(ctx, `INSERT INTO app_users (app_id, email, password_hash, data)
VALUES ($1, $2, nullif($3, ''), $4) RETURNING `+appUserColumns, appID, email, passwordHash, data))
	if err != nil {
		return model.AppUser{}, fmt.Errorf("create app user %q: %w", email, mapError(err))
	}
	return u, nil
}

// AppUser returns a user of an app by id, or model.ErrNotFound.
func (s *Store) AppUser(ctx context.Context, appID, id string) (model.AppUser, error) {
	u, err := scanAppUser(s.q(ctx).QueryRow(ctx, `SELECT `+appUserColumns+` FROM app_users
WHERE app_id = $1 AND id = $2`, appID, id))
	if err != nil {
		return model.AppUser{}, fmt.Errorf("get app user %q: %w", id, mapError(err))
	}
	return u, nil
}

// AppUserByEmail returns a user of an app by email, or model.ErrNotFound.
func (s *Store) AppUserByEmail(ctx context.Context, appID, email string) (model.AppUser, error) {
	u, err := scanAppUser(s.q(ctx).QueryRow(ctx, `SELECT `+appUserColumns+` FROM app_users
WHERE app_id = $1 AND email = $2`, appID, email))
	if err != nil {
		return model.AppUser{}, fmt.Errorf("get app user %q: %w", email, mapError(err))
	}
	return u, nil
}

// UpdateAppUser changes a user of an app and returns it as it is now.
func (s *Store) UpdateAppUser(ctx context.Context, appID, id string, p model.AppUserPatch) (model.AppUser, error) {
	var data *string
	if p.Data != nil {
		d := string(p.Data)
		data = &d
	}
	u, err := scanAppUser(s.q(ctx).QueryRow(ctx, `UPDATE app_users SET
  email = coalesce($3, email),
  data = coalesce($4::jsonb, data),
  password_hash = coalesce($5, password_hash),
  verified = coalesce($6, verified),
  disabled = coalesce($7, disabled),
  updated_at = now()
WHERE app_id = $1 AND id = $2 RETURNING `+appUserColumns,
		appID, id, p.Email, data, p.PasswordHash, p.Verified, p.Disabled))
	if err != nil {
		return model.AppUser{}, fmt.Errorf("update app user %q: %w", id, mapError(err))
	}
	return u, nil
}

// DeleteAppUser deletes a user of an app, and its tokens; it says whether
// there was one.
func (s *Store) DeleteAppUser(ctx context.Context, appID, id string) (bool, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM app_users WHERE app_id = $1 AND id = $2`, appID, id)
	if err != nil {
		return false, fmt.Errorf("delete app user %q: %w", id, mapError(err))
	}
	return tag.RowsAffected() > 0, nil
}

// ListAppUsers returns up to limit users of an app in email order, after
// the email after, whose email contains search (any, if empty).
func (s *Store) ListAppUsers(ctx context.Context, appID, search, after string, limit int) ([]model.AppUser, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+appUserColumns+` FROM app_users
WHERE app_id = $1 AND strpos(email, $2) > 0 AND email > $3 ORDER BY email LIMIT $4`, appID, search, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list app users: %w", mapError(err))
	}
	out, err := pgx.CollectRows(rows, collectAppUser)
	if err != nil {
		return nil, fmt.Errorf("list app users: %w", mapError(err))
	}
	return out, nil
}

// CreateAppUserToken stores a token of a user of an app (its hash); a
// sliding session with its renewal lifetime and limit.
func (s *Store) CreateAppUserToken(ctx context.Context, t model.AppUserToken) error {
	var limit *time.Time
	if t.SlidingTTL > 0 {
		limit = &t.MaxExpiresAt
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO app_user_tokens (token_hash, app_id, user_id, kind, expires_at, sliding_ttl, max_expires_at)
SELECT $1, app_id, id, $4, $5, nullif($6::bigint, 0) * interval '1 microsecond', $7 FROM app_users WHERE app_id = $2 AND id = $3`,
		t.Hash, t.AppID, t.UserID, t.Kind, t.ExpiresAt, t.SlidingTTL.Microseconds(), limit)
	if err != nil {
		return fmt.Errorf("store a %s token: %w", t.Kind, mapError(err))
	}
	return nil
}

// AppUserBySession returns the user of an app whose session token hashes
// to hash and is live at now, or model.ErrNotFound. A sliding session
// with less than half of its lifetime left is renewed to that lifetime
// from now, never past its limit, in the same statement: at most one
// write per half lifetime, however many requests use it at once (a
// second one waiting on the row sees it renewed and leaves it).
func (s *Store) AppUserBySession(ctx context.Context, appID string, hash []byte, now time.Time) (model.AppUser, error) {
	u, err := scanAppUser(s.q(ctx).QueryRow(ctx, `WITH renewed AS (
  UPDATE app_user_tokens SET expires_at = least($3::timestamptz + sliding_ttl, max_expires_at)
  WHERE token_hash = $2 AND app_id = $1 AND kind = 'session' AND expires_at > $3
    AND sliding_ttl IS NOT NULL AND expires_at < max_expires_at AND expires_at - $3 < sliding_ttl / 2
)
SELECT `+appUserColumnsU+` FROM app_user_tokens t
JOIN app_users u ON u.id = t.user_id AND u.app_id = t.app_id
WHERE t.token_hash = $2 AND t.app_id = $1 AND t.kind = 'session' AND t.expires_at > $3`, appID, hash, now))
	if err != nil {
		return model.AppUser{}, fmt.Errorf("look up a session: %w", mapError(err))
	}
	return u, nil
}

// appUserColumnsU is appUserColumns of the table aliased u.
const appUserColumnsU = `u.id, u.app_id, u.email, coalesce(u.password_hash, ''), u.data, u.verified, u.disabled, u.created_at, u.updated_at`

// UseAppUserToken deletes the live single-use token of kind that hashes to
// hash and returns its user's id, or model.ErrNotFound: a token is used at
// most once, whoever asks at the same time.
func (s *Store) UseAppUserToken(ctx context.Context, appID, kind string, hash []byte, now time.Time) (string, error) {
	var userID string
	var live bool
	err := s.q(ctx).QueryRow(ctx, `DELETE FROM app_user_tokens
WHERE token_hash = $2 AND app_id = $1 AND kind = $3 RETURNING user_id::text, expires_at > $4`, appID, hash, kind, now).Scan(&userID, &live)
	if err != nil {
		return "", fmt.Errorf("use a %s token: %w", kind, mapError(err))
	}
	if !live {
		return "", fmt.Errorf("use a %s token: it expired: %w", kind, model.ErrNotFound)
	}
	return userID, nil
}

// DeleteAppUserTokens deletes tokens of a user of an app: those of kind,
// or every kind if kind is empty; it returns how many.
func (s *Store) DeleteAppUserTokens(ctx context.Context, appID, userID, kind string) (int64, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM app_user_tokens
WHERE app_id = $1 AND user_id = $2 AND ($3 = '' OR kind = $3)`, appID, userID, kind)
	if err != nil {
		return 0, fmt.Errorf("delete tokens: %w", mapError(err))
	}
	return tag.RowsAffected(), nil
}

// DeleteAppUserSession deletes one session token of an app (log-out) and
// says whether it was there.
func (s *Store) DeleteAppUserSession(ctx context.Context, appID string, hash []byte) (bool, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM app_user_tokens
WHERE app_id = $1 AND token_hash = $2 AND kind = 'session'`, appID, hash)
	if err != nil {
		return false, fmt.Errorf("delete a session: %w", mapError(err))
	}
	return tag.RowsAffected() > 0, nil
}

// PurgeExpiredAppUserTokens deletes up to limit expired tokens of any app.
func (s *Store) PurgeExpiredAppUserTokens(ctx context.Context, limit int) (int, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM app_user_tokens WHERE token_hash IN
(SELECT token_hash FROM app_user_tokens WHERE expires_at <= now() LIMIT $1)`, limit)
	if err != nil {
		return 0, fmt.Errorf("purge expired app user tokens: %w", mapError(err))
	}
	return int(tag.RowsAffected()), nil
}

// CountAppUsers counts the users of every app and their live sessions.
func (s *Store) CountAppUsers(ctx context.Context) (model.AppUsersStatus, error) {
	var c model.AppUsersStatus
	err := s.q(ctx).QueryRow(ctx, `SELECT (SELECT count(*) FROM app_users),
  (SELECT count(*) FROM app_user_tokens WHERE kind = 'session' AND expires_at > now())`).Scan(&c.Users, &c.Sessions)
	if err != nil {
		return model.AppUsersStatus{}, fmt.Errorf("count app users: %w", mapError(err))
	}
	return c, nil
}
