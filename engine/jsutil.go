package engine

import (
	"fmt"
	"reflect"

	"github.com/dop251/goja"
)

var (
	reflectTypeMap     = reflect.TypeFor[map[string]any]()
	reflectTypePromise = reflect.TypeFor[*goja.Promise]()
	reflectTypeBuffer  = reflect.TypeFor[goja.ArrayBuffer]()
)

// builtinFunc returns global.obj.name as a function, e.g. JSON.parse.
func (e *execution) builtinFunc(obj, name string) goja.Callable {
	o, ok := e.r.GlobalObject().Get(obj).(*goja.Object)
	if ok {
		if fn, ok := goja.AssertFunction(o.Get(name)); ok {
			return fn
		}
	}
	panic(e.r.NewTypeError("%s.%s is not a function", obj, name))
}

// parseJSON runs JSON.parse; a syntax error comes back as the thrown value.
func (e *execution) parseJSON(s string) (goja.Value, goja.Value) {
	v, ok, tooDeep := e.decodeJSON(s)
	if ok {
		return v, nil
	}
	if tooDeep {
		return nil, e.newError("SyntaxError", fmt.Sprintf("JSON nested deeper than %d levels", maxJSONDepth))
	}
	if e.jsonParse == nil {
		e.jsonParse = e.builtinFunc("JSON", "parse")
	}
	v, err := e.jsonParse(goja.Undefined(), e.r.ToValue(s))
	if err != nil {
		return nil, thrownValue(err)
	}
	return v, nil
}

// stringifyJSON runs JSON.stringify; ok is false if it threw or gave
// undefined.
func (e *execution) stringifyJSON(v goja.Value) (string, bool) {
	s, err := e.toJSON(v)
	if err != nil && !isException(err) {
		panic(err) // interrupted: unwind
	}
	return s, err == nil && s != ""
}

func isException(err error) bool {
	_, ok := err.(*goja.Exception)
	return ok
}

// toJSON runs JSON.stringify, returning "" for undefined; err is what
// stopped it (an exception or an interrupt). It is the engine's own
// encoder (jsonencode.go), which refuses nesting past maxJSONDepth.
func (e *execution) toJSON(v goja.Value) (string, error) {
	return e.encodeJSON(v)
}

// stringifyWithGoja is goja's JSON.stringify, for the values the engine's
// encoder does not model. goja's stringify cannot be interrupted and takes
// time in the square of the nesting depth, so a replacer follows the
// depth of the objects it is given and throws a RangeError past
// maxJSONDepth: a value nested deeper than that ends the execution in
// microseconds instead of running until its worker is killed.
func (e *execution) stringifyWithGoja(v goja.Value) (string, error) {
	if e.jsonStringify == nil {
		e.jsonStringify = e.builtinFunc("JSON", "stringify")
	}
	args := []goja.Value{v}
	if _, ok := v.(*goja.Object); ok { // a primitive has no depth
		args = append(args, e.depthReplacer())
	}
	e.jsonNesting++ // a toJSON method may stringify again: depths stay until the outer call ends
	out, err := e.jsonStringify(goja.Undefined(), args...)
	if e.jsonNesting--; e.jsonNesting == 0 {
		clear(e.jsonDepth)
	}
	if err != nil || goja.IsUndefined(out) {
		return "", err
	}
	return out.String(), nil
}

// depthReplacer is toJSON's replacer: it records the depth of each object
// stringify reaches (one more than its holder's) and throws past
// maxJSONDepth. Made once per execution.
func (e *execution) depthReplacer() goja.Value {
	if e.jsonReplacer != nil {
		return e.jsonReplacer
	}
	e.jsonDepth = map[*goja.Object]int{}
	e.jsonReplacer = e.r.ToValue(func(call goja.FunctionCall) goja.Value {
		v := call.Argument(1)
		if o, ok := v.(*goja.Object); ok {
			d := 1
			if h, ok := call.This.(*goja.Object); ok {
				d = e.jsonDepth[h] + 1
			}
			if d > maxJSONDepth {
				e.throw("RangeError", fmt.Sprintf("the value nests deeper than %d levels, too deep to send as JSON", maxJSONDepth))
			}
			e.jsonDepth[o] = d
		}
		return v
	})
	return e.jsonReplacer
}

// thrownValue is the JS value of an exception; other errors (interrupts)
// keep unwinding.
func thrownValue(err error) goja.Value {
	if ex, ok := err.(*goja.Exception); ok {
		return ex.Value()
	}
	panic(err)
}

