package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// The methods below bind the query functions to the pool, in the shape the
// services' store interfaces ask for.

// CreateUser inserts a user with an instance role.
func (s *Store) CreateUser(ctx context.Context, username, passwordHash, role string) (model.User, error) {
	return CreateUser(ctx, s.pool, username, passwordHash, role)
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (model.User, error) {
	return UserByID(ctx, s.pool, id)
}

// AppRoles returns a user's app roles.
func (s *Store) AppRoles(ctx context.Context, userID string) (map[string]string, error) {
	return AppRoles(ctx, s.pool, userID)
}

// SetAppRole grants a user a role in an app.
func (s *Store) SetAppRole(ctx context.Context, userID, appID, role string) error {
	return SetAppRole(ctx, s.pool, userID, appID, role)
}

// DeleteAppRole revokes a user's role in an app.
func (s *Store) DeleteAppRole(ctx context.Context, userID, appID string) error {
	return DeleteAppRole(ctx, s.pool, userID, appID)
}

// CreateApp inserts an app.
func (s *Store) CreateApp(ctx context.Context, name, description string) (model.App, error) {
	return CreateApp(ctx, s.pool, name, description)
}

// ListApps returns every app.
func (s *Store) ListApps(ctx context.Context) ([]model.App, error) { return ListApps(ctx, s.pool) }

// AppByID loads an app.
func (s *Store) AppByID(ctx context.Context, id string) (model.App, error) {
	return AppByID(ctx, s.pool, id)
}

// UpdateApp changes an app's name or description.
func (s *Store) UpdateApp(ctx context.Context, id string, name, description *string) (model.App, error) {
	return UpdateApp(ctx, s.pool, id, name, description)
}

// DeleteApp removes an app and everything it owns.
func (s *Store) DeleteApp(ctx context.Context, id string) error { return DeleteApp(ctx, s.pool, id) }

// CreateDomain records a domain claim.
func (s *Store) CreateDomain(ctx context.Context, d model.Domain) (model.Domain, error) {
	return CreateDomain(ctx, s.pool, d)
}

// ListDomains returns the claims of an app, or all of them for "".
func (s *Store) ListDomains(ctx context.Context, appID string) ([]model.Domain, error) {
	return ListDomains(ctx, s.pool, appID)
}

// DeleteDomain releases a claim.
func (s *Store) DeleteDomain(ctx context.Context, appID, id string) error {
	return DeleteDomain(ctx, s.pool, appID, id)
}

// Settings loads the instance settings.
func (s *Store) Settings(ctx context.Context) (model.Settings, error) { return Settings(ctx, s.pool) }

// UpdateSettings changes instance settings.
func (s *Store) UpdateSettings(ctx context.Context, defaultAppFallback *bool) (model.Settings, error) {
	return UpdateSettings(ctx, s.pool, defaultAppFallback)
}

// AppRoutes returns the routes of one app.
func (s *Store) AppRoutes(ctx context.Context, appID string) ([]model.Route, error) {
	return AppRoutes(ctx, s.pool, appID)
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
