package engine

import (
	"reflect"

	"github.com/dop251/goja"
)

// Web API classes are built per runtime, lazily: a prototype is made with
// the first instance, a constructor the first time a script names the
// class, and each method the first time it is looked up. Instances are goja dynamic objects backed by Go state, so a
// method finds its state with Export and nothing is copied into JS until
// asked for. Creating a goja function costs about a microsecond, so this
// laziness is most of what keeps an execution cheap.

// nativeMethod implements one method of a Web API class.
type nativeMethod func(e *execution, call goja.FunctionCall) goja.Value

type methodSpec struct {
	name string
	fn   nativeMethod
}

// classID indexes the classes of an execution.
type classID int

const (
	classHeaders classID = iota
	classRequest
	classResponse
	classURL
	classURLSearchParams
	classFormData
	classBlob
	classFile
	classTextEncoder
	classTextDecoder
	classStream
	classStreamReader
	numClasses
)

// classSpec describes a class; specs are static and shared by runtimes.
type classSpec struct {
	name      string
	ctor      func(e *execution, call goja.ConstructorCall) *goja.Object // nil: not constructible
	parent    classID                                                    // prototype parent, if hasParent
	hasParent bool
	methods   []methodSpec
	statics   []methodSpec
	iterator  string // method that [Symbol.iterator] aliases, if any
}

var classSpecs [numClasses]*classSpec

// classRT is a class in one runtime. The prototype is made when the first
// instance is, the constructor only when a script names the class.
type classRT struct {
	ctor  *goja.Object
	proto *goja.Object
}

func (e *execution) classRT(id classID) *classRT { return &e.classes[id] }

// proto returns the prototype of class id, building it on first use.
func (e *execution) proto(id classID) *goja.Object {
	c := e.classRT(id)
	if c.proto != nil {
		return c.proto
	}
	spec := classSpecs[id]
	r := e.r
	c.proto = r.NewDynamicObject(&methodTable{e: e, methods: spec.methods, class: id, isProto: true})
	switch {
	case spec.hasParent:
		_ = c.proto.SetPrototype(e.proto(spec.parent))
	case spec.iterator != "":
		// Dynamic objects cannot hold symbols: the iterator lives one
		// level up, on an ordinary object.
		iterProto := r.NewObject()
		name := spec.iterator
		_ = iterProto.SetSymbol(goja.SymIterator, r.ToValue(func(call goja.FunctionCall) goja.Value {
			this := call.This.ToObject(r)
			m, ok := goja.AssertFunction(this.Get(name))
			if !ok {
				panic(r.NewTypeError("Illegal invocation"))
			}
			v, err := m(this)
			if err != nil {
				panic(err)
			}
			return v
		}))
		_ = c.proto.SetPrototype(iterProto)
	}
	return c.proto
}

// ctor returns the constructor of class id, building it on first use.
func (e *execution) ctor(id classID) *goja.Object {
	c := e.classRT(id)
	if c.ctor != nil {
		return c.ctor
	}
	spec := classSpecs[id]
	r := e.r
	if spec.ctor != nil {
		c.ctor = r.ToValue(func(call goja.ConstructorCall) *goja.Object {
			return spec.ctor(e, call)
		}).(*goja.Object)
	} else {
		c.ctor = r.ToValue(func(call goja.ConstructorCall) *goja.Object {
			panic(r.NewTypeError("Illegal constructor"))
		}).(*goja.Object)
	}
	_ = c.ctor.Set("prototype", e.proto(id))
	if len(spec.statics) > 0 {
		// Statics live on a dynamic object between the constructor and
		// Function.prototype, made on first use like methods.
		st := r.NewDynamicObject(&methodTable{e: e, methods: spec.statics, class: id})
		_ = st.SetPrototype(c.ctor.Prototype())
		_ = c.ctor.SetPrototype(st)
	}
	return c.ctor
}

// newInstance makes an instance of class id backed by state. proto, when
// not nil, is the prototype chosen by `new` (subclasses).
func (e *execution) newInstance(id classID, state goja.DynamicObject, proto *goja.Object) *goja.Object {
	o := e.r.NewDynamicObject(state)
	if proto == nil {
		proto = e.proto(id)
	}
	_ = o.SetPrototype(proto)
	return o
}

// ctorProto returns the prototype `new` picked for a constructor call.
func ctorProto(call goja.ConstructorCall) *goja.Object {
	if call.This != nil {
		return call.This.Prototype()
	}
	return nil
}

// methodTable is a prototype (or a constructor's statics) whose methods
// are made on first lookup. Properties a script sets are kept too.
type methodTable struct {
	e       *execution
	methods []methodSpec
	fns     []goja.Value
	class   classID
	isProto bool // a prototype has a constructor property
	extra   map[string]goja.Value
	deleted map[string]bool
}

func (t *methodTable) find(key string) int {
	for i := range t.methods {
		if t.methods[i].name == key {
			return i
		}
	}
	return -1
}

func (t *methodTable) Get(key string) goja.Value {
	if v, ok := t.extra[key]; ok {
		return v
	}
	if t.deleted[key] {
		return nil
	}
	if key == "constructor" && t.isProto {
		return t.e.ctor(t.class)
	}
	i := t.find(key)
	if i < 0 {
		return nil
	}
	if t.fns == nil {
		t.fns = make([]goja.Value, len(t.methods))
	}
	if t.fns[i] == nil {
		fn, e := t.methods[i].fn, t.e
		t.fns[i] = e.r.ToValue(func(call goja.FunctionCall) goja.Value { return fn(e, call) })
	}
	return t.fns[i]
}

func (t *methodTable) Set(key string, val goja.Value) bool {
	if t.extra == nil {
		t.extra = make(map[string]goja.Value)
	}
	t.extra[key] = val
	return true
}

func (t *methodTable) Has(key string) bool {
	if _, ok := t.extra[key]; ok {
		return true
	}
	if t.deleted[key] {
		return false
	}
	return (key == "constructor" && t.isProto) || t.find(key) >= 0
}

func (t *methodTable) Delete(key string) bool {
	delete(t.extra, key)
	if t.deleted == nil {
		t.deleted = make(map[string]bool)
	}
	t.deleted[key] = true
	return true
}

func (t *methodTable) Keys() []string { return keysOf(t.extra) }

// instance holds the properties a script sets on a Web API object; state
// types embed it and answer their own read-only properties first.
type instance struct {
	extra map[string]goja.Value
}

func (in *instance) Get(key string) goja.Value { return in.extra[key] }

func (in *instance) Set(key string, val goja.Value) bool {
	if in.extra == nil {
		in.extra = make(map[string]goja.Value)
	}
	in.extra[key] = val
	return true
}

func (in *instance) Has(key string) bool {
	_, ok := in.extra[key]
	return ok
}

func (in *instance) Delete(key string) bool {
	delete(in.extra, key)
	return true
}

func (in *instance) Keys() []string { return keysOf(in.extra) }

func keysOf(m map[string]goja.Value) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// stateOf returns the Go state behind a Web API object, if v is one of T.
func stateOf[T any](v goja.Value) (T, bool) {
	var zero T
	o, ok := v.(*goja.Object)
	if !ok || o.ExportType() != reflect.TypeFor[T]() {
		return zero, false
	}
	s, ok := o.Export().(T)
	return s, ok
}

// thisState returns the state of `this` or throws "Illegal invocation".
func thisState[T any](e *execution, call goja.FunctionCall) T {
	s, ok := stateOf[T](call.This)
	if !ok {
		panic(e.r.NewTypeError("Illegal invocation"))
	}
	return s
}
