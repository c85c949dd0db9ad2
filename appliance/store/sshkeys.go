package store

import (
	"context"
	"fmt"
	"time"

	"github.com/picloud/picloud/api/model"
)

const sshKeyColumns = `id::text, user_id::text, fingerprint, key_type, public_key, comment, created_at, last_used_at`

func scanSSHKey(row interface{ Scan(...any) error }) (model.SSHKey, error) {
	var k model.SSHKey
	err := row.Scan(&k.ID, &k.UserID, &k.Fingerprint, &k.Type, &k.PublicKey, &k.Comment, &k.CreatedAt, &k.LastUsedAt)
	return k, err
}

// CreateSSHKey stores a user's public key; a key already registered (to
// anyone) is model.ErrConflict.
func (s *Store) CreateSSHKey(ctx context.Context, k model.SSHKey) (model.SSHKey, error) {
	out, err := scanSSHKey(s.q(ctx).QueryRow(ctx, `
INSERT INTO ssh_keys (user_id, fingerprint, key_type, public_key, comment) VALUES ($1, $2, $3, $4, $5)
RETURNING `+sshKeyColumns, k.UserID, k.Fingerprint, k.Type, k.PublicKey, k.Comment))
	if err != nil {
		return model.SSHKey{}, fmt.Errorf("add SSH key %s: %w", k.Fingerprint, mapError(err))
	}
	return out, nil
}

// ListSSHKeys returns a user's keys, oldest first.
func (s *Store) ListSSHKeys(ctx context.Context, userID string) ([]model.SSHKey, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+sshKeyColumns+` FROM ssh_keys WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list SSH keys: %w", mapError(err))
	}
	return collect(rows, scanSSHKey, "list SSH keys")
}

// DeleteSSHKey removes one of a user's keys.
func (s *Store) DeleteSSHKey(ctx context.Context, userID, id string) (model.SSHKey, error) {
	k, err := scanSSHKey(s.q(ctx).QueryRow(ctx, `DELETE FROM ssh_keys WHERE user_id = $1 AND id = $2 RETURNING `+sshKeyColumns, userID, id))
	if err != nil {
		return model.SSHKey{}, fmt.Errorf("delete SSH key %s: %w", id, mapError(err))
	}
	return k, nil
}

// SSHKeyByFingerprint returns the key with a fingerprint and its user.
func (s *Store) SSHKeyByFingerprint(ctx context.Context, fingerprint string) (model.SSHKey, model.User, error) {
	var k model.SSHKey
	var u model.User
	err := s.q(ctx).QueryRow(ctx, `
SELECT k.id::text, k.user_id::text, k.fingerprint, k.key_type, k.public_key, k.comment, k.created_at, k.last_used_at,
       u.id::text, u.username, u.role, u.password_hash, u.disabled, u.created_at
FROM ssh_keys k JOIN users u ON u.id = k.user_id WHERE k.fingerprint = $1`, fingerprint).Scan(
		&k.ID, &k.UserID, &k.Fingerprint, &k.Type, &k.PublicKey, &k.Comment, &k.CreatedAt, &k.LastUsedAt,
		&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt)
	if err != nil {
		return model.SSHKey{}, model.User{}, fmt.Errorf("look up SSH key %s: %w", fingerprint, mapError(err))
	}
	return k, u, nil
}

// TouchSSHKey records a sign-in with a key, at most once a minute, to
// spare the SD card.
func (s *Store) TouchSSHKey(ctx context.Context, id string, now time.Time) error {
	_, err := s.q(ctx).Exec(ctx, `UPDATE ssh_keys SET last_used_at = $2
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`, id, now)
	if err != nil {
		return fmt.Errorf("record the use of SSH key %s: %w", id, mapError(err))
	}
	return nil
}
