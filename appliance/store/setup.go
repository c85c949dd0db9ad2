package store

import (
	"context"
	"fmt"
	"time"
)

// ReplaceSetupToken stores the hash of a new first-start setup token,
// replacing any earlier one.
func (s *Store) ReplaceSetupToken(ctx context.Context, tokenHash []byte, expires time.Time) error {
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO setup_token (token_hash, expires_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at, created_at = now()`,
		tokenHash, expires)
	if err != nil {
		return fmt.Errorf("store the setup token: %w", mapError(err))
	}
	return nil
}

// TakeSetupToken deletes the setup token with this hash and returns its
// expiry; model.ErrNotFound when there is none. Of concurrent callers with
// the same token, exactly one gets it: the others wait for the row's lock
// and then find it gone.
func (s *Store) TakeSetupToken(ctx context.Context, tokenHash []byte) (time.Time, error) {
	var expires time.Time
	err := s.q(ctx).QueryRow(ctx, `DELETE FROM setup_token WHERE token_hash = $1 RETURNING expires_at`, tokenHash).Scan(&expires)
	if err != nil {
		return time.Time{}, fmt.Errorf("take the setup token: %w", mapError(err))
	}
	return expires, nil
}

// SetupToken returns the expiry of the pending setup token, or
// model.ErrNotFound.
func (s *Store) SetupToken(ctx context.Context) (time.Time, error) {
	var expires time.Time
	if err := s.q(ctx).QueryRow(ctx, `SELECT expires_at FROM setup_token`).Scan(&expires); err != nil {
		return time.Time{}, fmt.Errorf("load the setup token: %w", mapError(err))
	}
	return expires, nil
}

// DeleteSetupToken removes the setup token, if any.
func (s *Store) DeleteSetupToken(ctx context.Context) error {
	if _, err := s.q(ctx).Exec(ctx, `DELETE FROM setup_token`); err != nil {
		return fmt.Errorf("delete the setup token: %w", mapError(err))
	}
	return nil
}
