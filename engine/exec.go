package engine

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// execution is one run of one invocation in its own goja runtime. It is
// used by one goroutine only; the context watcher only interrupts.
type execution struct {
	x    *InProcess
	inv  *Invocation
	lim  Limits
	r    *goja.Runtime
	prog *program

	// done is closed when the execution must stop: the wall time passed or
	// the caller's context ended; cause says which, once done is closed.
	done     chan struct{}
	stopOnce sync.Once
	cause    error

	// outbound tells the data service, once, that an outbound call is
	// about to leave (see OutboundNoticer); outboundErr is its answer.
	outbound    sync.Once
	outboundErr error

	classes [numClasses]classRT
	logs    []LogLine
	console consoleState
	timers  timerQueue
	waits   []goja.Value // ctx.waitUntil promises

	completions chan func()    // continuations of Go work (see goAsync)
	inflight    int            // Go work started and not yet continued
	subrequests int            // fetch calls made
	dataCalls   int            // data (kv) calls made
	noRetry     bool           // a scheduled handler called controller.noRetry()
	icpt        interceptState // ctx.data and ctx.next
	passOn      *Next          // what an interceptor passed on
	queueAcks   []QueueAck     // a queue handler's ack() and retry() calls
	// emailRejected and emailReason are an email handler's setReject(reason).
	emailRejected bool
	emailReason   string
	ctx           context.Context // the caller's, which data calls derive from

	// Rejected promises nobody handled, reported as console errors at the
	// end, but for the ones the engine itself awaits.
	unhandled []*goja.Promise
	awaited   []*goja.Promise
	broken    bool // a script error unwound through Go code: run no more JS

	// Built-ins captured on first use.
	jsonParse     goja.Callable
	jsonStringify goja.Callable
	jsonReplacer  goja.Value            // toJSON's depth guard, made on first use
	kvFuncs       map[string]goja.Value // the kv collections' methods, made on first use (sdk_kv.go)
	jsonDepth     map[*goja.Object]int  // its objects' depths during one stringify
	jsonNesting   int                   // toJSON calls in progress
	arrayValues   goja.Value
	uint8Array    goja.Value
	promiseThen   goja.Value
	sdk           *goja.Object // the "picloud" module
	preludeNS     *goja.Object // globals defined in JavaScript (see prelude.go)
	nodeNS        *goja.Object // the node: modules (see node.go), made on first import
}

func newExecution(x *InProcess, inv *Invocation, lim Limits) *execution {
	return &execution{x: x, inv: inv, lim: lim}
}

