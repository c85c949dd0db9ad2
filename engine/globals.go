package engine

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/dop251/goja"
)

// Web API globals are resolved lazily: the global object's prototype is a
// dynamic object that builds a global the first time a script looks it up,
// so a handler pays only for the APIs it uses.

type globalFactory func(e *execution) goja.Value

var globalFactories map[string]globalFactory

func classGlobal(id classID) globalFactory {
	return func(e *execution) goja.Value { return e.ctor(id) }
}

func funcGlobal(fn nativeMethod) globalFactory {
	return func(e *execution) goja.Value {
		return e.r.ToValue(func(call goja.FunctionCall) goja.Value { return fn(e, call) })
	}
}

func init() {
	globalFactories = map[string]globalFactory{
		"Headers":         classGlobal(classHeaders),
		"Request":         classGlobal(classRequest),
		"Response":        classGlobal(classResponse),
		"URL":             classGlobal(classURL),
		"URLSearchParams": classGlobal(classURLSearchParams),
		"FormData":        classGlobal(classFormData),
		"Blob":            classGlobal(classBlob),
		"File":            classGlobal(classFile),
		"TextEncoder":     classGlobal(classTextEncoder),
		"TextDecoder":     classGlobal(classTextDecoder),
		"console":         (*execution).newConsole,
		"crypto":          (*execution).newCrypto,
		"atob":            funcGlobal(jsAtob),
		"fetch":           funcGlobal(jsFetch),
		"btoa":            funcGlobal(jsBtoa),
		"setTimeout": funcGlobal(func(e *execution, call goja.FunctionCall) goja.Value {
			return e.setTimer(call, false)
		}),
		"setInterval": funcGlobal(func(e *execution, call goja.FunctionCall) goja.Value {
			return e.setTimer(call, true)
		}),
		"clearTimeout":   funcGlobal((*execution).clearTimer),
		"clearInterval":  funcGlobal((*execution).clearTimer),
		"queueMicrotask": funcGlobal((*execution).queueMicrotask),
		"self":           func(e *execution) goja.Value { return e.r.GlobalObject() },
	}
	for _, n := range preludeNames {
		globalFactories[n] = preludeGlobal(n)
	}
}

// lazyGlobals keeps what it made rather than defining it on the global
// object: defining a property there makes goja materialise all the
// built-in globals, which costs about as much as the rest of a small
// execution. But goja refuses a strict-mode assignment to a global that is
// not an own property of the global object (`URL = ...` would throw a
// ReferenceError), so for programs that look like they assign one of these
// names those are defined for real, up front.
type lazyGlobals struct {
	e    *execution
	made []madeGlobal
}

type madeGlobal struct {
	name  string
	value goja.Value
}

func (g *lazyGlobals) Get(key string) goja.Value {
	for _, m := range g.made {
		if m.name == key {
			return m.value
		}
	}
	f := globalFactories[key]
	if f == nil {
		return nil
	}
	v := f(g.e)
	g.made = append(g.made, madeGlobal{key, v})
	return v
}

func (g *lazyGlobals) Has(key string) bool               { return globalFactories[key] != nil }
func (g *lazyGlobals) Set(key string, _ goja.Value) bool { return false }
func (g *lazyGlobals) Delete(key string) bool            { return true }
func (g *lazyGlobals) Keys() []string                    { return nil }

// assignsGlobalRE finds assignments to Web API globals in transpiled code;
// a false positive only costs a little time.
var assignsGlobalRE = sync.OnceValue(func() *regexp.Regexp {
	names := make([]string, 0, len(globalFactories))
	for k := range globalFactories {
		names = append(names, k)
	}
	sort.Strings(names)
	return regexp.MustCompile(`(?:^|[^.\w$])(` + strings.Join(names, "|") +
		`)\s*(?:=[^=>]|[-+*/%&|^]=|\|\|=|&&=|\?\?=|\*\*=|<<=|>>>?=|\+\+|--)`)
})

