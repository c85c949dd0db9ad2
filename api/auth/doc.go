// Package auth provides credential primitives for the admin API: argon2id
// password hashing with bounded concurrency, random session and API tokens
// (and the first-start setup token) stored as SHA-256 hashes, and an
// in-memory throttle of login attempts (per account and address, per
// address, per account) whose slots are taken before a password is
// verified.
//
// It knows nothing of HTTP or storage; the API layer composes it.
package auth
