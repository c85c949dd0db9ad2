package engine

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// consoleTruncated ends the last console line kept once the byte cap is hit.
const consoleTruncated = " …[console output truncated]"

type consoleState struct {
	bytes     int
	truncated bool
	timers    map[string]time.Time // console.time labels
	counts    map[string]int       // console.count labels
}

// consoleMethods maps the logging console methods to log levels.
var consoleMethods = map[string]string{
	"log": "info", "info": "info", "warn": "warn", "error": "error",
	"debug": "debug", "trace": "debug", "dir": "info", "table": "info",
}

// consoleOthers are the other console methods.
var consoleOthers = map[string]nativeMethod{
	"assert": func(e *execution, call goja.FunctionCall) goja.Value {
		if !call.Argument(0).ToBoolean() {
			msg := "Assertion failed"
			if len(call.Arguments) > 1 {
				msg += ": " + e.formatArgs(call.Arguments[1:])
			}
			e.log("error", msg)
		}
		return goja.Undefined()
	},
	"time": func(e *execution, call goja.FunctionCall) goja.Value {
		c := &e.console
		if c.timers == nil {
			c.timers = make(map[string]time.Time)
		}
		c.timers[consoleLabel(call)] = time.Now()
		return goja.Undefined()
	},
	"timeLog": func(e *execution, call goja.FunctionCall) goja.Value {
		e.consoleTime(consoleLabel(call), false)
		return goja.Undefined()
	},
	"timeEnd": func(e *execution, call goja.FunctionCall) goja.Value {
		e.consoleTime(consoleLabel(call), true)
		return goja.Undefined()
	},
	"count": func(e *execution, call goja.FunctionCall) goja.Value {
		c := &e.console
		if c.counts == nil {
			c.counts = make(map[string]int)
		}
		label := consoleLabel(call)
		c.counts[label]++
		e.log("info", label+": "+strconv.Itoa(c.counts[label]))
		return goja.Undefined()
	},
	"countReset": func(e *execution, call goja.FunctionCall) goja.Value {
		delete(e.console.counts, consoleLabel(call))
		return goja.Undefined()
	},
	"group":          func(*execution, goja.FunctionCall) goja.Value { return goja.Undefined() },
	"groupCollapsed": func(*execution, goja.FunctionCall) goja.Value { return goja.Undefined() },
	"groupEnd":       func(*execution, goja.FunctionCall) goja.Value { return goja.Undefined() },
}

func consoleLabel(call goja.FunctionCall) string { return optString(call.Argument(0), "default") }

func (e *execution) consoleTime(label string, end bool) {
	start, ok := e.console.timers[label]
	if !ok {
		e.log("warn", "Timer '"+label+"' does not exist")
		return
	}
	if end {
		delete(e.console.timers, label)
	}
	e.log("info", label+": "+strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 3, 64)+" ms")
}

// consoleObject is the console global; methods are made on first use.
type consoleObject struct {
	instance
	e   *execution
	fns map[string]goja.Value
}

func (c *consoleObject) Get(key string) goja.Value {
	if v := c.instance.Get(key); v != nil {
		return v
	}
	if fn := c.fns[key]; fn != nil {
		return fn
	}
	e := c.e
	var fn goja.Value
	if level, ok := consoleMethods[key]; ok {
		fn = e.r.ToValue(func(call goja.FunctionCall) goja.Value {
			if !e.console.truncated {
				e.log(level, e.formatArgs(call.Arguments))
				if e.console.truncated {
					e.limit(CodeConsoleLimit, fmt.Sprintf("console output passed the limit of %d bytes", e.lim.MaxConsoleBytes))
				}
			}
			return goja.Undefined()
		})
	} else if m, ok := consoleOthers[key]; ok {
		fn = e.r.ToValue(func(call goja.FunctionCall) goja.Value { return m(e, call) })
	} else {
		return nil
	}
	if c.fns == nil {
		c.fns = make(map[string]goja.Value)
	}
	c.fns[key] = fn
	return fn
}

func (c *consoleObject) Has(key string) bool {
	_, ok := consoleMethods[key]
	_, other := consoleOthers[key]
	return ok || other || c.instance.Has(key)
}

func (e *execution) newConsole() goja.Value {
	return e.r.NewDynamicObject(&consoleObject{e: e})
}

// log records one console line, within the execution's byte budget.
func (e *execution) log(level, msg string) {
	c := &e.console
	if c.truncated {
		return
	}
	if room := e.lim.MaxConsoleBytes - c.bytes; len(msg) > room {
		cut := max(room, 0)
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + consoleTruncated
		c.truncated = true
	}
	c.bytes += len(msg)
	e.logs = append(e.logs, LogLine{Time: time.Now(), Level: level, Message: msg})
}

