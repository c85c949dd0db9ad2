package store

import (
	"context"
	"fmt"
	"time"

	"github.com/picloud/picloud/api/model"
)

const userColumns = `id::text, username, role, password_hash, disabled, created_at`

func scanUser(row interface{ Scan(...any) error }) (model.User, error) {
	var u model.User
	err := row.Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt)
	return u, err
}

// CreateUser inserts a user with an instance role; a taken name is
// model.ErrConflict.
func (s *Store) CreateUser(ctx context.Context, username, passwordHash, role string) (model.User, error) {
	u, err := scanUser(s.q(ctx).QueryRow(ctx,
		`INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) RETURNING `+userColumns,
		username, passwordHash, role))
	if err != nil {
		return model.User{}, fmt.Errorf("create user %q: %w", username, mapError(err))
	}
	return u, nil
}

// SetPassword replaces a user's password hash and ends the user's sessions,
// in one transaction.
func (s *Store) SetPassword(ctx context.Context, username, passwordHash string) error {
	return s.Atomically(ctx, func(ctx context.Context) error {
		q := s.q(ctx)
		tag, err := q.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE username = $1`, username, passwordHash)
		if err != nil {
			return fmt.Errorf("set password of %q: %w", username, mapError(err))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("set password of %q: %w", username, model.ErrNotFound)
		}
		if _, err := q.Exec(ctx, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)`, username); err != nil {
			return fmt.Errorf("end sessions of %q: %w", username, mapError(err))
		}
		return nil
	})
}

// UserByName finds a user by name.
func (s *Store) UserByName(ctx context.Context, username string) (model.User, error) {
	u, err := scanUser(s.q(ctx).QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if err != nil {
		return model.User{}, fmt.Errorf("load user %q: %w", username, mapError(err))
	}
	return u, nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]model.User, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", mapError(err))
	}
	defer rows.Close()
	var out []model.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, sess model.Session) error {
	_, err := s.q(ctx).Exec(ctx,
		`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sess.TokenHash, sess.UserID, sess.CreatedAt, sess.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create session: %w", mapError(err))
	}
	return nil
}

// TouchSession returns the user of a live session and slides its expiry to
// now+ttl. To spare the SD card, the expiry is only written when it moves by
// more than a minute.
func (s *Store) TouchSession(ctx context.Context, tokenHash []byte, now time.Time, ttl time.Duration) (model.User, time.Time, error) {
	var u model.User
	var expires time.Time
	err := s.q(ctx).QueryRow(ctx, `
WITH s AS (
    SELECT token_hash, user_id, expires_at FROM sessions
    WHERE token_hash = $1 AND expires_at > $2
), slid AS (
    UPDATE sessions SET expires_at = $3
    FROM s WHERE sessions.token_hash = s.token_hash AND s.expires_at < $3::timestamptz - interval '1 minute'
    RETURNING sessions.expires_at
)
SELECT u.id::text, u.username, u.role, u.password_hash, u.disabled, u.created_at,
       COALESCE((SELECT expires_at FROM slid), s.expires_at)
FROM s JOIN users u ON u.id = s.user_id`,
		tokenHash, now, now.Add(ttl)).Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &expires)
	if err != nil {
		return model.User{}, time.Time{}, fmt.Errorf("look up session: %w", mapError(err))
	}
	return u, expires, nil
}

// DeleteSession revokes a session; revoking an unknown one is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.q(ctx).Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", mapError(err))
	}
	return nil
}

// DeleteExpiredSessions removes sessions that ended before now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", mapError(err))
	}
	return tag.RowsAffected(), nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (model.User, error) {
	u, err := scanUser(s.q(ctx).QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return model.User{}, fmt.Errorf("load user %s: %w", id, mapError(err))
	}
	return u, nil
}

// AppRoles returns a user's roles in apps, by app id.
func (s *Store) AppRoles(ctx context.Context, userID string) (map[string]string, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT app_id::text, role FROM app_roles WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("load app roles of %s: %w", userID, mapError(err))
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var app, role string
		if err := rows.Scan(&app, &role); err != nil {
			return nil, fmt.Errorf("load app roles of %s: %w", userID, err)
		}
		out[app] = role
	}
	return out, rows.Err()
}

// SetAppRole grants (or changes) a user's role in an app.
func (s *Store) SetAppRole(ctx context.Context, userID, appID, role string) error {
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO app_roles (user_id, app_id, role) VALUES ($1, $2, $3)
ON CONFLICT (user_id, app_id) DO UPDATE SET role = EXCLUDED.role`, userID, appID, role)
	if err != nil {
		return fmt.Errorf("grant %s on app %s to %s: %w", role, appID, userID, mapError(err))
	}
	return nil
}

// DeleteAppRole revokes a user's role in an app.
func (s *Store) DeleteAppRole(ctx context.Context, userID, appID string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM app_roles WHERE user_id = $1 AND app_id = $2`, userID, appID)
	if err != nil {
		return fmt.Errorf("revoke role on app %s from %s: %w", appID, userID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke role on app %s from %s: %w", appID, userID, model.ErrNotFound)
	}
	return nil
}

// UpdateUser changes a user's instance role or disabled flag; nil values
// are left as they are.
func (s *Store) UpdateUser(ctx context.Context, id string, role *string, disabled *bool) (model.User, error) {
	u, err := scanUser(s.q(ctx).QueryRow(ctx, `
UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled)
WHERE id = $1 RETURNING `+userColumns, id, role, disabled))
	if err != nil {
		return model.User{}, fmt.Errorf("update user %s: %w", id, mapError(err))
	}
	return u, nil
}

// LockEnabledOwners returns the ids of the enabled owners and locks their
// rows until the transaction ends, so that two concurrent changes cannot
// both take away what each thinks is not the last one. Call it inside a
// transaction.
func (s *Store) LockEnabledOwners(ctx context.Context) ([]string, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT id::text FROM users WHERE role = 'owner' AND NOT disabled ORDER BY id FOR UPDATE`)
	if err != nil {
		return nil, fmt.Errorf("lock enabled owners: %w", mapError(err))
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (string, error) {
		var id string
		err := r.Scan(&id)
		return id, err
	}, "lock enabled owners")
}

// SetPasswordByID replaces a user's password hash; sessions are ended
// separately (DeleteSessions).
func (s *Store) SetPasswordByID(ctx context.Context, id, passwordHash string) error {
	tag, err := s.q(ctx).Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, passwordHash)
	if err != nil {
		return fmt.Errorf("set password of user %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set password of user %s: %w", id, model.ErrNotFound)
	}
	return nil
}

// DeleteSessions ends a user's sessions, but for the one whose hash is
// except (nil: all of them).
func (s *Store) DeleteSessions(ctx context.Context, userID string, except []byte) (int64, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`, userID, except)
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %s: %w", userID, mapError(err))
	}
	return tag.RowsAffected(), nil
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.q(ctx).QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", mapError(err))
	}
	return n, nil
}
