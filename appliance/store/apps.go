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
func CreateApp(ctx context.Context, q Querier, name, description string) (model.App, error) {
	a, err := scanApp(q.QueryRow(ctx, `INSERT INTO apps (name, description) VALUES ($1, $2) RETURNING `+appColumns, name, description))
	if err != nil {
		return model.App{}, fmt.Errorf("create app %q: %w", name, mapError(err))
	}
	return a, nil
}

// ListApps returns every app by name.
func ListApps(ctx context.Context, q Querier) ([]model.App, error) {
	rows, err := q.Query(ctx, `SELECT `+appColumns+` FROM apps ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", mapError(err))
	}
	return collect(rows, scanApp, "list apps")
}

// AppByID loads an app.
func AppByID(ctx context.Context, q Querier, id string) (model.App, error) {
	a, err := scanApp(q.QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE id = $1`, id))
	if err != nil {
		return model.App{}, fmt.Errorf("load app %s: %w", id, mapError(err))
	}
	return a, nil
}

// UpdateApp renames an app or changes its description; empty or nil values
// keep the current ones.
func UpdateApp(ctx context.Context, q Querier, id string, name, description *string) (model.App, error) {
	a, err := scanApp(q.QueryRow(ctx, `
UPDATE apps SET name = COALESCE($2, name), description = COALESCE($3, description), updated_at = now()
WHERE id = $1 RETURNING `+appColumns, id, name, description))
	if err != nil {
		return model.App{}, fmt.Errorf("update app %s: %w", id, mapError(err))
	}
	return a, nil
}

// DeleteApp removes an app and everything it owns.
func DeleteApp(ctx context.Context, q Querier, id string) error {
	// Execution records have no foreign key (migration 0006).
	tag, err := q.Exec(ctx, `WITH logs AS (DELETE FROM execution_logs WHERE app_id = $1)
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
func CreateDomain(ctx context.Context, q Querier, d model.Domain) (model.Domain, error) {
	out, err := scanDomain(q.QueryRow(ctx, `INSERT INTO domains (app_id, pattern, shape) VALUES ($1, $2, $3) RETURNING `+domainColumns,
		d.AppID, d.Pattern, d.Shape))
	if err != nil {
		return model.Domain{}, fmt.Errorf("claim %s: %w", d.Pattern, mapError(err))
	}
	return out, nil
}

// ListDomains returns the claims of one app, or of all apps when appID is "".
func ListDomains(ctx context.Context, q Querier, appID string) ([]model.Domain, error) {
	rows, err := q.Query(ctx, `SELECT `+domainColumns+` FROM domains WHERE $1 = '' OR app_id = NULLIF($1, '')::uuid ORDER BY pattern`, appID)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", mapError(err))
	}
	return collect(rows, scanDomain, "list domains")
}

// DeleteDomain releases a claim of an app.
func DeleteDomain(ctx context.Context, q Querier, appID, id string) error {
	tag, err := q.Exec(ctx, `DELETE FROM domains WHERE id = $1 AND app_id = $2`, id, appID)
	if err != nil {
		return fmt.Errorf("release domain %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release domain %s: %w", id, model.ErrNotFound)
	}
	return nil
}

// Settings loads the instance settings.
func Settings(ctx context.Context, q Querier) (model.Settings, error) {
	var s model.Settings
	err := q.QueryRow(ctx, `SELECT default_app_fallback, updated_at FROM settings`).Scan(&s.DefaultAppFallback, &s.UpdatedAt)
	if err != nil {
		return s, fmt.Errorf("load settings: %w", mapError(err))
	}
	return s, nil
}

// UpdateSettings changes the instance settings that are not nil.
func UpdateSettings(ctx context.Context, q Querier, defaultAppFallback *bool) (model.Settings, error) {
	var s model.Settings
	err := q.QueryRow(ctx, `UPDATE settings SET default_app_fallback = COALESCE($1, default_app_fallback), updated_at = now()
RETURNING default_app_fallback, updated_at`, defaultAppFallback).Scan(&s.DefaultAppFallback, &s.UpdatedAt)
	if err != nil {
		return s, fmt.Errorf("update settings: %w", mapError(err))
	}
	return s, nil
}
