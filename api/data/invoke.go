package data

import (
	"context"

	"github.com/picloud/picloud/engine"
)

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
