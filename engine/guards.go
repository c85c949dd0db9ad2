package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// Length limits of the built-ins that allocate in one native call, which
// goja's interrupt cannot stop and which can end a Go process outright
// (`'x'.repeat(2**40)`). They are the first line of defence; the worker
// process's memory ceiling is the last.
const (
	MaxStringLength = 1 << 25 // characters of a string one built-in call may build
	MaxArrayLength  = 1 << 24 // elements of an array fill() or join() may walk
	MaxBufferBytes  = 64 << 20
	// RegexpMatchTimeout bounds one match of the backtracking engine goja
	// falls back to for lookarounds and backreferences.
	RegexpMatchTimeout = time.Second
)

func init() { regexp2.DefaultMatchTimeout = RegexpMatchTimeout }

// guardedNames are the built-ins the guards wrap. Wrapping costs about two
// fresh runtimes, so it is done only for programs whose code names one of
// them or reaches built-ins by computed names (see needsGuards).
var guardedNames = []string{"repeat", "padStart", "padEnd", "join", "fill", "Array", "Buffer",
	"globalThis", "self", "Reflect", "eval", "Function", "constructor", "__proto__", "Prototype", "Descriptor"}

// needsGuards reports whether code can reach a guarded built-in.
func needsGuards(code string) bool {
	for _, n := range guardedNames {
		if strings.Contains(code, n) {
			return true
		}
	}
	return false
}

// installGuards wraps the allocating built-ins with length checks.
func (e *execution) installGuards() {
	r := e.r
	proto := func(ctor string) *goja.Object { return r.Get(ctor).ToObject(r).Get("prototype").ToObject(r) }
	wrap := func(obj *goja.Object, name string, check func(call goja.FunctionCall)) {
		orig, ok := goja.AssertFunction(obj.Get(name))
		if !ok {
			return
		}
		fn := r.ToValue(func(call goja.FunctionCall) goja.Value {
			check(call)
			v, err := orig(call.This, call.Arguments...)
			if err != nil {
				panic(err)
			}
			return v
		}).ToObject(r)
		_ = fn.DefineDataProperty("name", r.ToValue(name), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		_ = obj.DefineDataProperty(name, fn, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	tooLong := func(n float64, limit int, what string) {
		if n > float64(limit) {
			e.throw("RangeError", "Invalid "+what+": PiCloud limits it to "+strconv.Itoa(limit))
		}
	}
	sp := proto("String")
	wrap(sp, "repeat", func(call goja.FunctionCall) {
		tooLong(float64(len(call.This.String()))*call.Argument(0).ToFloat(), MaxStringLength, "string length")
	})
	pad := func(call goja.FunctionCall) { tooLong(call.Argument(0).ToFloat(), MaxStringLength, "string length") }
	wrap(sp, "padStart", pad)
	wrap(sp, "padEnd", pad)
	ap := proto("Array")
	arrLen := func(this goja.Value) float64 {
		if o, ok := this.(*goja.Object); ok {
			return o.Get("length").ToFloat()
		}
		return 0
	}
	wrap(ap, "fill", func(call goja.FunctionCall) { tooLong(arrLen(call.This), MaxArrayLength, "array length") })
	wrap(ap, "join", func(call goja.FunctionCall) {
		n := arrLen(call.This)
		tooLong(n, MaxArrayLength, "array length")
		sep := 1
		if s := call.Argument(0); !goja.IsUndefined(s) {
			sep = len(s.String())
		}
		total := n * float64(sep)
		if o, ok := call.This.(*goja.Object); ok {
			if a, ok := o.Export().([]any); ok {
				for _, v := range a {
					if s, ok := v.(string); ok {
						total += float64(len(s))
					}
				}
			}
		}
		tooLong(total, MaxStringLength, "string length")
	})
	fixTypedArrayFrom(r)
	for _, c := range []struct {
		name string
		size float64
	}{{"ArrayBuffer", 1}, {"SharedArrayBuffer", 1}, {"Uint8Array", 1}, {"Int8Array", 1}, {"Uint8ClampedArray", 1},
		{"Int16Array", 2}, {"Uint16Array", 2}, {"Int32Array", 4}, {"Uint32Array", 4}, {"Float32Array", 4},
		{"Float64Array", 8}, {"BigInt64Array", 8}, {"BigUint64Array", 8}, {"Array", 8}} {
		target, ok := r.Get(c.name).(*goja.Object)
		if !ok {
			continue
		}
		limit, what := MaxBufferBytes, "typed array length"
		if c.name == "Array" {
			limit, what = MaxArrayLength*8, "array length"
		}
		check := func(args []goja.Value) {
			if len(args) > 0 && goja.IsNumber(args[0]) {
				tooLong(args[0].ToFloat()*c.size, limit, what)
			}
		}
		// A constructor in front of the original: statics are inherited
		// from it, instances get its prototype, so instanceof and
		// Array.isArray keep working.
		wrapper := r.ToValue(func(call goja.ConstructorCall) *goja.Object {
			check(call.Arguments)
			o, err := r.New(target, call.Arguments...)
			if err != nil {
				panic(err)
			}
			return o
		}).ToObject(r)
		_ = wrapper.SetPrototype(target)
		tp := target.Get("prototype")
		_ = wrapper.DefineDataProperty("prototype", tp, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		_ = wrapper.DefineDataProperty("name", r.ToValue(c.name), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		if po, ok := tp.(*goja.Object); ok {
			_ = po.DefineDataProperty("constructor", wrapper, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		}
		_ = r.GlobalObject().DefineDataProperty(c.name, wrapper, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
}

// fixTypedArrayFrom makes Uint8Array.from and its kin take a string, which
// is iterable (Uint8Array.from(atob(s), c => c.charCodeAt(0)) is common);
// goja's refuses any primitive. Code that names a typed array names
// "Array", so this runs with the guards.
func fixTypedArrayFrom(r *goja.Runtime) {
	u8, ok := r.Get("Uint8Array").(*goja.Object)
	if !ok || u8.Prototype() == nil {
		return
	}
	typedArray := u8.Prototype()
	orig, ok := goja.AssertFunction(typedArray.Get("from"))
	if !ok {
		return
	}
	fn := r.ToValue(func(call goja.FunctionCall) goja.Value {
		args := append([]goja.Value(nil), call.Arguments...)
		if len(args) > 0 && goja.IsString(args[0]) {
			args[0] = args[0].ToObject(r)
		}
		v, err := orig(call.This, args...)
		if err != nil {
			panic(err)
		}
		return v
	}).ToObject(r)
	_ = fn.DefineDataProperty("name", r.ToValue("from"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = fn.DefineDataProperty("length", r.ToValue(1), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = typedArray.DefineDataProperty("from", fn, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
}
