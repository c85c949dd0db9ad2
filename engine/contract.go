// Package engine runs PiCloud scripts: it turns ES-module JavaScript or
// TypeScript into a goja program once per version and runs the Workers-style
// handler contract in a fresh runtime per execution, under limits.
//
// The engine knows nothing of HTTP servers or storage: requests arrive as
// plain values and results leave as plain values, so that an executor can run
// in another process or on another node without changing its callers.
package engine

import (
	"context"
	"time"
)

// Language is the source language of a script.
type Language string

// Supported languages.
const (
	JavaScript Language = "js"
	TypeScript Language = "ts"
)

// Header is an ordered multi-valued header list, keys in canonical form.
type Header map[string][]string

// Request is the HTTP request handed to a script, free of any server type.
type Request struct {
	Method string `json:"method"`
	URL    string `json:"url"` // absolute, e.g. http://pi.local:8080/users/7?x=1
	Header Header `json:"header"`
	Body   []byte `json:"body"`
}

// Response is what a script answered.
type Response struct {
	Status int    `json:"status"`
	Header Header `json:"header"`
	Body   []byte `json:"body"`
}

// Limits bound one execution. Zero values mean the engine defaults. Each
// one, when passed, ends the execution with its own error code. Memory is
// bounded per executor worker, not per execution (see docs/executors.md).
type Limits struct {
	WallTime         time.Duration `json:"wall_time"`          // limit.time
	MaxResponseBytes int           `json:"max_response_bytes"` // limit.output
	MaxConsoleBytes  int           `json:"max_console_bytes"`  // limit.console
	MaxCallDepth     int           `json:"max_call_depth"`     // limit.stack: nested JavaScript calls
	MaxTimers        int           `json:"max_timers"`         // limit.timers: setTimeout/setInterval calls
	MaxSubrequests   int           `json:"max_subrequests"`    // limit.subrequests: fetch and invoke calls
	MaxDataCalls     int           `json:"max_data_calls"`     // limit.data_calls: kv (and later docs) calls
}

// Invocation is one call of one script version.
type Invocation struct {
	// AppID is the app the script belongs to, set by the orchestrator: the
	// data service keeps each app's data apart by it, never by anything
	// the script passes.
	AppID      string            `json:"app_id"`
	ScriptID   string            `json:"script_id"`
	ScriptName string            `json:"script_name"`
	Version    int               `json:"version"`
	Code       string            `json:"code"` // output of Transpile for this version
	Request    Request           `json:"request"`
	Params     map[string]string `json:"params"` // route (and later domain) parameters
	Env        map[string]string `json:"env"`    // app variables
	Limits     Limits            `json:"limits"`
	// Scheduled, when set, makes this a cron trigger's run: the script's
	// scheduled handler is called instead of fetch, and Request is unused.
	Scheduled *Scheduled `json:"scheduled,omitempty"`
	// Intercept, when set, makes this a run of an interceptor: the
	// script's intercept handler is called instead of fetch, and either
	// answers the request or passes it on (Result.Next).
	Intercept bool `json:"intercept,omitempty"`
	// Data is ctx.data as JSON: what the interceptors before this script
	// passed on; nil is an empty object.
	Data []byte `json:"data,omitempty"`
	// Queue, when set, makes this a queue trigger's delivery: the
	// script's queue handler is called with the batch instead of fetch.
	Queue *QueueBatch `json:"queue,omitempty"`
	// Email, when set, makes this an email trigger's delivery: the
	// script's email handler is called with the message instead of fetch.
	Email *EmailMessage `json:"email,omitempty"`
	// Replay, when set, makes this the replay of a captured request
	// against a version not yet live: nothing of it may leave the board.
	// fetch, and the data calls that reach out (invoke, email.send), stop
	// the execution with CodeReplayRefused; the data service runs its
	// other data calls in a transaction that it always rolls back.
	Replay bool `json:"replay,omitempty"`
}

// EmailMessage is a received message delivered to an email handler.
type EmailMessage struct {
	ID   string `json:"id"`   // its row in the inbox, for forward()
	From string `json:"from"` // the envelope sender; "" for a bounce
	To   string `json:"to"`   // the envelope recipient the trigger claims
	Raw  []byte `json:"raw"`  // the whole message, as received
}

// Next is what an interceptor passes on to the next script of the chain.
type Next struct {
	// Request replaces the request for the next script (ctx.next(request));
	// nil keeps it.
	Request *Request `json:"request,omitempty"`
	// Data is ctx.data as JSON, for the next script.
	Data []byte `json:"data,omitempty"`
}

// QueueBatch is a batch of messages delivered to a queue handler.
type QueueBatch struct {
	Queue    string         `json:"queue"`
	Messages []QueueMessage `json:"messages"`
}

// QueueMessage is one delivered message, as the handler sees it.
type QueueMessage struct {
	ID        string    `json:"id"`
	Body      string    `json:"body"` // JSON text
	Attempts  int       `json:"attempts"`
	Timestamp time.Time `json:"timestamp"` // when it was sent
}

