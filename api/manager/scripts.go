package manager

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// ScriptInput is what a person sends to create or save a script.
type ScriptInput struct {
	AppID    string
	Name     string
	Language string // "js", "ts", or "" to infer from the name
	Source   string
	// BaseVersion, when not 0, is the script's latest version the edit
	// started from; a save over a newer version is refused with a
	// *model.VersionConflictError.
	BaseVersion int
	// Draft, on a save, stores the new version without making it active.
	Draft bool
}

var scriptNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// CompileError is a script that does not compile; the API answers 422.
type CompileError = engine.CompileError

func languageOf(name, lang string) (string, error) {
	switch lang {
	case "js", "javascript":
		return "js", nil
	case "ts", "typescript":
		return "ts", nil
	case "":
		if strings.HasSuffix(name, ".ts") {
			return "ts", nil
		}
		return "js", nil
	}
	return "", fmt.Errorf("%w: language %q: use \"js\" or \"ts\"", model.ErrInvalid, lang)
}

func validateName(name string) error {
	if !scriptNamePattern.MatchString(name) {
		return fmt.Errorf("%w: script name %q must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit", model.ErrInvalid, name)
	}
	return nil
}

// compile turns source into engine code, or returns a *CompileError.
func compile(source, language string) (string, error) {
	if strings.TrimSpace(source) == "" {
		return "", fmt.Errorf("%w: source is empty", model.ErrInvalid)
	}
	if len(source) > engine.MaxSourceBytes {
		return "", fmt.Errorf("%w: source is %d bytes; the limit is %d", model.ErrInvalid, len(source), engine.MaxSourceBytes)
	}
	return engine.Transpile(source, engine.Language(language))
}

// CreateScript validates, compiles and stores a new script as version 1.
func (s *Service) CreateScript(ctx context.Context, a model.Actor, in ScriptInput) (model.Script, error) {
	if err := validateName(in.Name); err != nil {
		return model.Script{}, err
	}
	lang, err := languageOf(in.Name, in.Language)
	if err != nil {
		return model.Script{}, err
	}
	code, err := compile(in.Source, lang)
	if err != nil {
		return model.Script{}, err
	}
	var sc model.Script
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if sc, err = s.store.CreateScript(ctx, in.AppID, in.Name, lang, model.NewVersion{Source: in.Source, Code: code, CreatedBy: a.UserID}); err != nil {
			return err
		}
		return s.audit(ctx, a, "script.create", sc.AppID, sc.ID, map[string]any{"name": sc.Name, "version": 1})
	})
	if errors.Is(err, model.ErrConflict) {
		return model.Script{}, fmt.Errorf("%w: a script named %q already exists in this app", model.ErrConflict, in.Name)
	}
	if err != nil {
		return model.Script{}, err
	}
	s.inval.Invalidate()
	s.log.Info("script created", "script", sc.ID, "name", sc.Name, "user", a.Username)
	return sc, nil
}

// UpdateScript saves a new version of a script (and renames it when in.Name
// is set); the new version becomes active unless in.Draft is set. A source that does not compile is
// refused and the active version keeps serving. With in.BaseVersion set, a
// save whose base is no longer the latest version saves nothing and returns
// a *model.VersionConflictError.
func (s *Service) UpdateScript(ctx context.Context, a model.Actor, id string, in ScriptInput) (model.Script, error) {
	cur, err := s.store.ScriptByID(ctx, id)
	if err != nil {
		return model.Script{}, err
	}
	if in.BaseVersion < 0 {
		return model.Script{}, fmt.Errorf("%w: base_version must be a positive version number", model.ErrInvalid)
	}
	if in.Name != "" {
		if err := validateName(in.Name); err != nil {
			return model.Script{}, err
		}
	}
	code, err := compile(in.Source, cur.Language)
	if err != nil {
		return model.Script{}, err
	}
	var sc model.Script
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		nv := model.NewVersion{Source: in.Source, Code: code, CreatedBy: a.UserID, Base: in.BaseVersion, Draft: in.Draft}
		if sc, err = s.store.AddVersion(ctx, id, in.Name, nv); err != nil {
			return err
		}
		detail := map[string]any{"name": sc.Name, "version": sc.LatestVersion}
		if in.Draft {
			detail["draft"] = true
		}
		return s.audit(ctx, a, "script.update", sc.AppID, id, detail)
	})
	var stale *model.VersionConflictError
	if errors.As(err, &stale) {
		return model.Script{}, err
	}
	if errors.Is(err, model.ErrConflict) {
		return model.Script{}, fmt.Errorf("%w: a script named %q already exists in this app", model.ErrConflict, in.Name)
	}
	if err != nil {
		return model.Script{}, err
	}
	s.inval.Invalidate()
	s.log.Info("script saved", "script", sc.ID, "version", sc.LatestVersion, "draft", in.Draft, "user", a.Username)
	return sc, nil
}

// ScriptAtVersion returns a script as it would run at one of its versions,
// active or not: the script with that version's source and code in place
// of the active one's. It is how a draft is tried before it goes live.
func (s *Service) ScriptAtVersion(ctx context.Context, id string, version int) (model.Script, error) {
	if version < 1 {
		return model.Script{}, fmt.Errorf("%w: version must be a positive number", model.ErrInvalid)
	}
	sc, err := s.store.ScriptByID(ctx, id)
	if err != nil {
		return model.Script{}, err
	}
	v, err := s.store.Version(ctx, id, version)
	if err != nil {
		return model.Script{}, err
	}
	sc.ActiveVersion, sc.Source, sc.Code = v.Version, v.Source, v.Code
	return sc, nil
}

