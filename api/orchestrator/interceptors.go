package orchestrator

import (
	"context"
	"fmt"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/routing"
	"github.com/picloud/picloud/engine"
)

// InterceptorSource is what a Source offers when apps' routes may have
// interceptors; a Source without it has none.
type InterceptorSource interface {
	ListInterceptors(ctx context.Context, appID string) ([]model.Interceptor, error)
}

// Interceptor is an interceptor in a request's chain: its script runs
// before the route's. Script is nil when the snapshot has no active
// version of ScriptID: the chain then fails closed.
type Interceptor struct {
	ID       string
	Path     string
	Order    int
	ScriptID string
	Script   *model.Script
}

// compiledInterceptor is an interceptor of the snapshot, with its pattern
// compiled into a table of one route.
type compiledInterceptor struct {
	model.Interceptor
	table *routing.Table
}

// loadInterceptors compiles every app's interceptors into s, in the order
// they run.
func (o *Orchestrator) loadInterceptors(ctx context.Context, s *snapshot) error {
	src, ok := o.src.(InterceptorSource)
	if !ok {
		return nil
	}
	all, err := src.ListInterceptors(ctx, "")
	if err != nil {
		return fmt.Errorf("load interceptors: %w", err)
	}
	s.interceptors = map[string][]compiledInterceptor{}
	for _, i := range all {
		p, err := routing.ParsePattern(i.Path)
		if err == nil {
			var t *routing.Table
			if t, err = routing.NewTable([]routing.Route{{ID: i.ID, Method: "*", Pattern: p}}); err == nil {
				s.interceptors[i.AppID] = append(s.interceptors[i.AppID], compiledInterceptor{Interceptor: i, table: t})
				continue
			}
		}
		o.log.Error("skipping stored interceptor that no longer compiles", "interceptor", i.ID, "path", i.Path, "err", err)
	}
	return nil
}

// Intercepted reports whether app has interceptors: its scripts are then
// not run by id for anonymous callers, who would pass its guards by.
func (o *Orchestrator) Intercepted(ctx context.Context, appID string) (bool, error) {
	s, err := o.current(ctx)
	if err != nil {
		return false, err
	}
	return len(s.interceptors[appID]) > 0, nil
}

// chain is the interceptors of app whose pattern matches path, in order.
func (s *snapshot) chain(appID, method, path string) []Interceptor {
	var out []Interceptor
	for _, ci := range s.interceptors[appID] {
		if _, _, ok := ci.table.Match(method, path); ok {
			out = append(out, Interceptor{ID: ci.ID, Path: ci.Path, Order: ci.Order, ScriptID: ci.ScriptID, Script: s.scripts[ci.ScriptID]})
		}
	}
	return out
}

// runChain runs target's interceptors, then its script, one execution
// after another within one wall-time budget: the route's script's. An
// interceptor that answers ends the chain with its answer; one that fails
// ends it with its error, named, and the route's script never runs.
func (o *Orchestrator) runChain(ctx context.Context, snap *snapshot, target Target, call Call) *engine.Result {
	budget := o.limitsFor(target.Script).WallTime
	if budget <= 0 {
		budget = engine.DefaultWallTime // what the engine gives a zero limit
	}
	deadline := time.Now().Add(budget)
	var data []byte
	for _, ic := range target.Interceptors {
		left := time.Until(deadline)
		if left <= 0 {
			return budgetSpent(budget)
		}
		if ic.Script == nil {
			// A guard that cannot run lets nothing through.
			return &engine.Result{Error: &engine.ExecError{Code: engine.CodeUnavailable,
				Message: fmt.Sprintf("interceptor %s: its script %s has no active version", ic.ID, ic.ScriptID)}}
		}
		res := o.executeOne(ctx, snap, ic.Script, target.Params, call, step{intercept: true, data: data, wall: left})
		if res.Error != nil {
			res.Error.Message = fmt.Sprintf("interceptor %q (script %s) failed: %s", ic.Script.Name, ic.Script.ID, res.Error.Message)
			return res
		}
		if res.Next == nil {
			return res // it answered
		}
		if res.Next.Request != nil {
			call.Request = *res.Next.Request
		}
		data = res.Next.Data
	}
	left := time.Until(deadline)
	if left <= 0 {
		return budgetSpent(budget)
	}
	return o.executeOne(ctx, snap, target.Script, target.Params, call, step{data: data, wall: left})
}

// budgetSpent is the result of a chain whose interceptors used all its
// wall time.
func budgetSpent(budget time.Duration) *engine.Result {
	return &engine.Result{Error: &engine.ExecError{Code: engine.CodeTimeLimit,
		Message: fmt.Sprintf("the interceptors used the whole %s wall time of the request", budget)}}
}

// step is how one execution of a chain runs: as an interceptor or not,
// with ctx.data and at most wall time.
type step struct {
	intercept bool
	data      []byte
	wall      time.Duration // 0: the script's own limit
}