// formatArgs formats console arguments like a browser: a format string
// first if it has directives, then each value, joined with spaces.
func (e *execution) formatArgs(args []goja.Value) string {
	var b strings.Builder
	if len(args) > 0 && goja.IsString(args[0]) {
		if s := args[0].String(); strings.IndexByte(s, '%') >= 0 {
			args = e.applyFormat(&b, s, args[1:])
			if len(args) > 0 {
				b.WriteByte(' ')
			}
		}
	}
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.formatValue(a))
	}
	return b.String()
}

// applyFormat expands %s %d %i %f %o %O %j %c and %% and returns the
// arguments left over.
func (e *execution) applyFormat(b *strings.Builder, f string, args []goja.Value) []goja.Value {
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 == len(f) {
			b.WriteByte(c)
			continue
		}
		d := f[i+1]
		if d == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if !strings.ContainsRune("sdifoOjc", rune(d)) || len(args) == 0 {
			b.WriteByte(c)
			continue
		}
		a := args[0]
		args = args[1:]
		i++
		switch d {
		case 's':
			if goja.IsString(a) {
				b.WriteString(a.String())
			} else {
				b.WriteString(e.formatValue(a))
			}
		case 'd', 'i':
			n := a.ToFloat()
			if d == 'i' || n == float64(int64(n)) {
				b.WriteString(strconv.FormatInt(int64(n), 10))
			} else {
				b.WriteString(strconv.FormatFloat(n, 'g', -1, 64))
			}
		case 'f':
			b.WriteString(a.ToNumber().String())
		case 'c':
		default:
			b.WriteString(e.formatValue(a))
		}
	}
	return args
}

// formatValue renders one value: strings as they are, objects as JSON,
// errors with their stack, the rest as String() would.
func (e *execution) formatValue(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if goja.IsNull(v) {
		return "null"
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		if sym, ok := v.(*goja.Symbol); ok {
			return "Symbol(" + sym.String() + ")"
		}
		if goja.IsBigInt(v) {
			return v.String() + "n"
		}
		return v.String()
	}
	if s := e.describeNative(obj); s != "" {
		return s
	}
	if e.broken || e.stopped() {
		return "[object " + obj.ClassName() + "]" // no more script code
	}
	switch obj.ClassName() {
	case "Function":
		name := obj.Get("name")
		if name == nil || name.String() == "" {
			return "[Function (anonymous)]"
		}
		return "[Function: " + name.String() + "]"
	case "Error":
		if st := e.safeGet(obj, "stack"); st != nil && goja.IsString(st) {
			return st.String()
		}
		return e.errorText(obj)
	case "Symbol", "RegExp", "Date":
		return safeString(e, obj)
	}
	if s := e.describeBuiltin(obj); s != "" {
		return s
	}
	if s, ok := e.stringifyJSON(obj); ok {
		return s
	}
	return safeString(e, obj)
}

// safeString converts with String(), or a placeholder if that throws.
func safeString(e *execution, v goja.Value) (s string) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(*goja.Exception); !ok {
				panic(p)
			}
			s = "[object]"
		}
	}()
	return v.String()
}

var nativeTypes = map[reflect.Type]bool{
	reflect.TypeFor[*requestState](): true, reflect.TypeFor[*responseState](): true,
	reflect.TypeFor[*headerList](): true, reflect.TypeFor[*urlState](): true,
	reflect.TypeFor[*searchParams](): true, reflect.TypeFor[*formData](): true,
	reflect.TypeFor[*blob](): true,
}

// nativeState returns the Go state of a Web API object, nil for others.
func nativeState(obj *goja.Object) any {
	if !nativeTypes[obj.ExportType()] {
		return nil
	}
	return obj.Export()
}

// nativeName names the Web API class of obj, or "" for other objects.
func (e *execution) nativeName(obj *goja.Object) string {
	switch s := nativeState(obj).(type) {
	case *requestState:
		return "Request"
	case *responseState:
		return "Response"
	case *headerList:
		return "Headers"
	case *urlState:
		return "URL"
	case *searchParams:
		return "URLSearchParams"
	case *formData:
		return "FormData"
	case *blob:
		if s.isFile {
			return "File"
		}
		return "Blob"
	}
	return ""
}

// describeNative renders Web API objects for the console.
func (e *execution) describeNative(obj *goja.Object) string {
	switch s := nativeState(obj).(type) {
	case *requestState:
		return "Request { method: " + s.method + ", url: " + s.url + " }"
	case *responseState:
		return "Response { status: " + strconv.Itoa(s.status) + " }"
	case *headerList:
		var b strings.Builder
		b.WriteString("Headers {")
		for i, en := range s.sorted() {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(" " + strconv.Quote(en.name) + ": " + strconv.Quote(en.value))
		}
		b.WriteString(" }")
		return b.String()
	case *urlState:
		return s.rec.href()
	case *searchParams:
		return "URLSearchParams { " + s.encode() + " }"
	case *formData:
		return "FormData { " + strconv.Itoa(len(s.entries)) + " entries }"
	case *blob:
		return e.nativeName(obj) + " { size: " + strconv.Itoa(len(s.data)) + ", type: " + strconv.Quote(s.typ) + " }"
	}
	return ""
}

