package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/routing"
)

// DeployScript is one script of an app's desired state.
type DeployScript struct {
	Name     string `json:"name"`
	Language string `json:"language,omitempty"` // "js", "ts", or "" to infer from the name
	Source   string `json:"source"`
	// Crons, when not nil, are the script's cron triggers' schedules (UTC,
	// the default misfire and retries): its triggers become these. Nil
	// leaves its triggers as they are.
	Crons []string `json:"crons,omitempty"`
	// Limits, when not nil, are the script's own limits (zero fields: the
	// defaults); nil leaves them as they are.
	Limits *model.ScriptLimits `json:"limits,omitempty"`
}

// DeployRoute is one route of an app's desired state, bound to a script of
// the same state by name.
type DeployRoute struct {
	Script string `json:"script"`
	Method string `json:"method"`
	Path   string `json:"path"`
}

// DeployInput is the desired state of an app's scripts and their routes.
type DeployInput struct {
	Scripts []DeployScript
	Routes  []DeployRoute
	// Draft saves changed scripts' new versions without making them active.
	Draft bool
	// DryRun works the plan out, and checks it would apply, without
	// changing anything.
	DryRun bool
}

// DeployChange is one line of a deploy's plan.
type DeployChange struct {
	// Kind is "script", "limits", "route" or "trigger".
	Kind string `json:"kind"`
	// Action is "create", "update", "delete" or "unchanged".
	Action string `json:"action"`
	Name   string `json:"name"` // the script's name, or "METHOD path → script"
	// Version is, for a script created or updated, its new version.
	Version int `json:"version,omitempty"`
}

// DeployPlan is what a deploy did, or would do on a dry run.
type DeployPlan struct {
	Applied bool           `json:"applied"`
	Changes []DeployChange `json:"changes"`
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("dry run")

type compiledScript struct {
	DeployScript
	lang, code string
}

type routeKey struct{ method, path, script string }

// Deploy makes an app's scripts and routes what in says, in one
// transaction: a script whose source changed gets a new version (active
// unless in.Draft), a new one is created, an unchanged one gets nothing;
// the routes of the scripts named are reconciled (created, deleted).
// Scripts the state does not name, and their routes, are left alone. Any
// failure (a source that does not compile, a route conflict) changes
// nothing, and so does a dry run, which returns the plan it would apply.
func (s *Service) Deploy(ctx context.Context, a model.Actor, appID string, in DeployInput) (DeployPlan, error) {
	scripts, err := compileAll(in.Scripts)
	if err != nil {
		return DeployPlan{}, err
	}
	for _, sc := range scripts {
		if sc.Limits == nil {
			continue
		}
		if err := s.checkLimits(*sc.Limits); err != nil {
			return DeployPlan{}, fmt.Errorf("script %q: %w", sc.Name, err)
		}
	}
	routes, err := parseDeployRoutes(in.Routes, scripts)
	if err != nil {
		return DeployPlan{}, err
	}
	var plan DeployPlan
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		plan = DeployPlan{Changes: []DeployChange{}}
		ids, err := s.deployScripts(ctx, a, appID, scripts, in.Draft, &plan)
		if err != nil {
			return err
		}
		if err := s.deployRoutes(ctx, appID, ids, routes, &plan); err != nil {
			return err
		}
		if err := s.deployTriggers(ctx, appID, scripts, ids, &plan); err != nil {
			return err
		}
		if in.DryRun {
			return errDryRun
		}
		return s.audit(ctx, a, "app.deploy", appID, appID, map[string]any{"changes": changed(plan.Changes), "draft": in.Draft})
	})
	if errors.Is(err, errDryRun) {
		return plan, nil
	}
	if err != nil {
		return DeployPlan{}, err
	}
	plan.Applied = true
	s.inval.Invalidate()
	s.log.Info("app deployed", "app", appID, "changes", len(changed(plan.Changes)), "draft", in.Draft, "user", a.Username)
	return plan, nil
}

// changed is the changes that are not "unchanged".
func changed(cs []DeployChange) []DeployChange {
	out := []DeployChange{}
	for _, c := range cs {
		if c.Action != "unchanged" {
			out = append(out, c)
		}
	}
	return out
}

// compileAll validates and compiles every script of a desired state.
func compileAll(in []DeployScript) ([]compiledScript, error) {
	seen := map[string]bool{}
	out := make([]compiledScript, 0, len(in))
	for _, sc := range in {
		if err := validateName(sc.Name); err != nil {
			return nil, err
		}
		if seen[sc.Name] {
			return nil, fmt.Errorf("%w: script %q is named twice", model.ErrInvalid, sc.Name)
		}
		seen[sc.Name] = true
		lang, err := languageOf(sc.Name, sc.Language)
		if err != nil {
			return nil, fmt.Errorf("script %q: %w", sc.Name, err)
		}
		code, err := compile(sc.Source, lang)
		var ce *CompileError
		if errors.As(err, &ce) {
			return nil, &CompileError{Message: "script " + sc.Name + ": " + ce.Message, Line: ce.Line, Column: ce.Column}
		}
		if err != nil {
			return nil, fmt.Errorf("script %q: %w", sc.Name, err)
		}
		out = append(out, compiledScript{DeployScript: sc, lang: lang, code: code})
	}
	return out, nil
}

