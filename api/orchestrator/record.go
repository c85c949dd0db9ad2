package orchestrator

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// StatusOf is the HTTP status an execution result answers with.
func StatusOf(res *engine.Result) int {
	if res.Error == nil {
		if res.Response != nil {
			return res.Response.Status
		}
		return 204
	}
	switch res.Error.Code {
	case engine.CodeTimeLimit:
		return 504
	case engine.CodeCanceled:
		return 499 // the client went away; nobody reads it but the log
	case engine.CodeInternal, engine.CodeExecutorCrashed, engine.CodeExecutorRestarted:
		return 502
	case engine.CodeUnavailable:
		return 503
	default: // limit.memory, limit.stack, limit.output, script.*
		return 500
	}
}

// minRedacted is the shortest secret value redacted from logs: shorter
// ones would blot out ordinary words and numbers.
const minRedacted = 4

// redact replaces the values of an app's secrets in an execution's console
// output and error with [secret], so that they reach no log.
func redact(res *engine.Result, secrets []string) {
	// Longest first, so that a secret that contains another is replaced whole.
	sorted := slices.SortedFunc(slices.Values(secrets), func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, v := range sorted {
		if len(v) >= minRedacted {
			pairs = append(pairs, v, "[secret]")
		}
	}
	if len(pairs) == 0 {
		return
	}
	r := strings.NewReplacer(pairs...)
	for i := range res.Logs {
		res.Logs[i].Message = r.Replace(res.Logs[i].Message)
	}
	if e := res.Error; e != nil {
		e.Message, e.Stack = r.Replace(e.Message), r.Replace(e.Stack)
	}
}

func record(sc *model.Script, call Call, res *engine.Result) model.ExecutionRecord {
	rec := model.ExecutionRecord{
		AppID: sc.AppID, ScriptID: sc.ID, ScriptVersion: sc.ActiveVersion,
		RequestID: call.RequestID, Method: call.Request.Method, Path: call.Path,
		Status: StatusOf(res), DurationUS: res.Duration.Microseconds(), CreatedAt: time.Now().UTC(),
	}
	if len(res.Logs) > 0 {
		rec.Console, _ = json.Marshal(res.Logs)
	}
	if res.Error != nil {
		rec.ErrorCode = res.Error.Code
		rec.Error = res.Error.Message
	}
	return rec
}
