package manager

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/picloud/picloud/api/hosts"
	"github.com/picloud/picloud/api/model"
)

var appNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// AppInput is what a person sends to create or change an app; nil fields
// are left as they are.
type AppInput struct {
	Name        *string
	Description *string
}

func validateApp(in AppInput) error {
	if in.Name != nil && !appNamePattern.MatchString(*in.Name) {
		return fmt.Errorf("%w: app name %q must be 1-63 lower-case letters, digits or '-', starting with a letter or digit", model.ErrInvalid, *in.Name)
	}
	if in.Description != nil && len(*in.Description) > 1000 {
		return fmt.Errorf("%w: description is longer than 1000 bytes", model.ErrInvalid)
	}
	return nil
}

// CreateApp creates an app.
func (s *Service) CreateApp(ctx context.Context, a model.Actor, in AppInput) (model.App, error) {
	if in.Name == nil {
		return model.App{}, fmt.Errorf("%w: name is required", model.ErrInvalid)
	}
	if err := validateApp(in); err != nil {
		return model.App{}, err
	}
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	var app model.App
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if app, err = s.store.CreateApp(ctx, *in.Name, desc); err != nil {
			return err
		}
		return s.audit(ctx, a, "app.create", app.ID, app.ID, map[string]any{"name": app.Name})
	})
	if errors.Is(err, model.ErrConflict) {
		return model.App{}, fmt.Errorf("%w: an app named %q already exists", model.ErrConflict, *in.Name)
	}
	if err != nil {
		return model.App{}, err
	}
	s.log.Info("app created", "app", app.ID, "name", app.Name, "user", a.Username)
	return app, nil
}

// Apps lists every app; the caller filters what a user may see.
func (s *Service) Apps(ctx context.Context) ([]model.App, error) { return s.store.ListApps(ctx) }

// App returns one app.
func (s *Service) App(ctx context.Context, id string) (model.App, error) {
	return s.store.AppByID(ctx, id)
}

// UpdateApp renames an app or changes its description.
func (s *Service) UpdateApp(ctx context.Context, a model.Actor, id string, in AppInput) (model.App, error) {
	if err := validateApp(in); err != nil {
		return model.App{}, err
	}
	var app model.App
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if app, err = s.store.UpdateApp(ctx, id, in.Name, in.Description); err != nil {
			return err
		}
		details := map[string]any{"description_changed": in.Description != nil}
		if in.Name != nil {
			details["name"] = *in.Name
		}
		return s.audit(ctx, a, "app.update", id, id, details)
	})
	if errors.Is(err, model.ErrConflict) {
		return model.App{}, fmt.Errorf("%w: an app named %q already exists", model.ErrConflict, *in.Name)
	}
	if err != nil {
		return model.App{}, err
	}
	s.log.Info("app updated", "app", id, "user", a.Username)
	return app, nil
}

// DeleteApp removes an app with its scripts, routes, domains, variables and
// logs. The default app stays.
func (s *Service) DeleteApp(ctx context.Context, a model.Actor, id string) error {
	if id == model.DefaultAppID {
		return fmt.Errorf("%w: the default app cannot be deleted", model.ErrInvalid)
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		app, err := s.store.AppByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.DeleteApp(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, a, "app.delete", id, id, map[string]any{"name": app.Name})
	})
	if err != nil {
		return err
	}
	s.inval.Invalidate()
	s.log.Info("app deleted", "app", id, "user", a.Username)
	return nil
}

// ClaimDomain claims a host or host pattern for an app; a claim that would
// match some host as well as an existing one is refused.
func (s *Service) ClaimDomain(ctx context.Context, a model.Actor, appID, pattern string) (model.Domain, error) {
	p, err := hosts.ParsePattern(pattern)
	if err != nil {
		return model.Domain{}, fmt.Errorf("%w: %w", model.ErrInvalid, err)
	}
	if h, taken := s.cfg.AdminHosts.Overlap(p); taken {
		return model.Domain{}, fmt.Errorf("%w: %s would match %s, where the admin API answers; apps never share a host name with it (see PICLOUD_ADMIN_HOSTS)",
			model.ErrConflict, p, h)
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return model.Domain{}, err
	}
	if cs, err := s.domainConflicts(ctx, p); err != nil {
		return model.Domain{}, err
	} else if len(cs) > 0 {
		return model.Domain{}, domainConflict(cs)
	}
	var d model.Domain
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if d, err = s.store.CreateDomain(ctx, model.Domain{AppID: appID, Pattern: p.String(), Shape: p.Shape()}); err != nil {
			return err
		}
		return s.audit(ctx, a, "domain.claim", appID, d.ID, map[string]any{"pattern": d.Pattern})
	})
	if errors.Is(err, model.ErrConflict) {
		if cs, _ := s.domainConflicts(ctx, p); len(cs) > 0 {
			return model.Domain{}, domainConflict(cs)
		}
	}
	if err != nil {
		return model.Domain{}, err
	}
	s.inval.Invalidate()
	s.log.Info("domain claimed", "app", appID, "pattern", d.Pattern, "user", a.Username)
	return d, nil
}

func domainConflict(cs []model.Domain) *ConflictError {
	return &ConflictError{Conflicts: cs,
		Message: fmt.Sprintf("domain overlaps %s, claimed by app %s", cs[0].Pattern, cs[0].AppID)}
}

// domainConflicts lists the claims of any app that p would overlap.
func (s *Service) domainConflicts(ctx context.Context, p hosts.Pattern) ([]model.Domain, error) {
	all, err := s.store.ListDomains(ctx, "")
	if err != nil {
		return nil, err
	}
	byID := map[string]model.Domain{}
	var claims []hosts.Claim
	for _, d := range all {
		dp, err := hosts.ParsePattern(d.Pattern)
		if err != nil {
			continue
		}
		byID[d.ID] = d
		claims = append(claims, hosts.Claim{ID: d.ID, AppID: d.AppID, Pattern: dp})
	}
	t, err := hosts.NewTable(claims)
	if err != nil {
		return nil, fmt.Errorf("compile domain claims: %w", err)
	}
	out := []model.Domain{}
	for _, c := range t.Conflicts(p) {
		out = append(out, byID[c.ID])
	}
	return out, nil
}

// Domains lists an app's claims.
func (s *Service) Domains(ctx context.Context, appID string) ([]model.Domain, error) {
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	return s.store.ListDomains(ctx, appID)
}

// ReleaseDomain gives up an app's claim.
func (s *Service) ReleaseDomain(ctx context.Context, a model.Actor, appID, id string) error {
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteDomain(ctx, appID, id); err != nil {
			return err
		}
		return s.audit(ctx, a, "domain.release", appID, id, nil)
	})
	if err != nil {
		return err
	}
	s.inval.Invalidate()
	s.log.Info("domain released", "app", appID, "domain", id, "user", a.Username)
	return nil
}

// Settings returns the instance settings.
func (s *Service) Settings(ctx context.Context) (model.Settings, error) { return s.store.Settings(ctx) }

// UpdateSettings changes instance settings.
func (s *Service) UpdateSettings(ctx context.Context, a model.Actor, defaultAppFallback *bool) (model.Settings, error) {
	var st model.Settings
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if st, err = s.store.UpdateSettings(ctx, defaultAppFallback); err != nil {
			return err
		}
		return s.audit(ctx, a, "settings.update", "", "", map[string]any{"default_app_fallback": st.DefaultAppFallback})
	})
	if err != nil {
		return st, err
	}
	s.inval.Invalidate()
	s.log.Info("settings updated", "default_app_fallback", st.DefaultAppFallback, "user", a.Username)
	return st, nil
}
