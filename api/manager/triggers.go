package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/schedule"
)

// Limits of triggers.
const (
	MaxTriggersPerScript = 20
	MaxCronRetries       = 10
	DefaultCronRetries   = 3
)

// TriggerTypes are the trigger types the manager accepts.
var TriggerTypes = []string{model.TriggerCron, model.TriggerQueue, model.TriggerEmail}

// ErrNoScheduler means the daemon was built without a job engine.
var ErrNoScheduler = errors.New("triggers are not available: the daemon has no job engine")

// TriggerStore holds scripts' triggers.
type TriggerStore interface {
	InsertTrigger(ctx context.Context, t model.Trigger) (model.Trigger, error)
	TriggerByID(ctx context.Context, id string) (model.Trigger, error)
	ListTriggers(ctx context.Context, scriptID string) ([]model.Trigger, error)
	DeleteTrigger(ctx context.Context, id string) error
	SetTriggerNextRun(ctx context.Context, id string, next time.Time) error
}

// Scheduler plans the runs of triggers in the job engine, each call in the
// transaction of its context, so that a trigger and its jobs are written
// together or not at all.
type Scheduler interface {
	// Plan schedules the trigger's first run and returns when it is.
	Plan(ctx context.Context, t model.Trigger) (time.Time, error)
	// RunNow schedules one run of the trigger now, besides its schedule.
	RunNow(ctx context.Context, t model.Trigger) error
	// Unplan removes the trigger's runs that have not started.
	Unplan(ctx context.Context, t model.Trigger) error
}

// Triggers lists a script's triggers, oldest first.
func (s *Service) Triggers(ctx context.Context, scriptID string) ([]model.Trigger, error) {
	if s.cfg.Triggers == nil {
		return nil, ErrNoScheduler
	}
	if _, err := s.store.ScriptByID(ctx, scriptID); err != nil {
		return nil, err
	}
	return s.cfg.Triggers.ListTriggers(ctx, scriptID)
}

// Trigger returns one trigger.
func (s *Service) Trigger(ctx context.Context, id string) (model.Trigger, error) {
	if s.cfg.Triggers == nil {
		return model.Trigger{}, ErrNoScheduler
	}
	return s.cfg.Triggers.TriggerByID(ctx, id)
}

// CreateTrigger adds a trigger of type typ to a script, with the settings
// of that type in config (a JSON object), and plans its first run.
func (s *Service) CreateTrigger(ctx context.Context, a model.Actor, scriptID, typ string, config json.RawMessage) (model.Trigger, error) {
	if s.cfg.Triggers == nil || s.cfg.Scheduler == nil {
		return model.Trigger{}, ErrNoScheduler
	}
	normal, err := s.checkTriggerConfig(typ, config)
	if err != nil {
		return model.Trigger{}, err
	}
	var out model.Trigger
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		sc, err := s.store.ScriptByID(ctx, scriptID)
		if err != nil {
			return err
		}
		existing, err := s.cfg.Triggers.ListTriggers(ctx, scriptID)
		if err != nil {
			return err
		}
		if len(existing) >= MaxTriggersPerScript {
			return fmt.Errorf("%w: a script has at most %d triggers", model.ErrInvalid, MaxTriggersPerScript)
		}
		var ec model.EmailConfig
		if typ == model.TriggerEmail {
			_ = json.Unmarshal(normal, &ec)
			if err := s.checkEmailAddress(ctx, sc.AppID, ec); err != nil {
				return err
			}
		}
		out, err = s.cfg.Triggers.InsertTrigger(ctx, model.Trigger{AppID: sc.AppID, ScriptID: sc.ID, Type: typ, Config: normal})
		if typ == model.TriggerEmail && errors.Is(err, model.ErrConflict) {
			return fmt.Errorf("%w: address %s is already claimed by another email trigger", model.ErrConflict, ec.Address)
		}
		if err != nil {
			return err
		}
		next, err := s.cfg.Scheduler.Plan(ctx, out)
		if err != nil {
			return fmt.Errorf("plan the first run: %w", err)
		}
		if !next.IsZero() {
			if err := s.cfg.Triggers.SetTriggerNextRun(ctx, out.ID, next); err != nil {
				return err
			}
			out.NextRunAt = &next
		}
		return s.audit(ctx, a, "trigger.create", sc.AppID, out.ID,
			map[string]any{"script_id": sc.ID, "type": typ, "config": json.RawMessage(normal)})
	})
	if err != nil {
		return model.Trigger{}, err
	}
	s.log.Info("trigger created", "trigger", out.ID, "script", scriptID, "type", typ, "user", a.Username)
	return out, nil
}