// Rollback makes an older version of a script active.
func (s *Service) Rollback(ctx context.Context, a model.Actor, id string, version int) (model.Script, error) {
	if version < 1 {
		return model.Script{}, fmt.Errorf("%w: version must be a positive number", model.ErrInvalid)
	}
	var sc model.Script
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if sc, err = s.store.ActivateVersion(ctx, id, version); err != nil {
			return err
		}
		return s.audit(ctx, a, "script.rollback", sc.AppID, id, map[string]any{"name": sc.Name, "version": version})
	})
	if err != nil {
		return model.Script{}, err
	}
	s.inval.Invalidate()
	s.log.Info("script rolled back", "script", id, "version", version, "user", a.Username)
	return sc, nil
}

// DeleteScript removes a script with its versions and routes.
func (s *Service) DeleteScript(ctx context.Context, a model.Actor, id string) error {
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		sc, err := s.store.ScriptByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.DeleteScript(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, a, "script.delete", sc.AppID, id, map[string]any{"name": sc.Name})
	})
	if err != nil {
		return err
	}
	s.inval.Invalidate()
	s.log.Info("script deleted", "script", id, "user", a.Username)
	return nil
}

// Script returns a script with its active source.
func (s *Service) Script(ctx context.Context, id string) (model.Script, error) {
	return s.store.ScriptByID(ctx, id)
}

// Scripts lists an app's scripts.
func (s *Service) Scripts(ctx context.Context, appID string) ([]model.Script, error) {
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	return s.store.ListScripts(ctx, appID)
}

// Versions lists a script's versions, newest first.
func (s *Service) Versions(ctx context.Context, id string) ([]model.ScriptVersion, error) {
	return s.store.ListVersions(ctx, id)
}

// Version returns one version of a script with its source.
func (s *Service) Version(ctx context.Context, id string, version int) (model.ScriptVersion, error) {
	return s.store.Version(ctx, id, version)
}

// Executions lists execution records, newest first.
func (s *Service) Executions(ctx context.Context, q model.LogQuery) ([]model.ExecutionRecord, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	return s.store.ListExecutions(ctx, q)
}

// Rollups returns the minute or hour rollups of scripts' invocations that
// q selects, oldest first.
func (s *Service) Rollups(ctx context.Context, q model.RollupQuery) ([]model.Rollup, error) {
	return s.store.ListRollups(ctx, q)
}

// LimitsView is a script's limits: its own, the daemon's defaults and
// ceilings, and what its executions get.
type LimitsView struct {
	Own       model.ScriptLimits `json:"limits"`
	Defaults  model.ScriptLimits `json:"defaults"`
	Ceilings  model.ScriptLimits `json:"ceilings"`
	Effective model.ScriptLimits `json:"effective"`
}

func (s *Service) limitsView(sc model.Script) LimitsView {
	l := s.limits.Load()
	return LimitsView{Own: sc.Limits, Defaults: l[0], Ceilings: l[1], Effective: sc.Limits.Apply(l[0], l[1])}
}

// ScriptLimits returns a script's limits.
func (s *Service) ScriptLimits(ctx context.Context, id string) (LimitsView, error) {
	sc, err := s.store.ScriptByID(ctx, id)
	if err != nil {
		return LimitsView{}, err
	}
	return s.limitsView(sc), nil
}

// SetScriptLimits replaces a script's own limits; a zero field goes back to
// the default. A value over the administrator's ceiling is refused.
func (s *Service) SetScriptLimits(ctx context.Context, a model.Actor, id string, l model.ScriptLimits) (LimitsView, error) {
	if err := s.checkLimits(l); err != nil {
		return LimitsView{}, err
	}
	var sc model.Script
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if sc, err = s.store.SetScriptLimits(ctx, id, l); err != nil {
			return err
		}
		return s.audit(ctx, a, "script.limits", sc.AppID, id, map[string]any{"name": sc.Name, "limits": l})
	})
	if err != nil {
		return LimitsView{}, err
	}
	s.inval.Invalidate()
	s.log.Info("script limits set", "script", id, "user", a.Username)
	return s.limitsView(sc), nil
}

// checkLimits refuses limits that are negative or above the administrator's
// ceilings.
func (s *Service) checkLimits(l model.ScriptLimits) error {
	ceil := s.limits.Load()[1]
	for _, f := range []struct {
		name, setting string
		v, ceil       int
	}{
		{"wall_time_ms", "PICLOUD_SANDBOX_MAX_WALL_TIME_MS", l.WallTimeMS, ceil.WallTimeMS},
		{"response_bytes", "PICLOUD_SANDBOX_MAX_RESPONSE_BYTES", l.ResponseBytes, ceil.ResponseBytes},
		{"console_bytes", "PICLOUD_SANDBOX_MAX_CONSOLE_BYTES", l.ConsoleBytes, ceil.ConsoleBytes},
		{"call_depth", "PICLOUD_SANDBOX_MAX_CALL_DEPTH", l.CallDepth, ceil.CallDepth},
		{"timers", "PICLOUD_SANDBOX_MAX_TIMERS", l.Timers, ceil.Timers},
		{"subrequests", "PICLOUD_SANDBOX_MAX_SUBREQUESTS", l.Subrequests, ceil.Subrequests},
		{"data_calls", "PICLOUD_SANDBOX_MAX_DATA_CALLS", l.DataCalls, ceil.DataCalls},
	} {
		switch {
		case f.v < 0:
			return fmt.Errorf("%w: %s must be positive, or 0 for the default", model.ErrInvalid, f.name)
		case f.ceil > 0 && f.v > f.ceil:
			return fmt.Errorf("%w: %s %d is above the administrator's ceiling of %d (%s)", model.ErrInvalid, f.name, f.v, f.ceil, f.setting)
		}
	}
	return nil
}
