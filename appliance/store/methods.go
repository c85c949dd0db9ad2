package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// The methods below bind the query functions to the pool, in the shape the
// services' store interfaces ask for.

// CreateUser inserts a user.
func (s *Store) CreateUser(ctx context.Context, username, passwordHash string) (model.User, error) {
	return CreateUser(ctx, s.pool, username, passwordHash)
}

// SetPassword replaces a user's password and ends the user's sessions.
func (s *Store) SetPassword(ctx context.Context, username, passwordHash string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return SetPassword(ctx, tx, username, passwordHash) })
}

// UserByName finds a user by name.
func (s *Store) UserByName(ctx context.Context, username string) (model.User, error) {
	return UserByName(ctx, s.pool, username)
}

// ListUsers returns every user.
func (s *Store) ListUsers(ctx context.Context) ([]model.User, error) { return ListUsers(ctx, s.pool) }

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, sess model.Session) error {
	return CreateSession(ctx, s.pool, sess)
}

// TouchSession returns a live session's user and slides its expiry.
func (s *Store) TouchSession(ctx context.Context, tokenHash []byte, now time.Time, ttl time.Duration) (model.User, time.Time, error) {
	return TouchSession(ctx, s.pool, tokenHash, now, ttl)
}

// DeleteSession revokes a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return DeleteSession(ctx, s.pool, tokenHash)
}

// DeleteExpiredSessions removes ended sessions.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	return DeleteExpiredSessions(ctx, s.pool, now)
}

// CreateScript inserts a script with its first version.
func (s *Store) CreateScript(ctx context.Context, appID, name, language string, v model.NewVersion) (model.Script, error) {
	return CreateScript(ctx, s.pool, appID, name, language, v)
}

// ScriptByID loads a script with its active version.
func (s *Store) ScriptByID(ctx context.Context, id string) (model.Script, error) {
	return ScriptByID(ctx, s.pool, id)
}

// ListScripts returns an app's scripts.
func (s *Store) ListScripts(ctx context.Context, appID string) ([]model.Script, error) {
	return ListScripts(ctx, s.pool, appID)
}

// AllActiveScripts returns every script with its active code.
func (s *Store) AllActiveScripts(ctx context.Context) ([]model.Script, error) {
	return AllActiveScripts(ctx, s.pool)
}

// AddVersion saves and activates a new version.
func (s *Store) AddVersion(ctx context.Context, id, name string, v model.NewVersion) (out model.Script, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		out, err = AddVersion(ctx, tx, id, name, v)
		return err
	})
	return out, err
}

// ActivateVersion makes an older version active.
func (s *Store) ActivateVersion(ctx context.Context, id string, version int) (model.Script, error) {
	return ActivateVersion(ctx, s.pool, id, version)
}

// DeleteScript removes a script with its versions and routes.
func (s *Store) DeleteScript(ctx context.Context, id string) error {
	return DeleteScript(ctx, s.pool, id)
}

// ListVersions returns a script's versions.
func (s *Store) ListVersions(ctx context.Context, id string) ([]model.ScriptVersion, error) {
	return ListVersions(ctx, s.pool, id)
}

// Version loads one version with its source.
func (s *Store) Version(ctx context.Context, id string, version int) (model.ScriptVersion, error) {
	return Version(ctx, s.pool, id, version)
}

// CreateRoute binds a route.
func (s *Store) CreateRoute(ctx context.Context, r model.Route) (model.Route, error) {
	return CreateRoute(ctx, s.pool, r)
}

// ListRoutes returns a script's routes.
func (s *Store) ListRoutes(ctx context.Context, scriptID string) ([]model.Route, error) {
	return ListRoutes(ctx, s.pool, scriptID)
}

// AllRoutes returns every route.
func (s *Store) AllRoutes(ctx context.Context) ([]model.Route, error) { return AllRoutes(ctx, s.pool) }

// RouteByID loads a route.
func (s *Store) RouteByID(ctx context.Context, id string) (model.Route, error) {
	return RouteByID(ctx, s.pool, id)
}

// DeleteRoute removes a route.
func (s *Store) DeleteRoute(ctx context.Context, id string) error {
	return DeleteRoute(ctx, s.pool, id)
}

// InsertExecutions writes a batch of execution records.
func (s *Store) InsertExecutions(ctx context.Context, recs []model.ExecutionRecord) error {
	return InsertExecutions(ctx, s.pool, recs)
}

// ListExecutions returns execution records, newest first.
func (s *Store) ListExecutions(ctx context.Context, q model.LogQuery) ([]model.ExecutionRecord, error) {
	return ListExecutions(ctx, s.pool, q)
}

// PruneExecutions applies the execution log's retention.
func (s *Store) PruneExecutions(ctx context.Context, before time.Time, maxRecords int) (int64, error) {
	return PruneExecutions(ctx, s.pool, before, maxRecords)
}