// QueueAck is what a queue handler said of one message: ack() (Ack), or
// retry() (Retry, with its delay in seconds, -1 for the trigger's). The
// last call for a message counts.
type QueueAck struct {
	ID           string `json:"id"`
	Ack          bool   `json:"ack,omitempty"`
	Retry        bool   `json:"retry,omitempty"`
	DelaySeconds int    `json:"delay_seconds,omitempty"`
}

// Scheduled describes one run of a cron trigger, as the scheduled
// handler's controller shows it.
type Scheduled struct {
	Cron string    `json:"cron"` // the trigger's schedule, as written
	Time time.Time `json:"time"` // the slot this run is for
}

// LogLine is one console call made by a script.
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"` // debug, info, warn, error
	Message string    `json:"message"`
}

// Error codes of failed executions.
const (
	CodeException       = "script.exception"        // the script threw or rejected
	CodeInvalidResponse = "script.invalid_response" // the handler returned something unusable
	CodeNoHandler       = "script.no_handler"       // no default export to call
	CodeTimeLimit       = "limit.time"              // wall time exceeded
	CodeOutputLimit     = "limit.output"            // response body too large
	CodeConsoleLimit    = "limit.console"           // console output past its cap
	CodeTimersLimit     = "limit.timers"            // too many timers created
	CodeSubrequestLimit = "limit.subrequests"       // too many fetch and invoke calls
	CodeDataCallsLimit  = "limit.data_calls"        // too many data (kv) calls
	CodeInternal        = "engine.internal"         // the engine failed, not the script
	CodeCanceled        = "execution.canceled"      // the caller's context was canceled (client gone)
	// CodeReplayRefused: a replay (Invocation.Replay) tried to reach
	// outside the board (fetch, invoke, email), which replays may not.
	CodeReplayRefused = "replay.refused"

	// Codes set by the supervisor of executor worker processes.
	CodeMemoryLimit       = "limit.memory"         // the worker passed its memory ceiling and was killed
	CodeStackLimit        = "limit.stack"          // calls nested too deep (or the worker overflowed its Go stack and died)
	CodeExecutorCrashed   = "executor.crashed"     // the worker died by itself during the execution
	CodeExecutorRestarted = "executor.restarted"   // the worker was killed for another execution's limit
	CodeUnavailable       = "executor.unavailable" // no worker could take the execution in time
)

// ExecError says why an execution failed and where in the script's source.
type ExecError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`   // 1-based line in the original source, 0 if unknown
	Column  int    `json:"column,omitempty"` // 1-based column, 0 if unknown
	Stack   string `json:"stack,omitempty"`
}

func (e *ExecError) Error() string { return e.Code + ": " + e.Message }

// Result is the outcome of one execution: a response, or an error, and the
// console output either way.
type Result struct {
	Response *Response     `json:"response,omitempty"`
	Error    *ExecError    `json:"error,omitempty"`
	Logs     []LogLine     `json:"logs"`
	Duration time.Duration `json:"duration"`
	// NoRetry is set when a scheduled handler called controller.noRetry():
	// a failure of this run is not retried.
	NoRetry bool `json:"no_retry,omitempty"`
	// Next is set when an interceptor passed the request on instead of
	// answering it (Response is then nil).
	Next *Next `json:"next,omitempty"`
	// QueueAcks are the ack() and retry() calls of a queue handler, one
	// per message it settled explicitly.
	QueueAcks []QueueAck `json:"queue_acks,omitempty"`
	// Rejected is set when an email handler called
	// message.setReject(reason), with RejectReason.
	Rejected     bool   `json:"rejected,omitempty"`
	RejectReason string `json:"reject_reason,omitempty"`
}

// Executor runs invocations. The orchestrator depends on this interface only:
// the implementation may be in process, a supervised worker process or a
// remote node.
type Executor interface {
	Execute(ctx context.Context, inv *Invocation) (*Result, error)
}

// CompileError is a syntax or compile error at a place in the source.
type CompileError struct {
	Message string `json:"error"`
	Line    int    `json:"line"`   // 1-based
	Column  int    `json:"column"` // 1-based
}

func (e *CompileError) Error() string { return e.Message }

// clientKey marks the address of the client whose request an execution
// answers, in the context of the execution.
type clientKey struct{}

// WithClientAddress returns ctx carrying the address of the client whose
// request the execution answers. The data service reads it with
// ClientAddress, for throttling (users.verify); the script never sees it.
func WithClientAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

// replayKey marks the context of a replay's execution.
type replayKey struct{}

// WithReplay returns ctx marked as the context of a replay
// (Invocation.Replay): the data service opens the execution's scope
// as a replay's, in a transaction that is always rolled back.
func WithReplay(ctx context.Context) context.Context {
	return context.WithValue(ctx, replayKey{}, true)
}

// IsReplay reports whether ctx is marked by WithReplay.
func IsReplay(ctx context.Context) bool {
	b, _ := ctx.Value(replayKey{}).(bool)
	return b
}

// ClientAddress is the client address ctx carries, "" for none (a cron
// run, or the execute endpoint).
func ClientAddress(ctx context.Context) string {
	s, _ := ctx.Value(clientKey{}).(string)
	return s
}
