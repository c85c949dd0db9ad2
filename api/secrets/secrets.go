// Package secrets seals the values of app secrets at rest: AES-256-GCM with
// a key kept outside the database, and the app's id and the variable's name
// as associated data, so that a sealed value copied to another app or name
// does not open.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// format starts every sealed value, so that the scheme can change later.
const format byte = 1

// ErrOpen means a sealed value does not open: another key, another app or
// name, or changed bytes.
var ErrOpen = errors.New("sealed value does not open with this key for this app and name")

// Box seals and opens secret values with one key. It is safe for concurrent
// use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets key: %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// NewKey returns a new random key.
func NewKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("new secrets key: %w", err)
	}
	return key, nil
}

// additional binds a sealed value to its app and name.
func additional(appID, name string) []byte {
	return []byte("picloud secret\x00" + appID + "\x00" + name)
}

// Seal encrypts the value of the secret name of app appID: a format byte,
// a random nonce, then the ciphertext with its tag.
func (b *Box) Seal(appID, name, value string) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(value)+b.aead.Overhead())
	out[0] = format
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal secret %s: %w", name, err)
	}
	return b.aead.Seal(out, out[1:], []byte(value), additional(appID, name)), nil
}

// Open decrypts what Seal made for the same app and name.
func (b *Box) Open(appID, name string, sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != format {
		return "", fmt.Errorf("open secret %s: %w", name, ErrOpen)
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], additional(appID, name))
	if err != nil {
		return "", fmt.Errorf("open secret %s: %w", name, ErrOpen)
	}
	return string(plain), nil
}
