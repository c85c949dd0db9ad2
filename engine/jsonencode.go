package engine

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// jsonEncoder is JSON.stringify(value) without a replacer or indentation,
// in Go: what the engine serializes (Response.json, a handler's returned
// object, kv values, console.log of objects) goes through it. goja's own
// stringify needs a replacer function called for every value to bound
// the nesting (see toJSON), and builds the JSON object for each runtime;
// this one bounds the depth itself and allocates little beyond the text.
//
// It follows the specification's SerializeJSONProperty for ordinary
// objects, arrays and primitives (toJSON methods, Number, String and
// Boolean wrappers, getters, own enumerable keys in goja's order). A
// value it does not model — a proxy, a BigInt, a raw JSON object, an
// object of another class, a string holding a lone surrogate — is handed
// to goja's stringify, with the depth guard, for that value alone.
type jsonEncoder struct {
	e     *execution
	buf   []byte
	stack []*goja.Object // the objects being serialized, for cycles and depth
}

var proxyType = reflect.TypeFor[goja.Proxy]()

// encodeJSON returns JSON.stringify(v): "" for undefined; err is what
// stopped it (an exception or an interrupt).
func (e *execution) encodeJSON(v goja.Value) (s string, err error) {
	enc := &jsonEncoder{e: e, buf: make([]byte, 0, 128)}
	defer func() {
		if r := recover(); r != nil {
			switch x := r.(type) {
			case *goja.Exception:
				err = x
			case *goja.InterruptedError:
				err = x
			case goja.Value:
				err = e.exception(x)
			default:
				panic(r)
			}
		}
	}()
	if !enc.value("", v) {
		return "", nil
	}
	return string(enc.buf), nil
}

// exception makes a thrown value the error goja reports for it (the
// error paths only: it makes a function).
func (e *execution) exception(v goja.Value) error {
	thrower, _ := goja.AssertFunction(e.r.ToValue(func(goja.FunctionCall) goja.Value { panic(v) }))
	_, err := thrower(goja.Undefined())
	return err
}

// value writes v, the value of property key; false when it serializes to
// nothing (undefined, a function, a symbol).
func (j *jsonEncoder) value(key string, v goja.Value) bool {
	if o, ok := v.(*goja.Object); ok {
		if fn, ok := goja.AssertFunction(o.Get("toJSON")); ok {
			r, err := fn(o, j.e.str(key))
			if err != nil {
				panic(err)
			}
			v = r
		}
	}
	if o, ok := v.(*goja.Object); ok {
		if _, callable := goja.AssertFunction(o); callable {
			return false
		}
		if o.ExportType() == proxyType {
			return j.fallback(v)
		}
		switch o.ClassName() {
		case "Number":
			v = o.ToNumber()
		case "String":
			v = o.ToString()
		case "Boolean":
			v = j.e.r.ToValue(o.Export())
		case "Array":
			j.array(o)
			return true
		case "Object", "Error", "Map", "Set", "WeakMap", "WeakSet", "RegExp", "Date", "Promise":
			j.object(o)
			return true
		default:
			return j.fallback(v)
		}
	}
	switch {
	case v == nil || goja.IsUndefined(v):
		return false
	case goja.IsNull(v):
		j.buf = append(j.buf, "null"...)
	case goja.IsString(v):
		s := v.String()
		if strings.ContainsRune(s, utf8.RuneError) {
			return j.fallback(v) // perhaps a lone surrogate, which JSON escapes
		}
		j.quote(s)
	case goja.IsNumber(v):
		if goja.IsNaN(v) || goja.IsInfinity(v) {
			j.buf = append(j.buf, "null"...)
		} else {
			j.buf = append(j.buf, v.String()...)
		}
	case goja.IsBigInt(v):
		return j.fallback(v)
	default:
		switch v.Export().(type) {
		case bool:
			j.buf = strconv.AppendBool(j.buf, v.ToBoolean())
		default: // a symbol
			return false
		}
	}
	return true
}

// enter pushes o, refusing a cycle and nesting past maxJSONDepth.
func (j *jsonEncoder) enter(o *goja.Object) {
	for _, s := range j.stack {
		if s.SameAs(o) {
			panic(j.e.newError("TypeError", "Converting circular structure to JSON"))
		}
	}
	if len(j.stack) >= maxJSONDepth {
		panic(j.e.newError("RangeError", fmt.Sprintf("the value nests deeper than %d levels, too deep to send as JSON", maxJSONDepth)))
	}
	j.stack = append(j.stack, o)
}

func (j *jsonEncoder) leave() { j.stack = j.stack[:len(j.stack)-1] }

func (j *jsonEncoder) array(o *goja.Object) {
	j.enter(o)
	defer j.leave()
	n := o.Get("length").ToInteger()
	j.buf = append(j.buf, '[')
	for i := int64(0); i < n; i++ {
		if i > 0 {
			j.buf = append(j.buf, ',')
		}
		k := strconv.FormatInt(i, 10)
		if !j.value(k, o.Get(k)) {
			j.buf = append(j.buf, "null"...)
		}
	}
	j.buf = append(j.buf, ']')
}

func (j *jsonEncoder) object(o *goja.Object) {
	keys := o.Keys()
	for _, k := range keys {
		if strings.ContainsRune(k, utf8.RuneError) {
			// Perhaps a lone surrogate, which a Go string cannot hold:
			// goja reads the properties by their own names.
			j.fallback(o)
			return
		}
	}
	j.enter(o)
	defer j.leave()
	j.buf = append(j.buf, '{')
	first := true
	for _, k := range keys {
		mark := len(j.buf)
		if !first {
			j.buf = append(j.buf, ',')
		}
		j.quote(k)
		j.buf = append(j.buf, ':')
		if j.value(k, o.Get(k)) {
			first = false
		} else {
			j.buf = j.buf[:mark]
		}
	}
	j.buf = append(j.buf, '}')
}

// fallback writes v with goja's stringify (and the depth guard).
func (j *jsonEncoder) fallback(v goja.Value) bool {
	s, err := j.e.stringifyWithGoja(v)
	if err != nil {
		panic(err)
	}
	if s == "" {
		return false
	}
	j.buf = append(j.buf, s...)
	return true
}

const hexDigits = "0123456789abcdef"

// quote writes s as a JSON string, escaping as JSON.stringify does: the
// quote, the backslash and the control characters; nothing else.
func (j *jsonEncoder) quote(s string) {
	j.buf = append(j.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		j.buf = append(j.buf, s[start:i]...)
		switch c {
		case '"', '\\':
			j.buf = append(j.buf, '\\', c)
		case '\b':
			j.buf = append(j.buf, '\\', 'b')
		case '\f':
			j.buf = append(j.buf, '\\', 'f')
		case '\n':
			j.buf = append(j.buf, '\\', 'n')
		case '\r':
			j.buf = append(j.buf, '\\', 'r')
		case '\t':
			j.buf = append(j.buf, '\\', 't')
		default:
			j.buf = append(j.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	j.buf = append(j.buf, s[start:]...)
	j.buf = append(j.buf, '"')
}
