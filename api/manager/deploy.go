package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/routing"
	"github.com/picloud/picloud/api/schedule"
)

// DeployScript is one script of an app's desired state.
type DeployScript struct {
	Name     string `json:"name"`
	Language string `json:"language,omitempty"` // "js", "ts", or "" to infer from the name
	Source   string `json:"source"`
	// Crons, when not nil, are the script's cron triggers: each a schedule
	// string (UTC, the default misfire and retries) or an object with the
	// settings POST /scripts/{id}/triggers takes (schedule, timezone,
	// misfire, max_retries). Its cron triggers become these; nil leaves
	// them as they are. Triggers of other types are always left alone.
	Crons []json.RawMessage `json:"crons,omitempty"`
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
	// Vars, when not nil, are the app's plain variables by name: they
	// become exactly these. Nil leaves them as they are. Secrets are never
	// touched, and a name of one of the app's secrets is refused.
	Vars map[string]string
	// Draft saves changed scripts' new versions without making them active.
	Draft bool
	// DryRun works the plan out, and checks it would apply, without
	// changing anything.
	DryRun bool
}

// DeployChange is one line of a deploy's plan.
type DeployChange struct {
	// Kind is "script", "limits", "route", "trigger" or "variable".
	Kind string `json:"kind"`
	// Action is "create", "update", "delete" or "unchanged".
	Action string `json:"action"`
	// Name is the script's or variable's name, "METHOD path → script" or
	// "cron schedule (settings) → script".
	Name string `json:"name"`
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
	// crons are Crons checked, their defaults filled in.
	crons []model.CronConfig
}

type routeKey struct{ method, path, script string }

// Deploy makes an app's scripts, routes, cron triggers and plain
// variables what in says, in one transaction: a script whose source changed gets a new version (active
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
	for i := range scripts {
		sc := &scripts[i]
		if sc.Limits != nil {
			if err := s.checkLimits(*sc.Limits); err != nil {
				return DeployPlan{}, fmt.Errorf("script %q: %w", sc.Name, err)
			}
		}
		if sc.crons, err = s.parseDeployCrons(sc.Name, sc.Crons); err != nil {
			return DeployPlan{}, err
		}
	}
	if err := checkDeployVars(in.Vars); err != nil {
		return DeployPlan{}, err
	}
	routes, err := parseDeployRoutes(in.Routes, scripts)
	if err != nil {
		return DeployPlan{}, err
	}
	var plan DeployPlan
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		plan = DeployPlan{Changes: []DeployChange{}}
		if err := s.deployVars(ctx, appID, in.Vars, &plan); err != nil {
			return err
		}
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

// parseDeployCrons checks a script's desired cron triggers: schedule
// strings and settings objects alike, as the trigger API checks them.
// Nil stays nil: the script's triggers are left as they are.
func (s *Service) parseDeployCrons(script string, raw []json.RawMessage) ([]model.CronConfig, error) {
	if raw == nil {
		return nil, nil
	}
	if len(raw) > MaxTriggersPerScript {
		return nil, fmt.Errorf("%w: script %q: a script has at most %d triggers", model.ErrInvalid, script, MaxTriggersPerScript)
	}
	out := make([]model.CronConfig, 0, len(raw))
	for _, r := range raw {
		var sched string
		if json.Unmarshal(r, &sched) == nil {
			r = mustJSON(map[string]string{"schedule": sched})
		}
		cfg, err := ParseCronConfig(r, s.cfg.CronSeconds)
		if err != nil {
			return nil, fmt.Errorf("script %q: %w", script, err)
		}
		if !slices.Contains(out, cfg) {
			out = append(out, cfg)
		}
	}
	return out, nil
}

// cronName names a cron trigger in a plan: its schedule, the settings
// that are not the defaults, and its script.
func cronName(c model.CronConfig, script string) string {
	var set []string
	if c.Timezone != "UTC" {
		set = append(set, c.Timezone)
	}
	if c.Misfire != string(schedule.RunOnce) {
		set = append(set, "misfire "+c.Misfire)
	}
	if c.MaxRetries != DefaultCronRetries {
		set = append(set, fmt.Sprintf("max_retries %d", c.MaxRetries))
	}
	name := "cron " + c.Schedule
	if len(set) > 0 {
		name += " (" + strings.Join(set, ", ") + ")"
	}
	return name + " → " + script
}

