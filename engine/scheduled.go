package engine

import (
	"github.com/dop251/goja"
)

// runScheduled calls the default export's scheduled(controller, env, ctx)
// method, as Workers does for cron triggers, and awaits what it returns
// and its ctx.waitUntil promises. A scheduled run has no response.
func (e *execution) runScheduled(def goja.Value) *ExecError {
	return e.runNamed(def, "scheduled", "controller, env, ctx", func() (goja.Value, error) { return e.newController(), nil })
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
