package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

const scriptColumns = `s.id::text, s.app_id::text, s.name, s.language, s.active_version, s.latest_version,
	v.source, v.code, s.limits, s.created_at, s.updated_at`

const scriptFrom = ` FROM scripts s JOIN script_versions v ON v.script_id = s.id AND v.version = s.active_version`

func scanScript(row interface{ Scan(...any) error }) (model.Script, error) {
	var s model.Script
	err := row.Scan(&s.ID, &s.AppID, &s.Name, &s.Language, &s.ActiveVersion, &s.LatestVersion,
		&s.Source, &s.Code, &s.Limits, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateScript inserts a script and its version 1, active.
func (s *Store) CreateScript(ctx context.Context, appID, name, language string, v model.NewVersion) (model.Script, error) {
	var id string
	err := s.q(ctx).QueryRow(ctx, `
WITH s AS (
    INSERT INTO scripts (app_id, name, language, active_version, latest_version)
    VALUES ($1, $2, $3, 1, 1) RETURNING id
)
INSERT INTO script_versions (script_id, version, source, code, created_by)
SELECT id, 1, $4, $5, $6 FROM s RETURNING script_id::text`,
		appID, name, language, v.Source, v.Code, nullable(v.CreatedBy)).Scan(&id)
	if err != nil {
		return model.Script{}, fmt.Errorf("create script %q: %w", name, mapError(err))
	}
	return s.ScriptByID(ctx, id)
}

// ScriptByID loads a script with its active version.
func (s *Store) ScriptByID(ctx context.Context, id string) (model.Script, error) {
	sc, err := scanScript(s.q(ctx).QueryRow(ctx, `SELECT `+scriptColumns+scriptFrom+` WHERE s.id = $1`, id))
	if err != nil {
		return model.Script{}, fmt.Errorf("load script %s: %w", id, mapError(err))
	}
	return sc, nil
}

// ListScripts returns an app's scripts by name, without their source.
func (s *Store) ListScripts(ctx context.Context, appID string) ([]model.Script, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT s.id::text, s.app_id::text, s.name, s.language, s.active_version,
	s.latest_version, '', '', s.limits, s.created_at, s.updated_at FROM scripts s WHERE s.app_id = $1 ORDER BY s.name`, appID)
	if err != nil {
		return nil, fmt.Errorf("list scripts: %w", mapError(err))
	}
	return collect(rows, scanScript, "list scripts")
}

// AllActiveScripts returns every script of every app with its active code,
// for the orchestrator's cache.
func (s *Store) AllActiveScripts(ctx context.Context) ([]model.Script, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+scriptColumns+scriptFrom)
	if err != nil {
		return nil, fmt.Errorf("load active scripts: %w", mapError(err))
	}
	return collect(rows, scanScript, "load active scripts")
}

// AddVersion saves a new version of a script, makes it active unless
// v.Draft is set and, when name is not empty, renames the script, in one
// transaction (the Atomically's it is called in, if any).
func (s *Store) AddVersion(ctx context.Context, id, name string, v model.NewVersion) (out model.Script, err error) {
	err = s.Atomically(ctx, func(ctx context.Context) error {
		q := s.q(ctx)
		// The UPDATE locks the script's row: a concurrent save from the
		// same base waits for this one and then finds latest_version moved.
		var version int
		err := q.QueryRow(ctx, `
UPDATE scripts SET latest_version = latest_version + 1,
    active_version = CASE WHEN $4::bool THEN active_version ELSE latest_version + 1 END,
    name = COALESCE(NULLIF($2, ''), name), updated_at = now()
WHERE id = $1 AND ($3::int = 0 OR latest_version = $3) RETURNING latest_version`, id, name, v.Base, v.Draft).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) && v.Base != 0 {
			return s.versionConflict(ctx, id, v.Base)
		}
		if err != nil {
			return fmt.Errorf("save script %s: %w", id, mapError(err))
		}
		if _, err := q.Exec(ctx, `INSERT INTO script_versions (script_id, version, source, code, created_by)
VALUES ($1, $2, $3, $4, $5)`, id, version, v.Source, v.Code, nullable(v.CreatedBy)); err != nil {
			return fmt.Errorf("save version %d of script %s: %w", version, id, mapError(err))
		}
		out, err = s.ScriptByID(ctx, id)
		return err
	})
	return out, err
}

// versionConflict explains why a save from base matched no script: the
// script is gone, or another version is its latest.
func (s *Store) versionConflict(ctx context.Context, id string, base int) error {
	var latest int
	err := s.q(ctx).QueryRow(ctx, `SELECT latest_version FROM scripts WHERE id = $1`, id).Scan(&latest)
	if err != nil {
		return fmt.Errorf("save script %s: %w", id, mapError(err))
	}
	return &model.VersionConflictError{BaseVersion: base, LatestVersion: latest}
}

// ActivateVersion makes an existing version of a script the active one.
func (s *Store) ActivateVersion(ctx context.Context, id string, version int) (model.Script, error) {
	tag, err := s.q(ctx).Exec(ctx, `
UPDATE scripts SET active_version = $2, updated_at = now()
WHERE id = $1 AND EXISTS (SELECT 1 FROM script_versions WHERE script_id = $1 AND version = $2)`, id, version)
	if err != nil {
		return model.Script{}, fmt.Errorf("activate version %d of script %s: %w", version, id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return model.Script{}, fmt.Errorf("activate version %d of script %s: %w", version, id, model.ErrNotFound)
	}
	return s.ScriptByID(ctx, id)
}

// DeleteScript removes a script, its versions and its routes.
func (s *Store) DeleteScript(ctx context.Context, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM scripts WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete script %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete script %s: %w", id, model.ErrNotFound)
	}
	return nil
}

// ListVersions returns a script's versions, newest first, without source,
// each with the username of who saved it.
func (s *Store) ListVersions(ctx context.Context, id string) ([]model.ScriptVersion, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT v.script_id::text, v.version, COALESCE(v.created_by::text, ''), COALESCE(u.username, ''), v.created_at,
       v.version = s.active_version
FROM script_versions v JOIN scripts s ON s.id = v.script_id LEFT JOIN users u ON u.id = v.created_by
WHERE v.script_id = $1 ORDER BY v.version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("list versions of script %s: %w", id, mapError(err))
	}
	out, err := collect(rows, func(r interface{ Scan(...any) error }) (model.ScriptVersion, error) {
		var v model.ScriptVersion
		err := r.Scan(&v.ScriptID, &v.Version, &v.CreatedBy, &v.CreatedByName, &v.CreatedAt, &v.Active)
		return v, err
	}, "list versions")
	if err == nil && len(out) == 0 {
		if _, err := s.ScriptByID(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, err
}

// Version loads one version of a script with its source.
func (s *Store) Version(ctx context.Context, id string, version int) (model.ScriptVersion, error) {
	var v model.ScriptVersion
	err := s.q(ctx).QueryRow(ctx, `
SELECT v.script_id::text, v.version, v.source, v.code, COALESCE(v.created_by::text, ''), COALESCE(u.username, ''),
       v.created_at, v.version = s.active_version
FROM script_versions v JOIN scripts s ON s.id = v.script_id LEFT JOIN users u ON u.id = v.created_by
WHERE v.script_id = $1 AND v.version = $2`, id, version).
		Scan(&v.ScriptID, &v.Version, &v.Source, &v.Code, &v.CreatedBy, &v.CreatedByName, &v.CreatedAt, &v.Active)
	if err != nil {
		return model.ScriptVersion{}, fmt.Errorf("load version %d of script %s: %w", version, id, mapError(err))
	}
	return v, nil
}

// collect scans all rows with scan.
func collect[T any](rows pgx.Rows, scan func(interface{ Scan(...any) error }) (T, error), what string) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, mapError(err))
	}
	return out, nil
}

// SetScriptLimits replaces a script's own limits.
func (s *Store) SetScriptLimits(ctx context.Context, id string, l model.ScriptLimits) (model.Script, error) {
	tag, err := s.q(ctx).Exec(ctx, `UPDATE scripts SET limits = $2, updated_at = now() WHERE id = $1`, id, l)
	if err != nil {
		return model.Script{}, fmt.Errorf("set the limits of script %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return model.Script{}, fmt.Errorf("set the limits of script %s: %w", id, model.ErrNotFound)
	}
	return s.ScriptByID(ctx, id)
}