// newError makes an error of a built-in kind (TypeError, RangeError...).
// goja's NewTypeError takes a format string: msg, which may hold a URL or
// other data with percent signs, is always passed as an argument.
func (e *execution) newError(kind, msg string) goja.Value {
	if kind == "TypeError" {
		return e.r.NewTypeError("%s", msg)
	}
	if ctor, ok := e.r.GlobalObject().Get(kind).(*goja.Object); ok {
		if obj, err := e.r.New(ctor, e.r.ToValue(msg)); err == nil {
			return obj
		}
	}
	return e.r.NewTypeError("%s", msg)
}

// throw raises an error of a built-in kind from native code.
func (e *execution) throw(kind, msg string) {
	panic(e.newError(kind, msg))
}

// resolved returns a promise fulfilled with v.
func (e *execution) resolved(v goja.Value) goja.Value {
	p, resolve, _ := e.r.NewPromise()
	if err := resolve(v); err != nil {
		panic(err)
	}
	return e.r.ToValue(p)
}

// rejected returns a promise rejected with v.
func (e *execution) rejected(v goja.Value) goja.Value {
	p, _, reject := e.r.NewPromise()
	if err := reject(v); err != nil {
		panic(err)
	}
	return e.r.ToValue(p)
}

// bufferBytes returns the bytes of an ArrayBuffer, a typed array or a
// DataView, without copying.
func bufferBytes(r *goja.Runtime, v goja.Value) ([]byte, bool) {
	obj, ok := v.(*goja.Object)
	if !ok {
		return nil, false
	}
	t := obj.ExportType()
	switch {
	case t == reflectTypeBuffer:
		return obj.Export().(goja.ArrayBuffer).Bytes(), true
	case t == nil:
		return nil, false
	case t.Kind() == reflect.Slice && obj.ClassName() == "Object" && isNumericKind(t.Elem().Kind()):
		var b []byte
		if r.ExportTo(obj, &b) == nil {
			return b, true
		}
	case t == reflectTypeMap && obj.ClassName() == "Object":
		if tag := obj.GetSymbol(goja.SymToStringTag); tag != nil && tag.String() == "DataView" {
			var b []byte
			if r.ExportTo(obj, &b) == nil {
				return b, true
			}
		}
	}
	return nil, false
}

func isNumericKind(k reflect.Kind) bool {
	switch k {
	case reflect.Uint8, reflect.Int8, reflect.Uint16, reflect.Int16, reflect.Uint32, reflect.Int32,
		reflect.Float32, reflect.Float64, reflect.Int64, reflect.Uint64:
		return true
	}
	return false
}

// newArrayBuffer returns a new ArrayBuffer holding a copy of b.
func (e *execution) newArrayBuffer(b []byte) goja.Value {
	return e.r.ToValue(e.r.NewArrayBuffer(append([]byte(nil), b...)))
}

// newUint8Array returns a new Uint8Array holding a copy of b.
func (e *execution) newUint8Array(b []byte) goja.Value {
	if e.uint8Array == nil {
		e.uint8Array = e.r.GlobalObject().Get("Uint8Array")
	}
	ctor, ok := e.uint8Array.(*goja.Object)
	if !ok {
		panic(e.r.NewTypeError("Uint8Array is not a constructor"))
	}
	obj, err := e.r.New(ctor, e.newArrayBuffer(b))
	if err != nil {
		panic(err)
	}
	return obj
}

// iterator returns an iterator over items (an array iterator).
func (e *execution) iterator(items []goja.Value) goja.Value {
	vals := make([]any, len(items))
	for i, it := range items {
		vals[i] = it
	}
	arr := e.r.NewArray(vals...)
	if e.arrayValues == nil {
		e.arrayValues = arr.Get("values")
	}
	values, ok := goja.AssertFunction(e.arrayValues)
	if !ok {
		panic(e.r.NewTypeError("Array.prototype.values is not a function"))
	}
	it, err := values(arr)
	if err != nil {
		panic(err)
	}
	return it
}

// pair returns [k, v] as a JS array.
func (e *execution) pair(k, v goja.Value) goja.Value {
	return e.r.NewArray(k, v)
}

// stringArray returns a JS array of strings.
func (e *execution) stringArray(ss []string) goja.Value {
	items := make([]any, len(ss))
	for i, s := range ss {
		items[i] = s
	}
	return e.r.NewArray(items...)
}

// str converts a Go string to a JS value.
func (e *execution) str(s string) goja.Value { return e.r.ToValue(s) }

// optString returns the string form of v, or def if v is undefined.
func optString(v goja.Value, def string) string {
	if v == nil || goja.IsUndefined(v) {
		return def
	}
	return v.String()
}

// isNullish reports whether v is undefined or null (or absent).
func isNullish(v goja.Value) bool {
	return v == nil || goja.IsUndefined(v) || goja.IsNull(v)
}

// getOpt reads property name of an options object, nil if absent.
func getOpt(v goja.Value, name string) goja.Value {
	obj, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	p := obj.Get(name)
	if p == nil || goja.IsUndefined(p) {
		return nil
	}
	return p
}