// deployTriggers makes the cron triggers of the scripts that list crons
// exactly those: one whose settings are all the same is unchanged, one
// whose schedule stays but whose settings (a time zone, the misfire
// policy, retries) change is replaced and shown as an update. Triggers of
// other types are left alone.
func (s *Service) deployTriggers(ctx context.Context, appID string, scripts []compiledScript, ids map[string]string, plan *DeployPlan) error {
	for _, sc := range scripts {
		if sc.crons == nil {
			continue
		}
		if s.cfg.Triggers == nil || s.cfg.Scheduler == nil {
			return ErrNoScheduler
		}
		all, err := s.cfg.Triggers.ListTriggers(ctx, ids[sc.Name])
		if err != nil {
			return err
		}
		var current []model.Trigger
		var configs []model.CronConfig
		var names []string
		for _, t := range all {
			if t.Type != model.TriggerCron {
				continue
			}
			cfg, err := ParseCronConfig(t.Config, s.cfg.CronSeconds)
			name := cronName(cfg, sc.Name)
			if err != nil {
				// A stored trigger that no longer reads is replaced.
				cfg = model.CronConfig{}
				name = "cron trigger " + t.ID + " → " + sc.Name
			}
			current = append(current, t)
			configs = append(configs, cfg)
			names = append(names, name)
		}
		if others := len(all) - len(current); others+len(sc.crons) > MaxTriggersPerScript {
			return fmt.Errorf("%w: script %q: a script has at most %d triggers, and it has %d of other types", model.ErrInvalid, sc.Name, MaxTriggersPerScript, others)
		}
		kept := make([]bool, len(current))
		todo := []model.CronConfig{}
		for _, want := range sc.crons {
			if i := slices.IndexFunc(configs, func(c model.CronConfig) bool { return c == want }); i >= 0 && !kept[i] {
				kept[i] = true
				plan.Changes = append(plan.Changes, DeployChange{Kind: "trigger", Action: "unchanged", Name: cronName(want, sc.Name)})
				continue
			}
			todo = append(todo, want)
		}
		for _, want := range todo {
			// The same schedule with other settings is an update.
			action := "create"
			for i, t := range current {
				if kept[i] || configs[i].Schedule != want.Schedule {
					continue
				}
				kept[i] = true
				if err := s.dropTrigger(ctx, t); err != nil {
					return err
				}
				action = "update"
				break
			}
			if err := s.addCronTrigger(ctx, appID, ids[sc.Name], want); err != nil {
				return fmt.Errorf("create the cron trigger %q of script %q: %w", want.Schedule, sc.Name, err)
			}
			plan.Changes = append(plan.Changes, DeployChange{Kind: "trigger", Action: action, Name: cronName(want, sc.Name)})
		}
		for i, t := range current {
			if kept[i] {
				continue
			}
			if err := s.dropTrigger(ctx, t); err != nil {
				return err
			}
			plan.Changes = append(plan.Changes, DeployChange{Kind: "trigger", Action: "delete", Name: names[i]})
		}
	}
	return nil
}

// addCronTrigger creates a cron trigger and plans its first run.
func (s *Service) addCronTrigger(ctx context.Context, appID, scriptID string, cfg model.CronConfig) error {
	t, err := s.cfg.Triggers.InsertTrigger(ctx, model.Trigger{AppID: appID, ScriptID: scriptID, Type: model.TriggerCron, Config: mustJSON(cfg)})
	if err != nil {
		return err
	}
	next, err := s.cfg.Scheduler.Plan(ctx, t)
	if err != nil {
		return fmt.Errorf("plan the first run: %w", err)
	}
	if next.IsZero() {
		return nil
	}
	return s.cfg.Triggers.SetTriggerNextRun(ctx, t.ID, next)
}

// dropTrigger deletes a trigger and its planned runs.
func (s *Service) dropTrigger(ctx context.Context, t model.Trigger) error {
	if err := s.cfg.Triggers.DeleteTrigger(ctx, t.ID); err != nil {
		return fmt.Errorf("delete trigger %s: %w", t.ID, err)
	}
	if err := s.cfg.Scheduler.Unplan(ctx, t); err != nil {
		return fmt.Errorf("drop the planned runs of trigger %s: %w", t.ID, err)
	}
	return nil
}

// checkDeployVars checks the names and values of a deploy's variables.
func checkDeployVars(vars map[string]string) error {
	if len(vars) > MaxVariables {
		return fmt.Errorf("%w: %d variables: an app has at most %d", model.ErrInvalid, len(vars), MaxVariables)
	}
	for name, value := range vars {
		if err := ValidateVariableName(name); err != nil {
			return err
		}
		if len(value) > MaxVariableBytes {
			return fmt.Errorf("%w: variable %s is %d bytes; the limit is %d", model.ErrInvalid, name, len(value), MaxVariableBytes)
		}
	}
	return nil
}

// deployVars makes the app's plain variables exactly vars (nil: left as
// they are). Secrets are neither changed nor opened; a name of one is
// refused.
func (s *Service) deployVars(ctx context.Context, appID string, vars map[string]string, plan *DeployPlan) error {
	if vars == nil {
		return nil
	}
	current, err := s.store.ListVariables(ctx, appID)
	if err != nil {
		return err
	}
	have := map[string]string{}
	secrets := 0
	for _, v := range current {
		if !v.Secret {
			have[v.Name] = v.Value
			continue
		}
		secrets++
		if _, ok := vars[v.Name]; ok {
			return fmt.Errorf("%w: variable %s is a secret of the app: a deploy sets plain variables only; "+
				"take it out of vars (list it in secrets), or delete the secret on the board first", model.ErrInvalid, v.Name)
		}
	}
	if secrets+len(vars) > MaxVariables {
		return fmt.Errorf("%w: an app has at most %d variables; it has %d secrets, and the deploy names %d plain ones", model.ErrInvalid, MaxVariables, secrets, len(vars))
	}
	for _, v := range current {
		if v.Secret {
			continue
		}
		if _, ok := vars[v.Name]; ok {
			continue
		}
		if err := s.store.DeleteVariable(ctx, appID, v.Name); err != nil {
			return err
		}
		plan.Changes = append(plan.Changes, DeployChange{Kind: "variable", Action: "delete", Name: v.Name})
	}
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		old, ok := have[name]
		if ok && old == vars[name] {
			plan.Changes = append(plan.Changes, DeployChange{Kind: "variable", Action: "unchanged", Name: name})
			continue
		}
		if _, _, err := s.store.PutVariable(ctx, model.Variable{AppID: appID, Name: name, Value: vars[name]}); err != nil {
			return err
		}
		action := "create"
		if ok {
			action = "update"
		}
		plan.Changes = append(plan.Changes, DeployChange{Kind: "variable", Action: action, Name: name})
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
