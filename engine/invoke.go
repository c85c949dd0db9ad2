package engine

import (
	"context"
	"time"

	"github.com/dop251/goja"
)

// MaxInvokeDepth is how deep invoke calls may nest: a script started by
// a request may invoke another, which may invoke another, up to this many
// scripts below the first.
const MaxInvokeDepth = 8

// Codes of failed invoke calls.
const (
	CodeInvokeNotFound = "invoke.not_found" // no script of that name in the caller's app
	CodeInvokeCycle    = "invoke.cycle"     // the script is already in the chain of invoke calls
	CodeInvokeDepth    = "invoke.depth"     // the chain would be deeper than MaxInvokeDepth
	CodeInvokeDeadline = "invoke.deadline"  // the caller has no time left to give the callee
	CodeInvokeFailed   = "invoke.failed"    // the callee failed (threw, or passed a limit)
)

// MaxInvokeLaterDelay is the longest delaySeconds of invoke.later: 7 days.
const MaxInvokeLaterDelay = 7 * 24 * time.Hour

// InvokeLaterURL is the URL of the request a run of invoke.later gets.
const InvokeLaterURL = "http://invoke.local/"

// Headers of the request a run of invoke.later gets. The daemon removes
// them from public HTTP requests, so that a script can trust them.
const (
	HeaderTrigger  = "X-Picloud-Trigger"   // "invoke"
	HeaderInvokeID = "X-Picloud-Invoke-Id" // the id invoke.later returned
	HeaderAttempt  = "X-Picloud-Attempt"   // 1, then 2, … on retries
)

// Invoker runs another script of the calling execution's app by name, as
// the SDK's invoke does, and returns its response. Errors the script
// should see are DataErrors with the codes above. ctx is the calling
// execution's data call context: it carries what the host knows of the
// calling chain.
type Invoker interface {
	Invoke(ctx context.Context, appID, script string, req Request) (*Response, error)
}

// inCallerKey marks the context of an execution that runs in its
// caller's execution slot.
type inCallerKey struct{}

// WithCallerSlot returns ctx marking an execution that runs in the slot of
// the execution that invoked it: the caller holds the slot and only waits
// for it, so an executor must not make it wait for a slot of its own
// (with every slot held by callers, none would come).
func WithCallerSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, inCallerKey{}, true)
}

// InCallerSlot reports whether ctx marks an execution that runs in its
// caller's slot (WithCallerSlot).
func InCallerSlot(ctx context.Context) bool {
	b, _ := ctx.Value(inCallerKey{}).(bool)
	return b
}

// jsCountSubrequest counts an invoke call against the execution's
// subrequest limit, shared with fetch; past the limit it throws.
func (e *execution) jsCountSubrequest(goja.FunctionCall) goja.Value {
	e.subrequests++
	if e.subrequests > e.lim.MaxSubrequests {
		e.limit(CodeSubrequestLimit, "the script made more than its subrequest limit of fetch and invoke calls")
		e.throw("TypeError", "invoke: subrequest limit reached")
	}
	return goja.Undefined()
}
