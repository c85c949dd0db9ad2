package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/routing"
)

// ErrReserved is a route path under a prefix PiCloud keeps for itself.
var ErrReserved = routing.ErrReserved

// ConflictError names what a new route or domain claim would collide with.
type ConflictError struct {
	Message   string
	Conflicts any // []model.Route or []model.Domain
}

func (e *ConflictError) Error() string { return e.Message }

func routeConflict(cs []model.Route) *ConflictError {
	r := cs[0]
	return &ConflictError{Conflicts: cs,
		Message: fmt.Sprintf("route conflicts with %s %s (route %s of script %s)", r.Method, r.Path, r.ID, r.ScriptID)}
}

func (e *ConflictError) Unwrap() error { return model.ErrConflict }

// parseRoute validates a method and path.
func parseRoute(method, path string) (string, routing.Pattern, error) {
	m, err := routing.ParseMethod(method)
	if err != nil {
		return "", routing.Pattern{}, fmt.Errorf("%w: %w", model.ErrInvalid, err)
	}
	p, err := routing.ParsePattern(path)
	if err != nil {
		if errors.Is(err, routing.ErrReserved) {
			return "", routing.Pattern{}, err
		}
		return "", routing.Pattern{}, fmt.Errorf("%w: %w", model.ErrInvalid, err)
	}
	return m, p, nil
}

// conflicts lists the routes of app that (method, p) would collide with.
func (s *Service) conflicts(ctx context.Context, appID, method string, p routing.Pattern) ([]model.Route, error) {
	all, err := s.store.AppRoutes(ctx, appID)
	if err != nil {
		return nil, err
	}
	byID := map[string]model.Route{}
	var rs []routing.Route
	for _, r := range all {
		rp, err := routing.ParsePattern(r.Path)
		if err != nil {
			continue
		}
		byID[r.ID] = r
		rs = append(rs, routing.Route{ID: r.ID, Method: r.Method, Pattern: rp})
	}
	t, err := routing.NewTable(rs)
	if err != nil {
		return nil, fmt.Errorf("compile routes of app %s: %w", appID, err)
	}
	out := []model.Route{}
	for _, c := range t.Conflicts(method, p) {
		out = append(out, byID[c.ID])
	}
	return out, nil
}

// CheckRoute says which routes of an app a new route would conflict with; an
// empty list means it can be added.
func (s *Service) CheckRoute(ctx context.Context, appID, method, path string) ([]model.Route, error) {
	m, p, err := parseRoute(method, path)
	if err != nil {
		return nil, err
	}
	return s.conflicts(ctx, appID, m, p)
}

// CreateRoute binds a method and path to a script, live on the next request.
func (s *Service) CreateRoute(ctx context.Context, a model.Actor, scriptID, method, path string) (model.Route, error) {
	m, p, err := parseRoute(method, path)
	if err != nil {
		return model.Route{}, err
	}
	sc, err := s.store.ScriptByID(ctx, scriptID)
	if err != nil {
		return model.Route{}, err
	}
	if cs, err := s.conflicts(ctx, sc.AppID, m, p); err != nil {
		return model.Route{}, err
	} else if len(cs) > 0 {
		return model.Route{}, routeConflict(cs)
	}
	var r model.Route
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if r, err = s.store.CreateRoute(ctx, model.Route{ScriptID: scriptID, Method: m, Path: p.String(), Shape: p.Shape()}); err != nil {
			return err
		}
		return s.audit(ctx, a, "route.create", r.AppID, r.ID, map[string]any{"method": r.Method, "path": r.Path, "script_id": scriptID})
	})
	if errors.Is(err, model.ErrConflict) {
		// Lost a race with a concurrent insert of the same shape.
		cs, _ := s.conflicts(ctx, sc.AppID, m, p)
		if len(cs) > 0 {
			return model.Route{}, routeConflict(cs)
		}
	}
	if err != nil {
		return model.Route{}, err
	}
	s.inval.Invalidate()
	s.log.Info("route created", "route", r.ID, "method", r.Method, "path", r.Path, "script", scriptID, "user", a.Username)
	return r, nil
}

// Routes lists a script's routes.
func (s *Service) Routes(ctx context.Context, scriptID string) ([]model.Route, error) {
	if _, err := s.store.ScriptByID(ctx, scriptID); err != nil {
		return nil, err
	}
	return s.store.ListRoutes(ctx, scriptID)
}

// DeleteRoute unbinds a route, live on the next request.
func (s *Service) DeleteRoute(ctx context.Context, a model.Actor, id string) error {
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		r, err := s.store.RouteByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.DeleteRoute(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, a, "route.delete", r.AppID, id, map[string]any{"method": r.Method, "path": r.Path})
	})
	if err != nil {
		return err
	}
	s.inval.Invalidate()
	s.log.Info("route deleted", "route", id, "user", a.Username)
	return nil
}

// Route returns one route.
func (s *Service) Route(ctx context.Context, id string) (model.Route, error) {
	return s.store.RouteByID(ctx, id)
}
