package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/routing"
)

// Limits of interceptors.
const (
	MaxInterceptorsPerApp = 50
	MaxInterceptorOrder   = 1_000_000
)

// ErrNoInterceptors means the daemon was built without interceptors.
var ErrNoInterceptors = errors.New("interceptors are not available in this daemon")

// InterceptorStore holds the interceptors of apps' routes.
type InterceptorStore interface {
	CreateInterceptor(ctx context.Context, i model.Interceptor) (model.Interceptor, error)
	ListInterceptors(ctx context.Context, appID string) ([]model.Interceptor, error)
	InterceptorByID(ctx context.Context, id string) (model.Interceptor, error)
	DeleteInterceptor(ctx context.Context, id string) error
}

// Interceptors lists an app's interceptors in the order they run.
func (s *Service) Interceptors(ctx context.Context, appID string) ([]model.Interceptor, error) {
	if s.cfg.Interceptors == nil {
		return nil, ErrNoInterceptors
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	return s.cfg.Interceptors.ListInterceptors(ctx, appID)
}

// CreateInterceptor binds a script of app appID in front of a route
// pattern of the app, live on the next request.
func (s *Service) CreateInterceptor(ctx context.Context, a model.Actor, appID, scriptID, path string, order int) (model.Interceptor, error) {
	if s.cfg.Interceptors == nil {
		return model.Interceptor{}, ErrNoInterceptors
	}
	p, err := routing.ParsePattern(path)
	if err != nil {
		if errors.Is(err, routing.ErrReserved) {
			return model.Interceptor{}, err
		}
		return model.Interceptor{}, fmt.Errorf("%w: %w", model.ErrInvalid, err)
	}
	if order < -MaxInterceptorOrder || order > MaxInterceptorOrder {
		return model.Interceptor{}, fmt.Errorf("%w: order must be from %d to %d", model.ErrInvalid, -MaxInterceptorOrder, MaxInterceptorOrder)
	}
	sc, err := s.store.ScriptByID(ctx, scriptID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && sc.AppID != appID) {
		return model.Interceptor{}, fmt.Errorf("%w: script %s is not a script of app %s", model.ErrInvalid, scriptID, appID)
	}
	if err != nil {
		return model.Interceptor{}, err
	}
	existing, err := s.cfg.Interceptors.ListInterceptors(ctx, appID)
	if err != nil {
		return model.Interceptor{}, err
	}
	if len(existing) >= MaxInterceptorsPerApp {
		return model.Interceptor{}, fmt.Errorf("%w: an app has at most %d interceptors", model.ErrInvalid, MaxInterceptorsPerApp)
	}
	var out model.Interceptor
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if out, err = s.cfg.Interceptors.CreateInterceptor(ctx, model.Interceptor{AppID: appID, ScriptID: scriptID, Path: p.String(), Order: order}); err != nil {
			return err
		}
		return s.audit(ctx, a, "interceptor.create", appID, out.ID, map[string]any{"path": out.Path, "script_id": scriptID, "order": order})
	})
	if err != nil {
		return model.Interceptor{}, err
	}
	s.inval.Invalidate()
	s.log.Info("interceptor created", "interceptor", out.ID, "path", out.Path, "script", scriptID, "user", a.Username)
	return out, nil
}

// Interceptor returns one interceptor.
func (s *Service) Interceptor(ctx context.Context, id string) (model.Interceptor, error) {
	if s.cfg.Interceptors == nil {
		return model.Interceptor{}, ErrNoInterceptors
	}
	return s.cfg.Interceptors.InterceptorByID(ctx, id)
}

// DeleteInterceptor removes an interceptor, live on the next request.
func (s *Service) DeleteInterceptor(ctx context.Context, a model.Actor, id string) error {
	if s.cfg.Interceptors == nil {
		return ErrNoInterceptors
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		i, err := s.cfg.Interceptors.InterceptorByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.cfg.Interceptors.DeleteInterceptor(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, a, "interceptor.delete", i.AppID, id, map[string]any{"path": i.Path, "script_id": i.ScriptID})
	})
	if err != nil {
		return err
	}
	s.inval.Invalidate()
	s.log.Info("interceptor deleted", "interceptor", id, "user", a.Username)
	return nil
}