// assignedGlobals lists the Web API globals code seems to assign.
func assignedGlobals(code string) []string {
	var out []string
	for _, m := range assignsGlobalRE().FindAllStringSubmatch(code, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func (e *execution) installGlobals() {
	g := &lazyGlobals{e: e}
	global := e.r.GlobalObject()
	_ = global.SetPrototype(e.r.NewDynamicObject(g))
	for _, name := range e.prog.assignsGlobals {
		_ = global.DefineDataProperty(name, g.Get(name), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
}

// require serves the CommonJS form of imports esbuild emits for the SDK
// module; it is a parameter of the module function, not a global.
func (e *execution) require(call goja.FunctionCall) goja.Value {
	name := call.Argument(0).String()
	if key, ok := nodeModules[name]; ok {
		return e.nodeModule(key)
	}
	if name != SDKModule {
		e.throw("Error", "Cannot find module "+quote(name)+": scripts can only import \""+SDKModule+"\" and node:buffer, node:crypto and node:util")
	}
	if e.sdk == nil {
		e.sdk = e.newSDK()
	}
	return e.sdk
}

// newEnv returns the app's variables as a frozen object.
func (e *execution) newEnv() goja.Value {
	return e.frozenObject(e.inv.Env)
}

func (e *execution) frozenObject(m map[string]string) *goja.Object {
	obj := e.r.NewObject()
	if len(m) > 0 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			_ = obj.DefineDataProperty(k, e.r.ToValue(m[k]), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		}
	}
	e.preventExtensions(obj)
	return obj
}

// preventExtensions makes obj non-extensible through Object.preventExtensions;
// with all properties already non-writable and non-configurable it is frozen.
func (e *execution) preventExtensions(obj *goja.Object) {
	ctor := e.r.GlobalObject().Get("Object").(*goja.Object)
	pe, _ := goja.AssertFunction(ctor.Get("preventExtensions"))
	if _, err := pe(ctor, obj); err != nil {
		panic(err)
	}
}

// contextObject is the third handler argument: params, waitUntil, data
// (from the interceptors) and, for an interceptor, next.
type contextObject struct {
	instance
	e         *execution
	params    goja.Value
	waitUntil goja.Value
	passThru  goja.Value
	next      goja.Value
}

func (c *contextObject) Get(key string) goja.Value {
	switch key {
	case "params":
		if c.params == nil {
			c.params = c.e.frozenObject(c.e.inv.Params)
		}
		return c.params
	case "waitUntil":
		if c.waitUntil == nil {
			e := c.e
			c.waitUntil = e.r.ToValue(func(call goja.FunctionCall) goja.Value {
				e.waits = append(e.waits, call.Argument(0))
				return goja.Undefined()
			})
		}
		return c.waitUntil
	case "data":
		return c.e.ctxData()
	case "next":
		if c.next == nil {
			c.next = c.e.r.ToValue(c.e.ctxNext)
		}
		return c.next
	case "passThroughOnException":
		if c.passThru == nil {
			c.passThru = c.e.r.ToValue(func(goja.FunctionCall) goja.Value { return goja.Undefined() })
		}
		return c.passThru
	}
	return c.instance.Get(key)
}

func (c *contextObject) Has(key string) bool {
	switch key {
	case "params", "waitUntil", "passThroughOnException", "data", "next":
		return true
	}
	return c.instance.Has(key)
}

func (c *contextObject) Set(key string, val goja.Value) bool {
	switch key {
	case "params", "waitUntil", "passThroughOnException", "data", "next":
		return false
	}
	return c.instance.Set(key, val)
}

func (c *contextObject) Keys() []string {
	return append([]string{"params", "waitUntil", "data"}, c.instance.Keys()...)
}

func (e *execution) newContextObject() goja.Value {
	return e.r.NewDynamicObject(&contextObject{e: e})
}