// consoleMaxItems is how many members of a Map, a Set or a typed array
// the console shows, as Node.js does.
const consoleMaxItems = 100

// describeBuiltin renders the built-ins JSON shows as {} the way Node.js
// and Workers log them: Map(1) { 'a' => 1 }, Set(2) { 1, 'x' },
// Uint8Array(2) [ 1, 2 ], ArrayBuffer { byteLength: 2 }, Promise { 1 },
// WeakMap { <items unknown> }. Members that are objects are formatted as
// console.log formats them; strings are quoted.
func (e *execution) describeBuiltin(obj *goja.Object) (out string) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(*goja.Exception); !ok {
				panic(p)
			}
			out = ""
		}
	}()
	if p, ok := obj.Export().(*goja.Promise); ok {
		switch p.State() {
		case goja.PromiseStatePending:
			return "Promise { <pending> }"
		case goja.PromiseStateRejected:
			return "Promise { <rejected> " + e.inspectMember(p.Result()) + " }"
		}
		return "Promise { " + e.inspectMember(p.Result()) + " }"
	}
	for _, name := range []string{"Map", "Set", "WeakMap", "WeakSet"} {
		ctor, ok := e.r.GlobalObject().Get(name).(*goja.Object)
		if !ok || !e.r.InstanceOf(obj, ctor) {
			continue
		}
		if name == "Map" || name == "Set" {
			return e.describeIterable(obj, name, name == "Map")
		}
		return name + " { <items unknown> }"
	}
	if b, ok := obj.Export().(goja.ArrayBuffer); ok {
		return "ArrayBuffer { byteLength: " + strconv.Itoa(len(b.Bytes())) + " }"
	}
	if integerArray(obj) || isFloatArray(obj) {
		name := "TypedArray"
		if c, ok := obj.Get("constructor").(*goja.Object); ok {
			name = c.Get("name").String()
		}
		n := int(obj.Get("length").ToInteger())
		if n == 0 {
			return name + "(0) []"
		}
		var b strings.Builder
		b.WriteString(name + "(" + strconv.Itoa(n) + ") [ ")
		for i := 0; i < n && i < consoleMaxItems; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.inspectMember(obj.Get(strconv.Itoa(i))))
		}
		if n > consoleMaxItems {
			b.WriteString(", ... " + strconv.Itoa(n-consoleMaxItems) + " more items")
		}
		b.WriteString(" ]")
		return b.String()
	}
	return ""
}

func isFloatArray(v goja.Value) bool {
	t := v.ExportType()
	return t != nil && t.Kind() == reflect.Slice && (t.Elem().Kind() == reflect.Float32 || t.Elem().Kind() == reflect.Float64) &&
		!isArray(v)
}

func isArray(v goja.Value) bool {
	o, ok := v.(*goja.Object)
	return ok && o.ClassName() == "Array"
}

// describeIterable renders a Map (pairs) or a Set from its iterator.
func (e *execution) describeIterable(obj *goja.Object, name string, pairs bool) string {
	size := int(obj.Get("size").ToInteger())
	if size == 0 {
		return name + "(0) {}"
	}
	iterFn, ok := goja.AssertFunction(obj.GetSymbol(goja.SymIterator))
	if !ok {
		return ""
	}
	it, err := iterFn(obj)
	if err != nil {
		panic(err)
	}
	itObj := it.ToObject(e.r)
	next, ok := goja.AssertFunction(itObj.Get("next"))
	if !ok {
		return ""
	}
	var b strings.Builder
	b.WriteString(name + "(" + strconv.Itoa(size) + ") { ")
	for i := 0; i < consoleMaxItems; i++ {
		r, err := next(itObj)
		if err != nil {
			panic(err)
		}
		ro := r.ToObject(e.r)
		if ro.Get("done").ToBoolean() {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		v := ro.Get("value")
		if kv, ok := v.(*goja.Object); pairs && ok {
			b.WriteString(e.inspectMember(kv.Get("0")) + " => " + e.inspectMember(kv.Get("1")))
		} else {
			b.WriteString(e.inspectMember(v))
		}
	}
	if size > consoleMaxItems {
		b.WriteString(", ... " + strconv.Itoa(size-consoleMaxItems) + " more items")
	}
	b.WriteString(" }")
	return b.String()
}

// inspectMember formats a value inside a container: a string quoted as
// Node.js quotes it, anything else as console.log formats it.
func (e *execution) inspectMember(v goja.Value) string {
	if v != nil && goja.IsString(v) {
		s := v.String()
		q := "'"
		if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
			q = `"`
		}
		s = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
		if q == "'" {
			s = strings.ReplaceAll(s, "'", `\'`)
		}
		return q + s + q
	}
	return e.formatValue(v)
}
