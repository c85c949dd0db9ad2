package engine

import (
	"github.com/dop251/goja"
)

// namedHandler finds the method name of the default export, the handler
// of a trigger other than a request (scheduled, queue, intercept); args is
// its parameters, for the error that says how to write one.
func namedHandler(def goja.Value, name, args string) (goja.Callable, *goja.Object, *ExecError) {
	if obj, ok := def.(*goja.Object); ok {
		if fn, ok := goja.AssertFunction(obj.Get(name)); ok {
			return fn, obj, nil
		}
	}
	return nil, nil, &ExecError{Code: CodeNoHandler, Message: "the default export has no " + name + " handler: " +
		"export default { async " + name + "(" + args + ") { ... } }"}
}

// runScheduled calls the default export's scheduled(controller, env, ctx)
// method, as Workers does for cron triggers, and awaits what it returns
// and its ctx.waitUntil promises. A scheduled run has no response.
func (e *execution) runScheduled(def goja.Value) *ExecError {
	fn, obj, xe := namedHandler(def, "scheduled", "controller, env, ctx")
	if xe != nil {
		return xe
	}
	ret, err := fn(obj, e.newController(), e.newEnv(), e.newContextObject())
	if err != nil {
		return e.jsError(err)
	}
	if _, xe := e.await(ret); xe != nil {
		return xe
	}
	e.settleWaitUntil()
	return nil
}

// newController builds the scheduled handler's controller: the schedule
// (cron), the run's slot in milliseconds since the epoch (scheduledTime),
// and noRetry(), which keeps a failure of this run from being retried.
func (e *execution) newController() goja.Value {
	s := e.inv.Scheduled
	c := e.r.NewObject()
	_ = c.Set("type", "scheduled")
	_ = c.Set("cron", s.Cron)
	_ = c.Set("scheduledTime", s.Time.UnixMilli())
	_ = c.Set("noRetry", func(goja.FunctionCall) goja.Value {
		e.noRetry = true
		return goja.Undefined()
	})
	return c
}