// DeleteTrigger removes a trigger; its runs that have not started are
// dropped, a run in progress finishes.
func (s *Service) DeleteTrigger(ctx context.Context, a model.Actor, id string) error {
	if s.cfg.Triggers == nil || s.cfg.Scheduler == nil {
		return ErrNoScheduler
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		t, err := s.cfg.Triggers.TriggerByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.cfg.Triggers.DeleteTrigger(ctx, id); err != nil {
			return err
		}
		if err := s.cfg.Scheduler.Unplan(ctx, t); err != nil {
			return fmt.Errorf("drop the planned runs: %w", err)
		}
		return s.audit(ctx, a, "trigger.delete", t.AppID, id, map[string]any{"script_id": t.ScriptID, "type": t.Type})
	})
	if err != nil {
		return err
	}
	s.log.Info("trigger deleted", "trigger", id, "user", a.Username)
	return nil
}

// RunTrigger runs a trigger once now, besides its schedule ("run now").
func (s *Service) RunTrigger(ctx context.Context, a model.Actor, id string) error {
	if s.cfg.Triggers == nil || s.cfg.Scheduler == nil {
		return ErrNoScheduler
	}
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		t, err := s.cfg.Triggers.TriggerByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.cfg.Scheduler.RunNow(ctx, t); err != nil {
			return fmt.Errorf("schedule a run now: %w", err)
		}
		return s.audit(ctx, a, "trigger.run", t.AppID, id, map[string]any{"script_id": t.ScriptID})
	})
}

// checkTriggerConfig validates a trigger's settings and returns them in
// their stored form, defaults filled in.
func (s *Service) checkTriggerConfig(typ string, config json.RawMessage) (json.RawMessage, error) {
	switch typ {
	case model.TriggerCron:
		c, err := ParseCronConfig(config, s.cfg.CronSeconds)
		if err != nil {
			return nil, err
		}
		return json.Marshal(c)
	case model.TriggerQueue:
		c, err := ParseQueueConfig(config)
		if err != nil {
			return nil, err
		}
		return json.Marshal(c)
	case model.TriggerEmail:
		c, err := ParseEmailConfig(config)
		if err != nil {
			return nil, err
		}
		return json.Marshal(c)
	case "":
		return nil, fmt.Errorf("%w: the trigger has no type; known types: %v", model.ErrInvalid, TriggerTypes)
	default:
		if !slices.Contains(TriggerTypes, typ) {
			return nil, fmt.Errorf("%w: unknown trigger type %q; known types: %v", model.ErrInvalid, typ, TriggerTypes)
		}
		return nil, fmt.Errorf("%w: trigger type %q is not supported yet", model.ErrInvalid, typ)
	}
}

// ParseCronConfig reads and checks a cron trigger's settings: unknown
// fields, a schedule that does not parse, an unknown time zone or misfire
// policy and retries out of range are refused, naming the problem.
// withSeconds accepts a leading seconds field (tests only).
func ParseCronConfig(raw json.RawMessage, withSeconds bool) (model.CronConfig, error) {
	var in struct {
		Schedule   *string `json:"schedule"`
		Timezone   string  `json:"timezone"`
		Misfire    string  `json:"misfire"`
		MaxRetries *int    `json:"max_retries"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return model.CronConfig{}, fmt.Errorf("%w: cron trigger: %v", model.ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return model.CronConfig{}, fmt.Errorf("%w: cron trigger: more than one JSON value", model.ErrInvalid)
	}
	if in.Schedule == nil {
		return model.CronConfig{}, fmt.Errorf("%w: a cron trigger needs a schedule, such as \"*/5 * * * *\" or \"@daily\"", model.ErrInvalid)
	}
	c := model.CronConfig{Schedule: *in.Schedule, Timezone: in.Timezone, Misfire: in.Misfire, MaxRetries: DefaultCronRetries}
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	parse := schedule.Parse
	if withSeconds {
		parse = schedule.ParseWithSeconds
	}
	if _, err := parse(c.Schedule, c.Timezone); err != nil {
		return model.CronConfig{}, fmt.Errorf("%w: %v", model.ErrInvalid, err)
	}
	switch schedule.Misfire(c.Misfire) {
	case "":
		c.Misfire = string(schedule.RunOnce)
	case schedule.RunOnce, schedule.Skip:
	default:
		return model.CronConfig{}, fmt.Errorf("%w: misfire %q: it is %q or %q", model.ErrInvalid, c.Misfire, schedule.RunOnce, schedule.Skip)
	}
	if in.MaxRetries != nil {
		if *in.MaxRetries < 0 || *in.MaxRetries > MaxCronRetries {
			return model.CronConfig{}, fmt.Errorf("%w: max_retries is %d: it is between 0 and %d", model.ErrInvalid, *in.MaxRetries, MaxCronRetries)
		}
		c.MaxRetries = *in.MaxRetries
	}
	return c, nil
}
