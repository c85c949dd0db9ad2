package model

import "time"

// SSHKey is a user's public key for the terminal UI over SSH.
type SSHKey struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	Fingerprint string     `json:"fingerprint"` // SHA256:… as ssh-keygen -l shows it
	Type        string     `json:"type"`        // ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, …
	PublicKey   string     `json:"public_key"`  // the authorized_keys form, without comment
	Comment     string     `json:"comment"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
}
