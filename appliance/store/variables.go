package store

import (
	"context"
	"fmt"

	"github.com/picloud/picloud/api/model"
)

const variableColumns = `app_id::text, name, secret, COALESCE(value, ''), sealed, updated_at`

func scanVariable(row interface{ Scan(...any) error }) (model.Variable, error) {
	var v model.Variable
	err := row.Scan(&v.AppID, &v.Name, &v.Secret, &v.Value, &v.Sealed, &v.UpdatedAt)
	return v, err
}

// PutVariable creates or replaces an app's variable: a plain one with its
// Value, a secret with its Sealed value only. created says which it was.
func (s *Store) PutVariable(ctx context.Context, v model.Variable) (out model.Variable, created bool, err error) {
	var value any
	var sealed []byte
	if v.Secret {
		sealed = v.Sealed
	} else {
		value = v.Value
	}
	err = s.q(ctx).QueryRow(ctx, `
INSERT INTO app_variables (app_id, name, secret, value, sealed) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (app_id, name) DO UPDATE
    SET secret = EXCLUDED.secret, value = EXCLUDED.value, sealed = EXCLUDED.sealed, updated_at = now()
RETURNING `+variableColumns+`, xmax = 0`, v.AppID, v.Name, v.Secret, value, sealed).Scan(
		&out.AppID, &out.Name, &out.Secret, &out.Value, &out.Sealed, &out.UpdatedAt, &created)
	if err != nil {
		return model.Variable{}, false, fmt.Errorf("set variable %s of app %s: %w", v.Name, v.AppID, mapError(err))
	}
	return out, created, nil
}

// ListVariables returns an app's variables by name, or every app's for "".
func (s *Store) ListVariables(ctx context.Context, appID string) ([]model.Variable, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+variableColumns+` FROM app_variables
WHERE $1 = '' OR app_id = NULLIF($1, '')::uuid ORDER BY app_id, name`, appID)
	if err != nil {
		return nil, fmt.Errorf("list variables: %w", mapError(err))
	}
	return collect(rows, scanVariable, "list variables")
}

// VariableByName loads one of an app's variables.
func (s *Store) VariableByName(ctx context.Context, appID, name string) (model.Variable, error) {
	v, err := scanVariable(s.q(ctx).QueryRow(ctx, `SELECT `+variableColumns+` FROM app_variables WHERE app_id = $1 AND name = $2`, appID, name))
	if err != nil {
		return model.Variable{}, fmt.Errorf("load variable %s of app %s: %w", name, appID, mapError(err))
	}
	return v, nil
}

// CountVariables returns how many variables an app has.
func (s *Store) CountVariables(ctx context.Context, appID string) (int, error) {
	var n int
	if err := s.q(ctx).QueryRow(ctx, `SELECT count(*) FROM app_variables WHERE app_id = $1`, appID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count variables of app %s: %w", appID, mapError(err))
	}
	return n, nil
}

// DeleteVariable removes one of an app's variables.
func (s *Store) DeleteVariable(ctx context.Context, appID, name string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM app_variables WHERE app_id = $1 AND name = $2`, appID, name)
	if err != nil {
		return fmt.Errorf("delete variable %s of app %s: %w", name, appID, mapError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete variable %s of app %s: %w", name, appID, model.ErrNotFound)
	}
	return nil
}
