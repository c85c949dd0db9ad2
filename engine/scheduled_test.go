package engine

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func scheduledAt(cron string, at time.Time) func(*Invocation) {
	return func(inv *Invocation) { inv.Scheduled = &Scheduled{Cron: cron, Time: at} }
}

func TestScheduledHandlerSeesItsController(t *testing.T) {
	at := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	res := run(t, `export default {
		fetch() { throw new Error("fetch must not run") },
		async scheduled(controller, env, ctx) {
			await null
			ctx.waitUntil(Promise.resolve())
			console.log(controller.type, controller.cron, controller.scheduledTime, typeof env)
		},
	}`, scheduledAt("*/5 * * * *", at))
	if res.Error != nil {
		t.Fatalf("error: %+v", res.Error)
	}
	if res.Response != nil || res.NoRetry {
		t.Errorf("a scheduled run answered %+v, noRetry %v", res.Response, res.NoRetry)
	}
	want := "scheduled */5 * * * * " + strconv.FormatInt(at.UnixMilli(), 10) + " object"
	if len(res.Logs) != 1 || res.Logs[0].Message != want {
		t.Errorf("logs %+v, want %q", res.Logs, want)
	}
}

func TestScheduledNoRetryTravelsWithTheFailure(t *testing.T) {
	res := run(t, `export default { scheduled(c) { c.noRetry(); throw new Error("boom") } }`,
		scheduledAt("@hourly", time.Now()))
	if res.Error == nil || res.Error.Code != CodeException || !res.NoRetry {
		t.Errorf("got error %+v, noRetry %v; want an exception with noRetry", res.Error, res.NoRetry)
	}
	res = run(t, `export default { scheduled(c) { throw new Error("boom") } }`, scheduledAt("@hourly", time.Now()))
	if res.Error == nil || res.NoRetry {
		t.Errorf("got error %+v, noRetry %v; want an exception to retry", res.Error, res.NoRetry)
	}
}

func TestScheduledWithoutHandler(t *testing.T) {
	for _, src := range []string{
		`export default { fetch() { return new Response("x") } }`,
		`export default function () { return new Response("x") }`,
	} {
		res := run(t, src, scheduledAt("@daily", time.Now()))
		if res.Error == nil || res.Error.Code != CodeNoHandler || !strings.Contains(res.Error.Message, "scheduled") {
			t.Errorf("%s: got %+v, want %s naming scheduled", src, res.Error, CodeNoHandler)
		}
	}
}
