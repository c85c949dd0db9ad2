package engine

import (
	"embed"
	"fmt"
	"slices"
	"sync"

	"github.com/dop251/goja"
)

// The "picloud" module is built over the engine's data call (see data.go),
// in parts: kv is native (sdk_kv.go), the others are JavaScript, a base of
// shared helpers and one program per module. Making a function is dear in
// goja (about a microsecond each, and the SDK has well over a hundred), so
// an execution builds only the parts its script reads: a script that uses
// docs builds the base and docs, not users or queues; one that uses only
// kv runs no JavaScript of the SDK at all.
//
//go:embed prelude/sdk/*.js
var sdkFiles embed.FS

// sdkModules are the module's exports, in the order Object.keys gives them.
var sdkModules = []string{"kv", "docs", "db", "users", "queue", "invoke", "email"}

// sdkParts are the programs: the exports and the parts they are built from
// ("later", invoke.later, which transactions bind too); kv is native
// (sdk_kv.go).
var sdkParts = []string{"base", "later", "docs", "db", "users", "queue", "invoke", "email"}

var sdkPrograms = sync.OnceValues(func() (map[string]*goja.Program, error) {
	progs := make(map[string]*goja.Program, len(sdkParts))
	for _, name := range sdkParts {
		src, err := sdkFiles.ReadFile("prelude/sdk/" + name + ".js")
		if err != nil {
			return nil, fmt.Errorf("read the SDK's %s part: %w", name, err)
		}
		p, err := goja.Compile("picloud-sdk/"+name+".js", string(src), true)
		if err != nil {
			return nil, fmt.Errorf("compile the SDK's %s part: %w", name, err)
		}
		progs[name] = p
	}
	return progs, nil
})

// sdkState is the "picloud" module of one execution: the parts built so
// far and each export once read.
type sdkState struct {
	e       *execution
	base    goja.Value
	parts   map[string]goja.Value // what each part's program returned
	exports map[string]goja.Value // the module's exports, once read
	partFn  goja.Value            // part(name), handed to parts that bind others
}

// newSDK returns the module object: frozen, each export built when it is
// first read.
func (e *execution) newSDK() *goja.Object {
	return e.r.NewDynamicObject(&sdkState{e: e})
}

// part runs the program of a part once and returns what it returned: a
// module, or a function that binds one to a transaction.
func (s *sdkState) part(name string) goja.Value {
	if v, ok := s.parts[name]; ok {
		return v
	}
	if name == "kv" {
		v := s.e.kvBinder()
		s.keep(name, v)
		return v
	}
	progs, err := sdkPrograms()
	if err != nil {
		panic(err) // the embedded sources are tested; this is a build defect
	}
	prog, ok := progs[name]
	if !ok {
		panic(s.e.r.NewTypeError("the SDK has no part %q", name))
	}
	e := s.e
	fv, err := e.r.RunProgram(prog)
	if err != nil {
		panic(err)
	}
	fn, _ := goja.AssertFunction(fv)
	var v goja.Value
	if name == "base" {
		v, err = fn(goja.Undefined(), e.r.ToValue(e.jsDataCall), e.r.ToValue(e.jsToBase64),
			e.r.ToValue(e.jsFromBase64), e.r.ToValue(e.jsCountSubrequest))
	} else {
		if s.base == nil {
			s.base = s.part("base")
		}
		if s.partFn == nil {
			s.partFn = e.r.ToValue(func(call goja.FunctionCall) goja.Value {
				return s.part(call.Argument(0).String())
			})
		}
		v, err = fn(goja.Undefined(), s.base, s.partFn)
	}
	if err != nil {
		panic(err)
	}
	s.keep(name, v)
	return v
}

// keep records what part name gave.
func (s *sdkState) keep(name string, v goja.Value) {
	if s.parts == nil {
		s.parts = make(map[string]goja.Value, 4)
	}
	s.parts[name] = v
}

// export builds one export: the modules that a transaction also binds
// are their part's function called with no transaction.
func (s *sdkState) export(name string) goja.Value {
	if v, ok := s.exports[name]; ok {
		return v
	}
	v := s.part(name)
	switch name {
	case "kv", "docs", "queue", "email":
		bind, _ := goja.AssertFunction(v)
		var err error
		if v, err = bind(goja.Undefined(), goja.Undefined()); err != nil {
			panic(err)
		}
	}
	if s.exports == nil {
		s.exports = make(map[string]goja.Value, 2)
	}
	s.exports[name] = v
	return v
}

func (s *sdkState) Get(key string) goja.Value {
	if !slices.Contains(sdkModules, key) {
		return nil
	}
	return s.export(key)
}

// Set and Delete refuse: the module is frozen, and strict code assigning
// to it gets a TypeError.
func (s *sdkState) Set(string, goja.Value) bool { return false }
func (s *sdkState) Delete(string) bool          { return false }
func (s *sdkState) Has(key string) bool         { return slices.Contains(sdkModules, key) }
func (s *sdkState) Keys() []string              { return slices.Clone(sdkModules) }
