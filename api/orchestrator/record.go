package orchestrator

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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

// secretRedactor replaces the values of an app's secrets with [secret];
// longest is the length of the longest.
type secretRedactor struct {
	r       *strings.Replacer
	longest int
}

// redactor is the redactor of an app's secrets; nil when there are none
// to replace.
func redactor(secrets []string) *secretRedactor {
	// Longest first, so that a secret that contains another is replaced whole.
	sorted := slices.SortedFunc(slices.Values(secrets), func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, v := range sorted {
		if len(v) >= minRedacted {
			pairs = append(pairs, v, "[secret]")
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return &secretRedactor{r: strings.NewReplacer(pairs...), longest: len(sorted[0])}
}

// redact replaces the values of an app's secrets (r, from redactor) in an
// execution's console output and error, so that they reach no log.
func redact(res *engine.Result, sr *secretRedactor) {
	if sr == nil {
		return
	}
	r := sr.r
	for i := range res.Logs {
		res.Logs[i].Message = r.Replace(res.Logs[i].Message)
	}
	if e := res.Error; e != nil {
		e.Message, e.Stack = r.Replace(e.Message), r.Replace(e.Stack)
	}
}

// preview is the start of a response for the log: at most maxBytes of its
// body, cut at a character's boundary, with secrets redacted (sr may be
// nil). The body is redacted before it is cut, so that no secret's start
// is left at the edge. The response itself, which the caller gets, is
// left as it is.
func preview(resp *engine.Response, maxBytes int, sr *secretRedactor) *model.ResponsePreview {
	if resp == nil || maxBytes <= 0 {
		return nil
	}
	body, cut := resp.Body, false
	if sr != nil {
		// Enough to hold a secret that begins before maxBytes whole.
		if limit := maxBytes + sr.longest; len(body) > limit {
			body, cut = body[:limit], true
		}
		body = []byte(sr.r.Replace(string(body)))
	}
	if len(body) > maxBytes {
		body, cut = body[:maxBytes], true
		// A character cut at the edge goes whole.
		if i := lastRuneStart(body); !utf8.FullRune(body[i:]) {
			body = body[:i]
		}
	}
	p := &model.ResponsePreview{Body: strings.ToValidUTF8(string(body), "\uFFFD"), Size: len(resp.Body), Cut: cut}
	if len(resp.Header) > 0 {
		p.Headers = make(map[string][]string, len(resp.Header))
		for k, vs := range resp.Header {
			vs = append([]string(nil), vs...)
			if sr != nil {
				for i := range vs {
					vs[i] = sr.r.Replace(vs[i])
				}
			}
			p.Headers[k] = vs
		}
	}
	return p
}

// lastRuneStart is the index of the first byte of b's last character.
func lastRuneStart(b []byte) int {
	i := len(b) - 1
	for i > 0 && !utf8.RuneStart(b[i]) {
		i--
	}
	return i
}

func record(sc *model.Script, call Call, res *engine.Result, previewBytes int, secrets *secretRedactor) model.ExecutionRecord {
	rec := model.ExecutionRecord{
		AppID: sc.AppID, ScriptID: sc.ID, ScriptVersion: sc.ActiveVersion,
		RequestID: call.RequestID, Method: call.Method, Path: call.Path, Trigger: call.Trigger,
		Status: StatusOf(res), DurationUS: res.Duration.Microseconds(), CreatedAt: time.Now().UTC(),
	}
	if rec.Method == "" {
		rec.Method = call.Request.Method
	}
	if rec.Trigger == "" {
		rec.Trigger = TriggerHTTP
	}
	if call.Scheduled != nil {
		started := rec.CreatedAt.Add(-res.Duration)
		rec.CronLag = max(started.Sub(call.Scheduled.Time), 0)
	}
	if len(res.Logs) > 0 {
		rec.Console, _ = json.Marshal(res.Logs)
	}
	if res.Error != nil {
		rec.ErrorCode = res.Error.Code
		rec.Error = res.Error.Message
		rec.ErrorLine, rec.ErrorColumn = res.Error.Line, res.Error.Column
	}
	rec.Response = preview(res.Response, previewBytes, secrets)
	return rec
}