// parsedRoute is a route of a desired state, validated.
type parsedRoute struct {
	key     routeKey
	pattern routing.Pattern
}

func parseDeployRoutes(in []DeployRoute, scripts []compiledScript) ([]parsedRoute, error) {
	named := map[string]bool{}
	for _, sc := range scripts {
		named[sc.Name] = true
	}
	seen := map[routeKey]bool{}
	out := make([]parsedRoute, 0, len(in))
	for _, r := range in {
		if !named[r.Script] {
			return nil, fmt.Errorf("%w: route %s %s is bound to %q, which is not one of the scripts deployed", model.ErrInvalid, r.Method, r.Path, r.Script)
		}
		m, p, err := parseRoute(r.Method, r.Path)
		if err != nil {
			return nil, fmt.Errorf("route %s %s: %w", r.Method, r.Path, err)
		}
		k := routeKey{m, p.String(), r.Script}
		if seen[k] {
			return nil, fmt.Errorf("%w: route %s %s of %q is listed twice", model.ErrInvalid, m, k.path, r.Script)
		}
		seen[k] = true
		out = append(out, parsedRoute{key: k, pattern: p})
	}
	return out, nil
}

// deployScripts creates or saves the scripts of a desired state and
// returns their ids by name.
func (s *Service) deployScripts(ctx context.Context, a model.Actor, appID string, scripts []compiledScript, draft bool, plan *DeployPlan) (map[string]string, error) {
	existing, err := s.Scripts(ctx, appID)
	if err != nil {
		return nil, err
	}
	byName := map[string]model.Script{}
	for _, sc := range existing {
		byName[sc.Name] = sc
	}
	ids := map[string]string{}
	for _, sc := range scripts {
		cur, ok := byName[sc.Name]
		if !ok {
			created, err := s.store.CreateScript(ctx, appID, sc.Name, sc.lang, model.NewVersion{Source: sc.Source, Code: sc.code, CreatedBy: a.UserID})
			if err != nil {
				return nil, fmt.Errorf("create script %q: %w", sc.Name, err)
			}
			ids[sc.Name] = created.ID
			plan.Changes = append(plan.Changes, DeployChange{Kind: "script", Action: "create", Name: sc.Name, Version: 1})
			if err := s.deployLimits(ctx, created, sc, plan); err != nil {
				return nil, err
			}
			continue
		}
		if err := s.deployLimits(ctx, cur, sc, plan); err != nil {
			return nil, err
		}
		ids[sc.Name] = cur.ID
		if cur.Language != sc.lang {
			return nil, fmt.Errorf("%w: script %q is %s on the board and cannot become %s; delete it first", model.ErrInvalid, sc.Name, cur.Language, sc.lang)
		}
		latest, err := s.store.Version(ctx, cur.ID, cur.LatestVersion)
		if err != nil {
			return nil, err
		}
		if latest.Source == sc.Source && (draft || cur.ActiveVersion == cur.LatestVersion) {
			plan.Changes = append(plan.Changes, DeployChange{Kind: "script", Action: "unchanged", Name: sc.Name})
			continue
		}
		if latest.Source == sc.Source {
			// The latest version is a draft of this very source: promote it.
			if _, err := s.store.ActivateVersion(ctx, cur.ID, cur.LatestVersion); err != nil {
				return nil, fmt.Errorf("activate script %q: %w", sc.Name, err)
			}
			plan.Changes = append(plan.Changes, DeployChange{Kind: "script", Action: "update", Name: sc.Name, Version: cur.LatestVersion})
			continue
		}
		saved, err := s.store.AddVersion(ctx, cur.ID, "", model.NewVersion{Source: sc.Source, Code: sc.code, CreatedBy: a.UserID, Draft: draft})
		if err != nil {
			return nil, fmt.Errorf("save script %q: %w", sc.Name, err)
		}
		plan.Changes = append(plan.Changes, DeployChange{Kind: "script", Action: "update", Name: sc.Name, Version: saved.LatestVersion})
	}
	return ids, nil
}

// deployRoutes makes the routes of the named scripts the desired ones.
func (s *Service) deployRoutes(ctx context.Context, appID string, ids map[string]string, routes []parsedRoute, plan *DeployPlan) error {
	current, err := s.store.AppRoutes(ctx, appID)
	if err != nil {
		return err
	}
	nameOf := map[string]string{}
	for name, id := range ids {
		nameOf[id] = name
	}
	want := map[routeKey]bool{}
	for _, r := range routes {
		want[r.key] = true
	}
	have := map[routeKey]bool{}
	for _, r := range current {
		name, ours := nameOf[r.ScriptID]
		if !ours {
			continue
		}
		k := routeKey{r.Method, r.Path, name}
		if want[k] {
			have[k] = true
			plan.Changes = append(plan.Changes, DeployChange{Kind: "route", Action: "unchanged", Name: routeName(k)})
			continue
		}
		if err := s.store.DeleteRoute(ctx, r.ID); err != nil {
			return fmt.Errorf("delete route %s %s: %w", r.Method, r.Path, err)
		}
		plan.Changes = append(plan.Changes, DeployChange{Kind: "route", Action: "delete", Name: routeName(k)})
	}
	for _, r := range routes {
		if have[r.key] {
			continue
		}
		if cs, err := s.conflicts(ctx, appID, r.key.method, r.pattern); err != nil {
			return err
		} else if len(cs) > 0 {
			return routeConflict(cs)
		}
		if _, err := s.store.CreateRoute(ctx, model.Route{ScriptID: ids[r.key.script], Method: r.key.method, Path: r.pattern.String(), Shape: r.pattern.Shape()}); err != nil {
			return fmt.Errorf("create route %s: %w", routeName(r.key), err)
		}
		plan.Changes = append(plan.Changes, DeployChange{Kind: "route", Action: "create", Name: routeName(r.key)})
	}
	return nil
}

