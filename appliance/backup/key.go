package backup

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// KeyEnvelope says how the board's secrets key travels in a backup: wrapped
// (XChaCha20-Poly1305) with a key derived from a passphrase by Argon2id,
// or not at all, in which case the backup's secrets cannot be restored.
type KeyEnvelope struct {
	Restorable bool   `json:"restorable"`
	KDF        string `json:"kdf,omitempty"`
	Salt       []byte `json:"salt,omitempty"`
	Time       uint32 `json:"time,omitempty"`
	MemoryKiB  uint32 `json:"memory_kib,omitempty"`
	Threads    uint8  `json:"threads,omitempty"`
	Wrapped    []byte `json:"wrapped_key,omitempty"`
}

// Argon2id's cost, as RFC 9106 recommends for memory-constrained machines.
const (
	kdfName    = "argon2id"
	kdfTime    = 3
	kdfMemory  = 64 << 10 // KiB
	kdfThreads = 2
)

// wrapAD binds a wrapped key to its purpose.
var wrapAD = []byte("picloud backup secrets key")

// ErrPassphrase means the passphrase does not open the backup's key: a
// wrong passphrase, or a changed file.
var ErrPassphrase = errors.New("the passphrase does not open this backup's key (wrong passphrase, or the file was changed)")

// keys are what a passphrase yields: the key that wraps the secrets key
// and the key of the content's HMAC.
type keys struct {
	wrap, mac []byte
}

// derive runs Argon2id over the passphrase with the envelope's salt and
// cost.
func derive(passphrase []byte, env KeyEnvelope) (keys, error) {
	if env.KDF != kdfName || env.Time == 0 || env.Time > 16 || env.MemoryKiB < 8<<10 || env.MemoryKiB > 1<<20 || env.Threads == 0 || len(env.Salt) < 16 {
		return keys{}, fmt.Errorf("the backup's key derivation (%s t=%d m=%d p=%d) is not one this build accepts", env.KDF, env.Time, env.MemoryKiB, env.Threads)
	}
	k := argon2.IDKey(passphrase, env.Salt, env.Time, env.MemoryKiB, env.Threads, 64)
	return keys{wrap: k[:32], mac: k[32:]}, nil
}

// seal wraps the board's secrets key with a passphrase, returning the
// envelope and the content's HMAC key.
func seal(passphrase, secretsKey []byte) (KeyEnvelope, []byte, error) {
	env := KeyEnvelope{Restorable: true, KDF: kdfName, Salt: make([]byte, 16), Time: kdfTime, MemoryKiB: kdfMemory, Threads: kdfThreads}
	if _, err := rand.Read(env.Salt); err != nil {
		return env, nil, fmt.Errorf("wrap the secrets key: %w", err)
	}
	k, err := derive(passphrase, env)
	if err != nil {
		return env, nil, err
	}
	aead, err := chacha20poly1305.NewX(k.wrap)
	if err != nil {
		return env, nil, fmt.Errorf("wrap the secrets key: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(secretsKey)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return env, nil, fmt.Errorf("wrap the secrets key: %w", err)
	}
	env.Wrapped = aead.Seal(nonce, nonce, secretsKey, wrapAD)
	return env, k.mac, nil
}

// open unwraps the secrets key of an envelope with a passphrase, returning
// it and the content's HMAC key.
func open(passphrase []byte, env KeyEnvelope) (secretsKey, macKey []byte, err error) {
	k, err := derive(passphrase, env)
	if err != nil {
		return nil, nil, err
	}
	aead, err := chacha20poly1305.NewX(k.wrap)
	if err != nil {
		return nil, nil, fmt.Errorf("unwrap the secrets key: %w", err)
	}
	if len(env.Wrapped) < aead.NonceSize() {
		return nil, nil, ErrPassphrase
	}
	n := aead.NonceSize()
	key, err := aead.Open(nil, env.Wrapped[:n], env.Wrapped[n:], wrapAD)
	if err != nil {
		return nil, nil, ErrPassphrase
	}
	return key, k.mac, nil
}

// newMAC returns the content's HMAC, or nil without a key.
func newMAC(key []byte) hash.Hash {
	if key == nil {
		return nil
	}
	return hmac.New(sha256.New, key)
}
