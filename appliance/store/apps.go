package store

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/api/model"
)

const appColumns = `id::text, name, description, created_at, updated_at`

func scanApp(row interface{ Scan(...any) error }) (model.App, error) {
	var a model.App
	err := row.Scan(&a.ID, &a.Name, &a.Description, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

// CreateApp inserts an app; a taken name is model.ErrConflict.
func (s *Store) CreateApp(ctx context.Context, name, description string) (model.App, error) {
	a, err := scanApp(s.q(ctx).QueryRow(ctx, `INSERT INTO apps (name, description) VALUES ($1, $2) RETURNING `+appColumns, name, description))
	if err != nil {
		return model.App{}, fmt.Errorf("create app %q: %w", name, mapError(err))
	}
	return a, nil
}

// ListApps returns every app by name.
func (s *Store) ListApps(ctx context.Context) ([]model.App, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+appColumns+` FROM apps ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", mapError(err))
	}
	return collect(rows, scanApp, "list apps")
}

// AppByID loads an app.
func (s *Store) AppByID(ctx context.Context, id string) (model.App, error) {
	a, err := scanApp(s.q(ctx).QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1`, id))
	if err != nil {
		return model.App{}, fmt.Errorf("load app %s: %w", id, mapError(err))
	}
	return a, nil
}

// UpdateApp renames an app or changes its description; empty or nil values
// keep the current ones.
func (s *Store) UpdateApp(ctx context.Context, id string, name, description *string) (model.App, error) {
	a, err := scanApp(s.q(ctx).QueryRow(ctx, `
UPDATE apps SET name = COALESCE($2, name), description = COALESCE($3, description), updated_at = now()
WHERE id = $1 RETURNING `+appColumns, id, name, description))
	if err != nil {
		return model.App{}, fmt.Errorf("update app %s: %w", id, mapError(err))
	}
	return a, nil
}

// DeleteApp removes an app and everything it owns.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	// Execution records have no foreign key (migration 0006).
	tag, err := s.q(ctx).Exec(ctx, `WITH logs AS (DELETE FROM execution_logs WHERE app_id = $1)
DELETE FROM apps WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete app %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete app %s: %w", id, model.ErrNotFound)
	}
	return nil
}

const domainColumns = `id::text, app_id::text, pattern, shape, created_at`

func scanDomain(row interface{ Scan(...any) error }) (model.Domain, error) {
	var d model.Domain
	err := row.Scan(&d.ID, &d.AppID, &d.Pattern, &d.Shape, &d.CreatedAt)
	return d, err
}

// CreateDomain records an app's claim; a claim of the same shape is
// model.ErrConflict.
func (s *Store) CreateDomain(ctx context.Context, d model.Domain) (model.Domain, error) {
	out, err := scanDomain(s.q(ctx).QueryRow(ctx, `INSERT INTO domains (app_id, pattern, shape) VALUES ($1, $2, $3) RETURNING `+domainColumns,
		d.AppID, d.Pattern, d.Shape))
	if err != nil {
		return model.Domain{}, fmt.Errorf("claim %s: %w", d.Pattern, mapError(err))
	}
	return out, nil
}

// ListDomains returns the claims of one app, or of all apps when appID is "".
func (s *Store) ListDomains(ctx context.Context, appID string) ([]model.Domain, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+domainColumns+` FROM domains WHERE $1 = '' OR app_id = NULLIF($1, '')::uuid ORDER BY pattern`, appID)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", mapError(err))
	}
	return collect(rows, scanDomain, "list domains")
}

// DeleteDomain releases a claim of an app.
func (s *Store) DeleteDomain(ctx context.Context, appID, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM domains WHERE id = $1 AND app_id = $2`, id, appID)
	if err != nil {
		return fmt.Errorf("release domain %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release domain %s: %w", id, model.ErrNotFound)
	}
	return nil
}

// Settings loads the instance settings.
func (s *Store) Settings(ctx context.Context) (model.Settings, error) {
	var st model.Settings
	err := s.q(ctx).QueryRow(ctx, `SELECT default_app_fallback, updated_at FROM settings`).Scan(&st.DefaultAppFallback, &st.UpdatedAt)
	if err != nil {
		return st, fmt.Errorf("load settings: %w", mapError(err))
	}
	return st, nil
}

// UpdateSettings changes the instance settings that are not nil.
func (s *Store) UpdateSettings(ctx context.Context, defaultAppFallback *bool) (model.Settings, error) {
	var st model.Settings
	err := s.q(ctx).QueryRow(ctx, `UPDATE settings SET default_app_fallback = COALESCE($1, default_app_fallback), updated_at = now()
RETURNING default_app_fallback, updated_at`, defaultAppFallback).Scan(&st.DefaultAppFallback, &st.UpdatedAt)
	if err != nil {
		return st, fmt.Errorf("update settings: %w", mapError(err))
	}
	return st, nil
}
