package engine

import (
	_ "embed"
	"sync"

	"github.com/dop251/goja"
)

// sdkSource is the "picloud" module, written in JavaScript over the
// engine's data call (see data.go).
//
//go:embed prelude/sdk.js
var sdkSource string

var sdkProgram = sync.OnceValues(func() (*goja.Program, error) {
	return goja.Compile("picloud-sdk.js", sdkSource, true)
})

// newSDK runs the SDK module in this execution's runtime and returns its
// exports.
func (e *execution) newSDK() *goja.Object {
	prog, err := sdkProgram()
	if err != nil {
		panic(err) // the embedded source is tested; this is a build defect
	}
	fv, err := e.r.RunProgram(prog)
	if err != nil {
		panic(err)
	}
	fn, _ := goja.AssertFunction(fv)
	ns, err := fn(goja.Undefined(), e.r.ToValue(e.jsDataCall), e.r.ToValue(e.jsToBase64), e.r.ToValue(e.jsFromBase64), e.r.ToValue(e.jsCountSubrequest))
	if err != nil {
		panic(err)
	}
	return ns.(*goja.Object)
}
