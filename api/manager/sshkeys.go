package manager

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/picloud/picloud/api/model"
)

// maxSSHKeys caps the keys of one user.
const maxSSHKeys = 50

// ParseSSHKey reads one public key in the authorized_keys form
// ("ssh-ed25519 AAAA… comment"); options before the key are refused, since
// PiCloud would not honour them.
func ParseSSHKey(line string) (model.SSHKey, error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.Contains(line, "\n") {
		return model.SSHKey{}, fmt.Errorf("%w: give one public key as an authorized_keys line, e.g. the content of ~/.ssh/id_ed25519.pub", model.ErrInvalid)
	}
	pub, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return model.SSHKey{}, fmt.Errorf("%w: not a public key in the authorized_keys form (like ~/.ssh/id_ed25519.pub): %v", model.ErrInvalid, err)
	}
	if len(options) > 0 || len(strings.TrimSpace(string(rest))) > 0 {
		return model.SSHKey{}, fmt.Errorf("%w: give the key without options, and only one", model.ErrInvalid)
	}
	if len(comment) > 200 {
		comment = comment[:200]
	}
	return model.SSHKey{
		Fingerprint: ssh.FingerprintSHA256(pub),
		Type:        pub.Type(),
		PublicKey:   strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
		Comment:     comment,
	}, nil
}

// AddSSHKey registers a public key for a user, who may then sign in to the
// terminal UI over SSH with it. A key belongs to one user at most.
func (s *Service) AddSSHKey(ctx context.Context, a model.Actor, userID, line string) (model.SSHKey, error) {
	k, err := ParseSSHKey(line)
	if err != nil {
		return model.SSHKey{}, err
	}
	k.UserID = userID
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		u, err := s.store.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		keys, err := s.store.ListSSHKeys(ctx, userID)
		if err != nil {
			return err
		}
		if len(keys) >= maxSSHKeys {
			return fmt.Errorf("%w: a user may have at most %d SSH keys", model.ErrInvalid, maxSSHKeys)
		}
		// A failed insert returns no key: keep k, whose fingerprint the
		// error names.
		saved, err := s.store.CreateSSHKey(ctx, k)
		if err != nil {
			return err
		}
		k = saved
		return s.audit(ctx, a, "sshkey.add", "", k.ID, map[string]any{"username": u.Username, "fingerprint": k.Fingerprint, "comment": k.Comment})
	})
	if errors.Is(err, model.ErrConflict) {
		return model.SSHKey{}, fmt.Errorf("%w: this key (%s) is already registered; a key may belong to one user only", model.ErrConflict, k.Fingerprint)
	}
	if err != nil {
		return model.SSHKey{}, err
	}
	s.log.Info("SSH key added", "user_id", userID, "fingerprint", k.Fingerprint, "by", a.Username)
	return k, nil
}

// SSHKeys lists a user's public keys.
func (s *Service) SSHKeys(ctx context.Context, userID string) ([]model.SSHKey, error) {
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		return nil, err
	}
	return s.store.ListSSHKeys(ctx, userID)
}

// DeleteSSHKey removes one of a user's keys; sessions it opened go on until
// they end, new ones are refused.
func (s *Service) DeleteSSHKey(ctx context.Context, a model.Actor, userID, keyID string) error {
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		k, err := s.store.DeleteSSHKey(ctx, userID, keyID)
		if err != nil {
			return err
		}
		return s.audit(ctx, a, "sshkey.delete", "", keyID, map[string]any{"user_id": userID, "fingerprint": k.Fingerprint})
	})
	if err != nil {
		return err
	}
	s.log.Info("SSH key deleted", "user_id", userID, "key_id", keyID, "by", a.Username)
	return nil
}

// SSHKeyUser returns the enabled user whose registered key has this
// fingerprint: model.ErrUnauthorized for a key nobody registered or a
// disabled user's. It is asked about every key a client offers, signed or
// not, so it changes nothing; SSHSignIn records the key that signed.
func (s *Service) SSHKeyUser(ctx context.Context, fingerprint string) (model.User, model.SSHKey, error) {
	k, u, err := s.store.SSHKeyByFingerprint(ctx, fingerprint)
	if errors.Is(err, model.ErrNotFound) || (err == nil && u.Disabled) {
		return model.User{}, model.SSHKey{}, model.ErrUnauthorized
	}
	if err != nil {
		return model.User{}, model.SSHKey{}, err
	}
	return u, k, nil
}

// SSHSignIn records that the key with this fingerprint signed a user in
// over SSH: its last use, and a session.ssh record in the audit log. It
// fails, and the sign-in with it, when the key or its user went away in
// the meantime.
func (s *Service) SSHSignIn(ctx context.Context, a model.Actor, fingerprint string) (model.User, error) {
	var user model.User
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		u, k, err := s.SSHKeyUser(ctx, fingerprint)
		if err != nil {
			return err
		}
		if err := s.store.TouchSSHKey(ctx, k.ID, s.now()); err != nil {
			return err
		}
		user = u
		a.UserID, a.Username = u.ID, u.Username
		return s.audit(ctx, a, "session.ssh", "", k.ID, map[string]any{"fingerprint": k.Fingerprint, "comment": k.Comment})
	})
	return user, err
}
