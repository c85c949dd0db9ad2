package data

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/picloud/picloud/engine"
)

// LaterPlanner plans the runs of invoke.later; the job engine satisfies
// it, through the daemon.
type LaterPlanner interface {
	// InvokeLater plans a run of the script of app appID called script,
	// after delay, with body (JSON text), in the transaction ctx carries
	// if it carries one, and returns the run's id. A script of another
	// app, or none, is a DataError with engine.CodeInvokeNotFound.
	InvokeLater(ctx context.Context, appID, script, body string, delay time.Duration) (string, error)
}

// SetLaterPlanner lets scripts plan runs of other scripts of their app
// with invoke.later, through p (the job engine, built after the data
// service).
func (s *Service) SetLaterPlanner(p LaterPlanner) { s.later.Store(&p) }

// SetInvoker lets scripts invoke other scripts of their app through inv
// (the orchestrator, which is built after the data service).
func (s *Service) SetInvoker(inv engine.Invoker) { s.invoker.Store(&inv) }

// invokeArgs are the arguments of invoke: the request for the callee.
type invokeArgs struct {
	Request engine.Request `json:"request"`
}

// invoke answers invoke: it runs the script named by the call's
// collection, in appID, and returns its response as JSON.
func (s *Service) invoke(ctx context.Context, appID string, call engine.DataCall) (any, error) {
	p := s.invoker.Load()
	if p == nil {
		return nil, &engine.DataError{Code: engine.CodeDataUnavailable, Message: "invoke: this executor cannot run other scripts"}
	}
	if err := checkName("a script name", call.Collection, MaxNameBytes); err != nil {
		return nil, err
	}
	var a invokeArgs
	if err := decodeArgs(call, &a); err != nil {
		return nil, err
	}
	if a.Request.Method == "" || a.Request.URL == "" {
		return nil, invalid("invoke: the request needs a method and a URL")
	}
	resp, err := (*p).Invoke(ctx, appID, call.Collection, a.Request)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// invokeLaterArgs are the arguments of invoke.later.
type invokeLaterArgs struct {
	Body         json.RawMessage `json:"body"`
	DelaySeconds float64         `json:"delaySeconds"`
}

// invokeLater answers invoke.later: it plans a run of the script named by
// the call's collection, in appID, with the body (the JSON text of the
// script's value, bounded as a queue message is) after the delay, and
// returns its id.
func (s *Service) invokeLater(ctx context.Context, appID string, call engine.DataCall) (any, error) {
	p := s.later.Load()
	if p == nil {
		return nil, &engine.DataError{Code: engine.CodeDataUnavailable, Message: "invoke.later: this executor cannot plan runs of scripts"}
	}
	if err := checkName("a script name", call.Collection, MaxNameBytes); err != nil {
		return nil, err
	}
	var a invokeLaterArgs
	if err := decodeArgs(call, &a); err != nil {
		return nil, err
	}
	var body string
	if err := json.Unmarshal(a.Body, &body); err != nil || !json.Valid([]byte(body)) {
		return nil, invalid("invoke.later: the body must be the JSON text of a value")
	}
	if limit := s.maxMessageBytes(); len(body) > limit {
		return nil, tooLarge("invoke.later(%q): the body is %d bytes as JSON, over the %d it may have", call.Collection, len(body), limit)
	}
	maxDelay := engine.MaxInvokeLaterDelay.Seconds()
	if math.IsNaN(a.DelaySeconds) || a.DelaySeconds < 0 || a.DelaySeconds > maxDelay {
		return nil, invalid("invoke.later: delaySeconds must be between 0 and %d (7 days)", int(maxDelay))
	}
	id, err := (*p).InvokeLater(ctx, appID, call.Collection, body, time.Duration(a.DelaySeconds*float64(time.Second)))
	if err != nil {
		return nil, err
	}
	return map[string]string{"id": id}, nil
}