// run executes the program and fills res with its response or error.
func (e *execution) run(parent context.Context, prog *program, res *Result) {
	e.prog = prog
	e.done = make(chan struct{})
	e.ctx = parent
	if sc, ok := e.x.data.(DataScoper); ok {
		// The data calls' scope ends with the execution, rolling back the
		// transactions it left open; its calls end first.
		ctx, cancel := context.WithCancel(parent)
		if e.inv.Replay {
			ctx = WithReplay(ctx)
		}
		ctx, end := sc.OpenScope(ctx)
		defer func() {
			cancel()
			end()
		}()
		e.ctx = ctx
	}
	if err := parent.Err(); err != nil {
		e.stop(context.Cause(parent))
		res.Error = e.stopError()
		return
	}
	e.r = goja.New()
	e.r.SetMaxCallStackSize(e.lim.MaxCallDepth)
	e.r.SetPromiseRejectionTracker(e.trackRejection)
	// A timer and, if the caller's context can end, a watcher on it; both
	// cheaper than a derived context.
	wall := e.lim.WallTime
	var cause error = context.DeadlineExceeded
	if dl, ok := parent.Deadline(); ok && time.Until(dl) < wall {
		wall = time.Until(dl)
	}
	t := time.AfterFunc(wall, func() { e.stop(cause) })
	defer t.Stop()
	if parent.Done() != nil {
		unwatch := context.AfterFunc(parent, func() { e.stop(context.Cause(parent)) })
		defer unwatch()
	}
	defer func() {
		if p := recover(); p != nil {
			e.x.log.Error("engine panic", "script", e.inv.ScriptID, "version", e.inv.Version,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res.Response = nil
			res.Error = &ExecError{Code: CodeInternal, Message: fmt.Sprintf("engine failure: %v", p)}
		}
	}()
	res.Response, res.Error = e.handle(prog.prog)
	if res.Error == nil {
		res.Next = e.passOn
	}
	e.reportUnhandled()
}

// stop ends the execution: it records why and interrupts the runtime.
// It may be called from any goroutine.
func (e *execution) stop(cause error) {
	e.stopOnce.Do(func() {
		e.cause = cause
		close(e.done)
		if e.r != nil {
			e.r.Interrupt(errStopped)
		}
	})
}

// stopped reports whether the execution must stop.
func (e *execution) stopped() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// errStopped is the interrupt value; the cause is read from the context.
var errStopped = fmt.Errorf("execution stopped")

// handle runs the module, calls its handler and converts what it returns.
// Script errors thrown into Go code (a throwing getter read from Go, an
// interrupt) are recovered here; after one, no more script code runs.
func (e *execution) handle(prog *goja.Program) (resp *Response, xe *ExecError) {
	defer func() {
		if p := recover(); p != nil {
			err, ok := p.(error)
			if !ok || !isScriptError(err) {
				panic(p)
			}
			resp, xe = nil, e.jsError(err)
			e.broken = true
		}
	}()
	r := e.r
	e.installGlobals()
	if e.prog.guards {
		e.installGuards()
	}
	fv, err := r.RunProgram(prog)
	if err != nil {
		return nil, e.jsError(err)
	}
	wrapper, ok := goja.AssertFunction(fv)
	if !ok {
		return nil, &ExecError{Code: CodeInternal, Message: "code is not a transpiled module"}
	}
	holder := r.NewObject()
	require := goja.Undefined()
	if e.prog.requires {
		require = r.ToValue(func(call goja.FunctionCall) goja.Value { return e.require(call) })
	}
	if _, err := wrapper(goja.Undefined(), holder, require); err != nil {
		return nil, e.jsError(err)
	}
	handler := holder.Get("handler")
	if e.inv.Scheduled != nil {
		return nil, e.runScheduled(handler)
	}
	if e.inv.Intercept {
		return e.runIntercept(handler)
	}
	if e.inv.Queue != nil {
		return nil, e.runQueue(handler)
	}
	if e.inv.Email != nil {
		return nil, e.runEmail(handler)
	}
	fn, this, xe := e.findHandler(handler)
	if xe != nil {
		return nil, xe
	}
	ret, err := fn(this, e.handlerArgs(handler)...)
	if err != nil {
		return nil, e.jsError(err)
	}
	v, xe := e.await(ret)
	if xe != nil {
		return nil, xe
	}
	resp, xe = e.toResponse(v)
	if xe != nil {
		return nil, xe
	}
	e.settleWaitUntil()
	return resp, nil
}

// findHandler picks the default export: a function, or an object with a
// fetch method.
func (e *execution) findHandler(def goja.Value) (goja.Callable, goja.Value, *ExecError) {
	if fn, ok := goja.AssertFunction(def); ok {
		return fn, goja.Undefined(), nil
	}
	if obj, ok := def.(*goja.Object); ok {
		if fn, ok := goja.AssertFunction(obj.Get("fetch")); ok {
			return fn, obj, nil
		}
	}
	return nil, nil, &ExecError{Code: CodeNoHandler, Message: "the default export is not a handler: " +
		"export default { async fetch(request, env, ctx) { ... } } or a function"}
}

// handlerArgs builds (request, env, ctx). Building env costs about a tenth
// of a small execution (freezing it makes goja build the Object
// constructor), so arguments a handler cannot see are left undefined: those
// past its declared parameters, unless the program has default or rest
// parameters or uses `arguments` (see hidesArgs).
func (e *execution) handlerArgs(handler goja.Value) []goja.Value {
	n := int64(3)
	if !e.prog.hidesArgs {
		n = handlerArity(handler)
	}
	args := []goja.Value{goja.Undefined(), goja.Undefined(), goja.Undefined()}
	if n >= 1 {
		args[0] = e.newIncomingRequest()
	}
	if n >= 2 {
		args[1] = e.newEnv()
	}
	if n >= 3 {
		args[2] = e.newContextObject()
	}
	return args
}

// handlerArity is the declared parameter count of the handler function.
func handlerArity(handler goja.Value) int64 {
	obj, ok := handler.(*goja.Object)
	if !ok {
		return 3
	}
	fn := obj
	if _, ok := goja.AssertFunction(obj); !ok {
		if fn, ok = obj.Get("fetch").(*goja.Object); !ok {
			return 3
		}
	}
	if n := fn.Get("length"); n != nil && goja.IsNumber(n) {
		return n.ToInteger()
	}
	return 3
}

// await drives timers until v, if it is a promise or thenable, settles.
func (e *execution) await(v goja.Value) (goja.Value, *ExecError) {
	p := e.promiseOf(v)
	if p == nil {
		return v, nil
	}
	e.awaited = append(e.awaited, p)
	for p.State() == goja.PromiseStatePending {
		if xe := e.step(); xe != nil {
			return nil, xe
		}
	}
	if p.State() == goja.PromiseStateRejected {
		return nil, e.thrownError(p.Result(), nil)
	}
	return p.Result(), nil
}

// promiseOf returns v as a promise, adopting thenables; nil if v is
// neither.
func (e *execution) promiseOf(v goja.Value) *goja.Promise {
	obj, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	t := obj.ExportType()
	if t == reflectTypePromise {
		return obj.Export().(*goja.Promise)
	}
	if t != reflectTypeMap || e.stopped() {
		return nil // a Web API object, an array, a function...
	}
	then, ok := goja.AssertFunction(obj.Get("then"))
	if !ok {
		return nil
	}
	p, resolve, reject := e.r.NewPromise()
	_, err := then(obj,
		e.r.ToValue(func(call goja.FunctionCall) goja.Value { _ = resolve(call.Argument(0)); return nil }),
		e.r.ToValue(func(call goja.FunctionCall) goja.Value { _ = reject(call.Argument(0)); return nil }))
	if err != nil {
		if ex, ok := err.(*goja.Exception); ok {
			_ = reject(ex.Value())
		} else {
			panic(err)
		}
	}
	return p
}

// settleWaitUntil awaits ctx.waitUntil promises within the wall time; their
// failures are logged, the response stands.
func (e *execution) settleWaitUntil() {
	for i := 0; i < len(e.waits); i++ {
		if _, xe := e.await(e.waits[i]); xe != nil {
			e.log("error", "ctx.waitUntil: "+xe.Message)
			if xe.Code == CodeTimeLimit || xe.Code == CodeCanceled {
				return
			}
		}
	}
}

func (e *execution) trackRejection(p *goja.Promise, op goja.PromiseRejectionOperation) {
	switch op {
	case goja.PromiseRejectionReject:
		e.unhandled = append(e.unhandled, p)
	case goja.PromiseRejectionHandle:
		for i, u := range e.unhandled {
			if u == p {
				e.unhandled = append(e.unhandled[:i], e.unhandled[i+1:]...)
				break
			}
		}
	}
}

// reportUnhandled logs rejections no script code handled.
func (e *execution) reportUnhandled() {
	if e.broken || e.stopped() {
		return
	}
	for _, p := range e.unhandled {
		if p.State() != goja.PromiseStateRejected || slices.Contains(e.awaited, p) {
			continue
		}
		e.log("error", "Uncaught (in promise) "+e.describeThrown(p.Result()))
	}
}
