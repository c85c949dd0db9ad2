package orchestrator

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// TriggerInvoke is an execution started by another script's invoke.
const TriggerInvoke = "invoke"

// frame is what an execution's data calls know of it: the scripts of its
// invoke chain (itself last), when it must end and its request id.
type frame struct {
	chain     []string // script ids, the first caller first
	deadline  time.Time
	requestID string
}

type frameKey struct{}

// withFrame returns ctx carrying the frame of an execution of sc that
// must end by deadline, below the frame ctx carries (if any).
func withFrame(ctx context.Context, sc *model.Script, deadline time.Time, requestID string) context.Context {
	parent, _ := ctx.Value(frameKey{}).(*frame)
	f := &frame{deadline: deadline, requestID: requestID}
	if parent != nil {
		f.chain = slices.Clone(parent.chain)
		if parent.deadline.Before(deadline) {
			f.deadline = parent.deadline
		}
	}
	f.chain = append(f.chain, sc.ID)
	return context.WithValue(ctx, frameKey{}, f)
}

var _ engine.Invoker = (*Orchestrator)(nil)

// callerReserve is the most of its remaining wall time a caller keeps
// for itself when it invokes a script.
const callerReserve = 500 * time.Millisecond

// Invoke runs the script named script of app appID for the execution
// whose data call ctx is, and returns its response. The callee runs in
// its caller's execution slot, without taking another: the caller only
// waits for it, and a callee waiting for a slot that its own callers hold
// could wait forever. It gets what is left of its caller's wall time at
// most, less a tenth kept for the caller, and is recorded with trigger "invoke". A script of another app is
// not found, as a missing one is.
func (o *Orchestrator) Invoke(ctx context.Context, appID, script string, req engine.Request) (*engine.Response, error) {
	caller, _ := ctx.Value(frameKey{}).(*frame)
	if caller == nil {
		return nil, &engine.DataError{Code: engine.CodeDataUnavailable, Message: "invoke: the calling execution is unknown"}
	}
	snap, err := o.current(ctx)
	if err != nil {
		return nil, fmt.Errorf("invoke %q: %w", script, err)
	}
	sc := snap.scriptNamed(appID, script)
	if sc == nil {
		return nil, &engine.DataError{Code: engine.CodeInvokeNotFound, Message: fmt.Sprintf("invoke: no script named %q in this app", script)}
	}
	if err := checkChain(caller, sc, script); err != nil {
		return nil, err
	}
	// A tenth of what is left (at most callerReserve) stays the caller's:
	// the callee's limit falls before its caller's, which can still answer
	// when the callee runs out of time, rather than ending with it.
	left := time.Until(caller.deadline)
	left -= min(left/10, callerReserve)
	if left <= 0 {
		return nil, &engine.DataError{Code: engine.CodeInvokeDeadline, Message: fmt.Sprintf("invoke %q: the caller has no time left", script)}
	}
	req.Header = canonicalHeader(req.Header)
	// Those of a run of invoke.later are the daemon's to set.
	for _, h := range []string{engine.HeaderTrigger, engine.HeaderInvokeID, engine.HeaderAttempt} {
		delete(req.Header, h)
	}
	res := o.executeOne(engine.WithCallerSlot(ctx), snap, sc, nil, Call{RequestID: caller.requestID, Method: req.Method, Path: pathOf(req.URL),
		Request: req, Trigger: TriggerInvoke}, step{wall: left})
	if res.Error != nil {
		return nil, &engine.DataError{Code: engine.CodeInvokeFailed,
			Message: fmt.Sprintf("invoke %q: the script failed: %s: %s", script, res.Error.Code, res.Error.Message)}
	}
	if res.Response == nil {
		return &engine.Response{Status: http.StatusNoContent}, nil
	}
	return res.Response, nil
}

// checkChain refuses a call of sc that would make a cycle or a chain
// deeper than engine.MaxInvokeDepth.
func checkChain(caller *frame, sc *model.Script, name string) error {
	if slices.Contains(caller.chain, sc.ID) {
		return &engine.DataError{Code: engine.CodeInvokeCycle,
			Message: fmt.Sprintf("invoke %q: the script is already in this chain of invoke calls", name)}
	}
	if len(caller.chain) > engine.MaxInvokeDepth {
		return &engine.DataError{Code: engine.CodeInvokeDepth,
			Message: fmt.Sprintf("invoke %q: invoke calls may nest at most %d deep", name, engine.MaxInvokeDepth)}
	}
	return nil
}

// ScriptID is the id of the active script of app appID called name, as
// invoke finds it; false if there is none.
func (o *Orchestrator) ScriptID(ctx context.Context, appID, name string) (string, bool, error) {
	snap, err := o.current(ctx)
	if err != nil {
		return "", false, err
	}
	if sc := snap.scriptNamed(appID, name); sc != nil {
		return sc.ID, true, nil
	}
	return "", false, nil
}

// scriptNamed is the active script of app called name, nil if none.
func (s *snapshot) scriptNamed(appID, name string) *model.Script {
	for _, sc := range s.scripts {
		if sc.AppID == appID && sc.Name == name {
			return sc
		}
	}
	return nil
}

// canonicalHeader puts a header's names in canonical form.
func canonicalHeader(h engine.Header) engine.Header {
	out := make(engine.Header, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], vs...)
	}
	return out
}

// pathOf is the path of a URL for the log, "/" if it has none.
func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.EscapedPath() == "" {
		return "/"
	}
	return p.EscapedPath()
}
