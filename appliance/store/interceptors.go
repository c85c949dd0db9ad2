package store

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/api/model"
)

const interceptorColumns = `id::text, app_id::text, script_id::text, path, ord, created_at`

func scanInterceptor(row interface{ Scan(...any) error }) (model.Interceptor, error) {
	var i model.Interceptor
	err := row.Scan(&i.ID, &i.AppID, &i.ScriptID, &i.Path, &i.Order, &i.CreatedAt)
	return i, err
}

// CreateInterceptor binds a script of app i.AppID in front of i.Path; a
// script of another app is model.ErrNotFound.
func (s *Store) CreateInterceptor(ctx context.Context, i model.Interceptor) (model.Interceptor, error) {
	out, err := scanInterceptor(s.q(ctx).QueryRow(ctx, `
INSERT INTO interceptors (app_id, script_id, path, ord)
SELECT s.app_id, s.id, $3, $4 FROM scripts s WHERE s.id = $2 AND s.app_id = $1
RETURNING `+interceptorColumns, i.AppID, i.ScriptID, i.Path, i.Order))
	if err != nil {
		return model.Interceptor{}, fmt.Errorf("create interceptor on %s: %w", i.Path, mapError(err))
	}
	return out, nil
}

// ListInterceptors returns the interceptors of an app (every app's if
// appID is empty), in the order they run.
func (s *Store) ListInterceptors(ctx context.Context, appID string) ([]model.Interceptor, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+interceptorColumns+` FROM interceptors
WHERE $1 = '' OR app_id::text = $1 ORDER BY app_id, ord, created_at, id`, appID)
	if err != nil {
		return nil, fmt.Errorf("list interceptors: %w", mapError(err))
	}
	return collect(rows, scanInterceptor, "list interceptors")
}

// InterceptorByID loads one interceptor.
func (s *Store) InterceptorByID(ctx context.Context, id string) (model.Interceptor, error) {
	i, err := scanInterceptor(s.q(ctx).QueryRow(ctx, `SELECT `+interceptorColumns+` FROM interceptors WHERE id = $1`, id))
	if err != nil {
		return model.Interceptor{}, fmt.Errorf("load interceptor %s: %w", id, mapError(err))
	}
	return i, nil
}

// DeleteInterceptor removes an interceptor.
func (s *Store) DeleteInterceptor(ctx context.Context, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM interceptors WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete interceptor %s: %w", id, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete interceptor %s: %w", id, model.ErrNotFound)
	}
	return nil
}
