package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// The methods below bind the query functions to the pool, or to the
// transaction of an Atomically, in the shape the services' store interfaces
// ask for.

// CreateUser inserts a user with an instance role.
func (s *Store) CreateUser(ctx context.Context, username, passwordHash, role string) (model.User, error) {
	return CreateUser(ctx, s.q(ctx), username, passwordHash, role)
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (model.User, error) {
	return UserByID(ctx, s.q(ctx), id)
}

// AppRoles returns a user's app roles.
func (s *Store) AppRoles(ctx context.Context, userID string) (map[string]string, error) {
	return AppRoles(ctx, s.q(ctx), userID)
}

// SetAppRole grants a user a role in an app.
func (s *Store) SetAppRole(ctx context.Context, userID, appID, role string) error {
	return SetAppRole(ctx, s.q(ctx), userID, appID, role)
}

// DeleteAppRole revokes a user's role in an app.
func (s *Store) DeleteAppRole(ctx context.Context, userID, appID string) error {
	return DeleteAppRole(ctx, s.q(ctx), userID, appID)
}

// CreateApp inserts an app.
func (s *Store) CreateApp(ctx context.Context, name, description string) (model.App, error) {
	return CreateApp(ctx, s.q(ctx), name, description)
}

// ListApps returns every app.
func (s *Store) ListApps(ctx context.Context) ([]model.App, error) { return ListApps(ctx, s.q(ctx)) }

// AppByID loads an app.
func (s *Store) AppByID(ctx context.Context, id string) (model.App, error) {
	return AppByID(ctx, s.q(ctx), id)
}

// UpdateApp changes an app's name or description.
func (s *Store) UpdateApp(ctx context.Context, id string, name, description *string) (model.App, error) {
	return UpdateApp(ctx, s.q(ctx), id, name, description)
}

// DeleteApp removes an app and everything it owns.
func (s *Store) DeleteApp(ctx context.Context, id string) error { return DeleteApp(ctx, s.q(ctx), id) }

// CreateDomain records a domain claim.
func (s *Store) CreateDomain(ctx context.Context, d model.Domain) (model.Domain, error) {
	return CreateDomain(ctx, s.q(ctx), d)
}

// ListDomains returns the claims of an app, or all of them for "".
func (s *Store) ListDomains(ctx context.Context, appID string) ([]model.Domain, error) {
	return ListDomains(ctx, s.q(ctx), appID)
}

// DeleteDomain releases a claim.
func (s *Store) DeleteDomain(ctx context.Context, appID, id string) error {
	return DeleteDomain(ctx, s.q(ctx), appID, id)
}

// Settings loads the instance settings.
func (s *Store) Settings(ctx context.Context) (model.Settings, error) { return Settings(ctx, s.q(ctx)) }

// UpdateSettings changes instance settings.
func (s *Store) UpdateSettings(ctx context.Context, defaultAppFallback *bool) (model.Settings, error) {
	return UpdateSettings(ctx, s.q(ctx), defaultAppFallback)
}

// AppRoutes returns the routes of one app.
func (s *Store) AppRoutes(ctx context.Context, appID string) ([]model.Route, error) {
	return AppRoutes(ctx, s.q(ctx), appID)
}

// SetPassword replaces a user's password and ends the user's sessions.
func (s *Store) SetPassword(ctx context.Context, username, passwordHash string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error { return SetPassword(ctx, tx, username, passwordHash) })
}

// UserByName finds a user by name.
func (s *Store) UserByName(ctx context.Context, username string) (model.User, error) {
	return UserByName(ctx, s.q(ctx), username)
}

// ListUsers returns every user.
func (s *Store) ListUsers(ctx context.Context) ([]model.User, error) { return ListUsers(ctx, s.q(ctx)) }

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, sess model.Session) error {
	return CreateSession(ctx, s.q(ctx), sess)
}

// TouchSession returns a live session's user and slides its expiry.
func (s *Store) TouchSession(ctx context.Context, tokenHash []byte, now time.Time, ttl time.Duration) (model.User, time.Time, error) {
	return TouchSession(ctx, s.q(ctx), tokenHash, now, ttl)
}