func routeName(k routeKey) string { return k.method + " " + k.path + " → " + k.script }

// deployTriggers makes the cron triggers of the scripts that list crons
// exactly those.
func (s *Service) deployTriggers(ctx context.Context, appID string, scripts []compiledScript, ids map[string]string, plan *DeployPlan) error {
	for _, sc := range scripts {
		if sc.Crons == nil {
			continue
		}
		if s.cfg.Triggers == nil || s.cfg.Scheduler == nil {
			return ErrNoScheduler
		}
		if len(sc.Crons) > MaxTriggersPerScript {
			return fmt.Errorf("%w: script %q: a script has at most %d triggers", model.ErrInvalid, sc.Name, MaxTriggersPerScript)
		}
		want := map[model.CronConfig]bool{}
		for _, c := range sc.Crons {
			cfg, err := ParseCronConfig(mustJSON(map[string]string{"schedule": c}), s.cfg.CronSeconds)
			if err != nil {
				return fmt.Errorf("script %q: %w", sc.Name, err)
			}
			want[cfg] = true
		}
		current, err := s.cfg.Triggers.ListTriggers(ctx, ids[sc.Name])
		if err != nil {
			return err
		}
		have := map[model.CronConfig]bool{}
		for _, t := range current {
			cfg, err := ParseCronConfig(t.Config, s.cfg.CronSeconds)
			name := t.Type + " " + cfg.Schedule + " → " + sc.Name
			if err != nil {
				name = t.Type + " trigger " + t.ID + " → " + sc.Name
			}
			if err == nil && t.Type == model.TriggerCron && want[cfg] && !have[cfg] {
				have[cfg] = true
				plan.Changes = append(plan.Changes, DeployChange{Kind: "trigger", Action: "unchanged", Name: name})
				continue
			}
			if err := s.cfg.Triggers.DeleteTrigger(ctx, t.ID); err != nil {
				return fmt.Errorf("delete trigger %s: %w", t.ID, err)
			}
			if err := s.cfg.Scheduler.Unplan(ctx, t); err != nil {
				return fmt.Errorf("drop the planned runs of trigger %s: %w", t.ID, err)
			}
			plan.Changes = append(plan.Changes, DeployChange{Kind: "trigger", Action: "delete", Name: name})
		}
		for _, c := range sc.Crons {
			cfg, _ := ParseCronConfig(mustJSON(map[string]string{"schedule": c}), s.cfg.CronSeconds)
			if have[cfg] {
				continue
			}
			have[cfg] = true
			t, err := s.cfg.Triggers.InsertTrigger(ctx, model.Trigger{AppID: appID, ScriptID: ids[sc.Name], Type: model.TriggerCron, Config: mustJSON(cfg)})
			if err != nil {
				return fmt.Errorf("create the cron trigger %q of script %q: %w", c, sc.Name, err)
			}
			next, err := s.cfg.Scheduler.Plan(ctx, t)
			if err != nil {
				return fmt.Errorf("plan the first run of %q: %w", c, err)
			}
			if err := s.cfg.Triggers.SetTriggerNextRun(ctx, t.ID, next); err != nil {
				return err
			}
			plan.Changes = append(plan.Changes, DeployChange{Kind: "trigger", Action: "create", Name: "cron " + cfg.Schedule + " → " + sc.Name})
		}
	}
	return nil
}

// mustJSON is v as JSON; v is a value that always marshals.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// deployLimits sets a script's own limits when the desired state names
// limits other than the ones it has.
func (s *Service) deployLimits(ctx context.Context, cur model.Script, sc compiledScript, plan *DeployPlan) error {
	if sc.Limits == nil || *sc.Limits == cur.Limits {
		if sc.Limits != nil {
			plan.Changes = append(plan.Changes, DeployChange{Kind: "limits", Action: "unchanged", Name: sc.Name})
		}
		return nil
	}
	if _, err := s.store.SetScriptLimits(ctx, cur.ID, *sc.Limits); err != nil {
		return fmt.Errorf("set the limits of script %q: %w", sc.Name, err)
	}
	plan.Changes = append(plan.Changes, DeployChange{Kind: "limits", Action: "update", Name: sc.Name})
	return nil
}
