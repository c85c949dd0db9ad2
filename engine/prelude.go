package engine

import (
	_ "embed"
	"sync"

	"github.com/dop251/goja"
)

// preludeSource defines the Web APIs written in JavaScript: DOMException,
// Event, CustomEvent, EventTarget, AbortController, AbortSignal and structuredClone.
//
//go:embed prelude/prelude.js
var preludeSource string

// preludeNames are the globals the prelude defines.
var preludeNames = []string{"DOMException", "Event", "CustomEvent", "EventTarget", "AbortController", "AbortSignal", "structuredClone"}

var preludeProgram = sync.OnceValues(func() (*goja.Program, error) {
	return goja.Compile("picloud-prelude.js", preludeSource, true)
})

// prelude runs the prelude in this execution's runtime, once, and returns
// the object holding its globals.
func (e *execution) prelude() *goja.Object {
	if e.preludeNS != nil {
		return e.preludeNS
	}
	prog, err := preludeProgram()
	if err != nil {
		panic(err) // the embedded source is tested; this is a build defect
	}
	fv, err := e.r.RunProgram(prog)
	if err != nil {
		panic(err)
	}
	fn, _ := goja.AssertFunction(fv)
	setTimeout := e.r.ToValue(func(call goja.FunctionCall) goja.Value { return e.setTimer(call, false) })
	detach := e.r.ToValue(func(call goja.FunctionCall) goja.Value {
		if b, ok := call.Argument(0).Export().(goja.ArrayBuffer); ok {
			b.Detach()
		}
		return goja.Undefined()
	})
	ns, err := fn(goja.Undefined(), setTimeout, detach)
	if err != nil {
		panic(err)
	}
	e.preludeNS = ns.(*goja.Object)
	return e.preludeNS
}

func preludeGlobal(name string) globalFactory {
	return func(e *execution) goja.Value { return e.prelude().Get(name) }
}
