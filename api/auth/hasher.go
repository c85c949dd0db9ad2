package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// DefaultMaxConcurrent is a sensible bound on simultaneous argon2 runs for a
// Pi: with DefaultParams, 2 × 19 MiB.
const DefaultMaxConcurrent = 2

// Hasher hashes and verifies passwords with argon2id. It bounds how many
// hashes run at once, so that a burst of logins cannot exhaust the board's
// memory; callers beyond the bound wait, honouring their context. A Hasher
// is safe for concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	dummy  string // a well-formed hash of no password, for VerifyDummy
	derive func(password, salt []byte, p Params) []byte
}

// HasherOption adjusts a Hasher made by NewHasher.
type HasherOption func(*Hasher)

// MaxConcurrent sets how many argon2 computations may run at once (default
// DefaultMaxConcurrent); values below 1 are ignored.
func MaxConcurrent(n int) HasherOption {
	return func(h *Hasher) {
		if n >= 1 {
			h.sem = make(chan struct{}, n)
		}
	}
}

// NewHasher returns a Hasher that makes new hashes with p. It panics if
// p.Validate fails: parameters are constants or configuration validated
// beforehand with Params.Validate.
func NewHasher(p Params, opts ...HasherOption) *Hasher {
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("auth.NewHasher: %v", err))
	}
	// The dummy hash needs no argon2 run: random bytes of the right lengths
	// make Verify do exactly the work of a real verification.
	salt, key := make([]byte, p.SaltLen), make([]byte, p.KeyLen)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	rand.Read(key)
	h := &Hasher{
		params: p,
		sem:    make(chan struct{}, DefaultMaxConcurrent),
		dummy:  encodePHC(p, salt, key),
		derive: argon2ID,
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

func argon2ID(password, salt []byte, p Params) []byte {
	return argon2.IDKey(password, salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
}

// Params returns the parameters used for new hashes.
func (h *Hasher) Params() Params { return h.params }

// Hash validates password with ValidatePassword and returns its argon2id
// hash in PHC string format.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	key, err := h.run(ctx, password, salt, h.params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, a hash from Hash. The
// parameters are read from encoded, so hashes made with older parameters
// keep working. A malformed encoding yields an error wrapping
// ErrMalformedHash; a cancelled wait yields the context's error.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := decodePHC(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.run(ctx, password, salt, p)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy does the work of Verify against a hash made with the
// Hasher's parameters, and always fails. Call it when the account does not
// exist so that the response takes as long as for a wrong password. It
// returns only a context error.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

// NeedsRehash reports whether encoded was made with parameters other than
// the Hasher's (or is malformed); callers may rehash after a successful
// login.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decodePHC(encoded)
	return err != nil || p != h.params
}

// run computes argon2id once a concurrency slot is free.
func (h *Hasher) run(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wait for hashing slot: %w", err)
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for hashing slot: %w", ctx.Err())
	}
	defer func() { <-h.sem }()
	return h.derive([]byte(password), salt, p), nil
}
