package store

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/api/model"
)

const routeColumns = `id::text, app_id::text, script_id::text, method, path, shape, created_at`

func scanRoute(row interface{ Scan(...any) error }) (model.Route, error) {
	var r model.Route
	err := row.Scan(&r.ID, &r.AppID, &r.ScriptID, &r.Method, &r.Path, &r.Shape, &r.CreatedAt)
	return r, err
}

// CreateRoute binds a route to a script of the same app. A route of the same
// app, method and shape is model.ErrConflict.
func (s *Store) CreateRoute(ctx context.Context, r model.Route) (model.Route, error) {
	out, err := scanRoute(s.q(ctx).QueryRow(ctx, `
INSERT INTO routes (app_id, script_id, method, path, shape)
SELECT s.app_id, s.id, $2, $3, $4 FROM scripts s WHERE s.id = $1
RETURNING `+routeColumns, r.ScriptID, r.Method, r.Path, r.Shape))
	if err != nil {
		return model.Route{}, fmt.Errorf("create route %s %s: %w", r.Method, r.Path, mapError(err))
	}
	return out, nil
}

// ListRoutes returns a script's routes by path and method.
func (s *Store) ListRoutes(ctx context.Context, scriptID string) ([]model.Route, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+routeColumns+` FROM routes WHERE script_id = $1 ORDER BY path, method`, scriptID)
	if err != nil {
		return nil, fmt.Errorf("list routes of script %s: %w", scriptID, mapError(err))
	}
	return collect(rows, scanRoute, "list routes")
}

// AllRoutes returns every route of every app, for the orchestrator's cache.
func (s *Store) AllRoutes(ctx context.Context) ([]model.Route, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+routeColumns+` FROM routes ORDER BY app_id, path, method`)
	if err != nil {
		return nil, fmt.Errorf("load routes: %w", mapError(err))
	}
	return collect(rows, scanRoute, "load routes")
}

// AppRoutes returns the routes of one app.
func (s *Store) AppRoutes(ctx context.Context, appID string) ([]model.Route, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+routeColumns+` FROM routes WHERE app_id = $1 ORDER BY path, method`, appID)
	if err != nil {
		return nil, fmt.Errorf("load routes of app %s: %w", appID, mapError(err))
	}
	return collect(rows, scanRoute, "load routes")
}

// RouteByID loads one route.
func (s *Store) RouteByID(ctx context.Context, id string) (model.Route, error) {
	r, err := scanRoute(s.q(ctx).QueryRow(ctx, `SELECT `+routeColumns+` FROM routes WHERE id = $1`, id))
	if err != nil {
		return model.Route{}, fmt.Errorf("load route %s: %w", id, mapError(err))
	}
	return r, nil
}

// DeleteRoute removes a route.
func (s *Store) DeleteRoute(ctx context.Context, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM routes WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete route %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete route %s: %w", id, model.ErrNotFound)
	}
	return nil
}