// DeleteSession revokes a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	return DeleteSession(ctx, s.q(ctx), tokenHash)
}

// DeleteExpiredSessions removes ended sessions.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	return DeleteExpiredSessions(ctx, s.q(ctx), now)
}

// CreateScript inserts a script with its first version.
func (s *Store) CreateScript(ctx context.Context, appID, name, language string, v model.NewVersion) (model.Script, error) {
	return CreateScript(ctx, s.q(ctx), appID, name, language, v)
}

// ScriptByID loads a script with its active version.
func (s *Store) ScriptByID(ctx context.Context, id string) (model.Script, error) {
	return ScriptByID(ctx, s.q(ctx), id)
}

// SetScriptLimits replaces a script's own limits.
func (s *Store) SetScriptLimits(ctx context.Context, id string, l model.ScriptLimits) (model.Script, error) {
	return SetScriptLimits(ctx, s.q(ctx), id, l)
}

// ListScripts returns an app's scripts.
func (s *Store) ListScripts(ctx context.Context, appID string) ([]model.Script, error) {
	return ListScripts(ctx, s.q(ctx), appID)
}

// AllActiveScripts returns every script with its active code.
func (s *Store) AllActiveScripts(ctx context.Context) ([]model.Script, error) {
	return AllActiveScripts(ctx, s.q(ctx))
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
	return ActivateVersion(ctx, s.q(ctx), id, version)
}

// DeleteScript removes a script with its versions and routes.
func (s *Store) DeleteScript(ctx context.Context, id string) error {
	return DeleteScript(ctx, s.q(ctx), id)
}

// ListVersions returns a script's versions.
func (s *Store) ListVersions(ctx context.Context, id string) ([]model.ScriptVersion, error) {
	return ListVersions(ctx, s.q(ctx), id)
}

// Version loads one version with its source.
func (s *Store) Version(ctx context.Context, id string, version int) (model.ScriptVersion, error) {
	return Version(ctx, s.q(ctx), id, version)
}

// CreateRoute binds a route.
func (s *Store) CreateRoute(ctx context.Context, r model.Route) (model.Route, error) {
	return CreateRoute(ctx, s.q(ctx), r)
}

// ListRoutes returns a script's routes.
func (s *Store) ListRoutes(ctx context.Context, scriptID string) ([]model.Route, error) {
	return ListRoutes(ctx, s.q(ctx), scriptID)
}

// AllRoutes returns every route.
func (s *Store) AllRoutes(ctx context.Context) ([]model.Route, error) {
	return AllRoutes(ctx, s.q(ctx))
}

// RouteByID loads a route.
func (s *Store) RouteByID(ctx context.Context, id string) (model.Route, error) {
	return RouteByID(ctx, s.q(ctx), id)
}

// DeleteRoute removes a route.
func (s *Store) DeleteRoute(ctx context.Context, id string) error {
	return DeleteRoute(ctx, s.q(ctx), id)
}

// InsertExecutions writes a batch of execution records, without waiting
// for the write-ahead log to reach the disk (synchronous_commit off for
// this transaction only): the records were held in memory for up to a
// second already, PostgreSQL flushes within a fraction of one, and under
// load the batches then cost the SD card no flush of their own. A crash
// loses at most the last moments of the log, never its consistency.
func (s *Store) InsertExecutions(ctx context.Context, recs []model.ExecutionRecord) error {
	if len(recs) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return fmt.Errorf("write execution records: %w", mapError(err))
		}
		return InsertExecutions(ctx, tx, recs)
	})
}

// ListExecutions returns execution records, newest first.
func (s *Store) ListExecutions(ctx context.Context, q model.LogQuery) ([]model.ExecutionRecord, error) {
	return ListExecutions(ctx, s.q(ctx), q)
}

// PruneExecutions applies the execution log's retention.
func (s *Store) PruneExecutions(ctx context.Context, before time.Time, maxRecords int) (int64, error) {
	return PruneExecutions(ctx, s.q(ctx), before, maxRecords)
}
