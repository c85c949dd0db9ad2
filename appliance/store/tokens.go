package store

import (
	"context"
	"fmt"
	"time"

	"github.com/picloud/picloud/api/model"
)

const tokenColumns = `t.id::text, t.user_id::text, t.name, t.hint, t.apps::text[], t.capabilities,
	t.created_at, t.expires_at, t.last_used_at`

func scanToken(row interface{ Scan(...any) error }) (model.APIToken, error) {
	var t model.APIToken
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Hint, &t.Apps, &t.Capabilities, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt)
	return t, err
}

// CreateAPIToken stores a new API token (its hash, never the token).
func (s *Store) CreateAPIToken(ctx context.Context, t model.APIToken) (model.APIToken, error) {
	apps := t.Apps
	if apps == nil {
		apps = []string{}
	}
	out, err := scanToken(s.q(ctx).QueryRow(ctx, `
INSERT INTO api_tokens AS t (user_id, name, token_hash, hint, apps, capabilities, expires_at)
VALUES ($1, $2, $3, $4, $5::uuid[], $6, $7) RETURNING `+tokenColumns,
		t.UserID, t.Name, t.TokenHash, t.Hint, apps, t.Capabilities, t.ExpiresAt))
	if err != nil {
		return model.APIToken{}, fmt.Errorf("create API token %q: %w", t.Name, mapError(err))
	}
	return out, nil
}

// ListAPITokens returns the tokens of a user, or of everyone for "", newest
// first.
func (s *Store) ListAPITokens(ctx context.Context, userID string) ([]model.APIToken, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens t
WHERE $1 = '' OR t.user_id = NULLIF($1, '')::uuid ORDER BY t.created_at DESC, t.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", mapError(err))
	}
	return collect(rows, scanToken, "list API tokens")
}

// APITokenByID loads one token.
func (s *Store) APITokenByID(ctx context.Context, id string) (model.APIToken, error) {
	t, err := scanToken(s.q(ctx).QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.id = $1`, id))
	if err != nil {
		return model.APIToken{}, fmt.Errorf("load API token %s: %w", id, mapError(err))
	}
	return t, nil
}

// DeleteAPIToken revokes a token: the next request with it is refused.
func (s *Store) DeleteAPIToken(ctx context.Context, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM api_tokens WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("revoke API token %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke API token %s: %w", id, model.ErrNotFound)
	}
	return nil
}

// TouchAPIToken returns a live (unexpired) token by its hash, with its user,
// and records its use. To spare the SD card, last_used_at is only written
// when it moves by more than a minute.
func (s *Store) TouchAPIToken(ctx context.Context, tokenHash []byte, now time.Time) (model.APIToken, model.User, error) {
	var t model.APIToken
	var u model.User
	err := s.q(ctx).QueryRow(ctx, `
WITH t AS (
    SELECT * FROM api_tokens WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)
), used AS (
    UPDATE api_tokens SET last_used_at = $2
    FROM t WHERE api_tokens.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < $2::timestamptz - interval '1 minute')
    RETURNING api_tokens.last_used_at
)
SELECT `+tokenColumns+`, u.id::text, u.username, u.role, u.password_hash, u.disabled, u.created_at
FROM t JOIN users u ON u.id = t.user_id`, tokenHash, now).Scan(
		&t.ID, &t.UserID, &t.Name, &t.Hint, &t.Apps, &t.Capabilities, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt,
		&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt)
	if err != nil {
		return model.APIToken{}, model.User{}, fmt.Errorf("look up API token: %w", mapError(err))
	}
	return t, u, nil
}
