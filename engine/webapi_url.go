package engine

import (
	"sort"
	"strings"

	"github.com/dop251/goja"
)

// urlState is the state of a URL object; its searchParams object, once
// made, shares the query.
type urlState struct {
	instance
	e      *execution
	rec    *urlRecord
	params *searchParams
}

var urlProps = map[string]bool{
	"href": true, "protocol": true, "username": true, "password": true, "host": true,
	"hostname": true, "port": true, "pathname": true, "search": true, "hash": true,
	"origin": true, "searchParams": true,
}

func (s *urlState) Get(key string) goja.Value {
	e, u := s.e, s.rec
	switch key {
	case "href":
		return e.str(u.href())
	case "protocol":
		return e.str(u.protocol())
	case "username":
		return e.str(u.username())
	case "password":
		return e.str(u.password())
	case "host":
		return e.str(u.host())
	case "hostname":
		return e.str(u.hostname())
	case "port":
		return e.str(u.port())
	case "pathname":
		return e.str(u.pathname())
	case "search":
		return e.str(u.search())
	case "hash":
		return e.str(u.hash())
	case "origin":
		return e.str(u.origin())
	case "searchParams":
		if s.params == nil {
			s.params = &searchParams{e: e, list: parseURLEncoded(u.query()), owner: s}
		}
		return e.searchParamsObject(s.params)
	}
	return s.instance.Get(key)
}

func (s *urlState) Has(key string) bool { return urlProps[key] || s.instance.Has(key) }

// Set implements the URL setters; values a setter rejects are ignored, as
// the standard says, except for href, which throws.
func (s *urlState) Set(key string, v goja.Value) bool {
	if !urlProps[key] {
		return s.instance.Set(key, v)
	}
	val := v.String()
	switch key {
	case "href":
		rec, err := parseURL(val, "")
		if err != nil {
			s.e.throw("TypeError", "Invalid URL: "+quote(val))
		}
		s.rec = rec
	case "origin", "searchParams":
		return false // read-only
	default:
		s.rec.set(key, val)
	}
	if s.params != nil && (key == "href" || key == "search") {
		s.params.list = parseURLEncoded(s.rec.query())
	}
	return true
}

// newURLObject makes a URL object for a parsed record.
func (e *execution) newURLObject(rec *urlRecord, proto *goja.Object) *goja.Object {
	return e.newInstance(classURL, &urlState{e: e, rec: rec}, proto)
}

// urlArgs parses the (url, base) arguments of the URL constructor.
func (e *execution) urlArgs(call []goja.Value) (*urlRecord, error) {
	arg := func(i int) goja.Value {
		if i < len(call) {
			return call[i]
		}
		return goja.Undefined()
	}
	input := arg(0).String()
	if u, ok := stateOf[*urlState](arg(0)); ok {
		input = u.rec.href()
	}
	base, hasBase := "", false
	if b := arg(1); !goja.IsUndefined(b) {
		base, hasBase = b.String(), true
		if u, ok := stateOf[*urlState](b); ok {
			base = u.rec.href()
		}
	}
	return parseURLBase(input, base, hasBase)
}

// searchParams is the state of a URLSearchParams object.
type searchParams struct {
	instance
	e     *execution
	list  []formPair
	owner *urlState // the URL whose query this is, if any
	obj   *goja.Object
}

func (p *searchParams) Get(key string) goja.Value {
	if key == "size" {
		return p.e.r.ToValue(len(p.list))
	}
	return p.instance.Get(key)
}

func (p *searchParams) Has(key string) bool { return key == "size" || p.instance.Has(key) }

func (p *searchParams) Set(key string, v goja.Value) bool {
	if key == "size" {
		return false
	}
	return p.instance.Set(key, v)
}

func (p *searchParams) encode() string { return encodeURLEncoded(p.list) }

// changed writes the list back into the owning URL's query.
func (p *searchParams) changed() {
	if p.owner == nil {
		return
	}
	p.owner.rec.set("search", p.encode())
}

func (e *execution) searchParamsObject(p *searchParams) *goja.Object {
	if p.obj == nil {
		p.obj = e.newInstance(classURLSearchParams, p, nil)
	}
	return p.obj
}

// fillSearchParams adds init: a query string, a URLSearchParams, an
// iterable of pairs or a record.
func (e *execution) fillSearchParams(p *searchParams, init goja.Value) {
	if isNullish(init) {
		return
	}
	if src, ok := stateOf[*searchParams](init); ok {
		p.list = append(p.list, src.list...)
		return
	}
	obj, ok := init.(*goja.Object)
	if !ok {
		p.list = parseURLEncoded(strings.TrimPrefix(init.String(), "?"))
		return
	}
	if it := obj.GetSymbol(goja.SymIterator); it != nil && !goja.IsUndefined(it) {
		e.r.ForOf(obj, func(item goja.Value) bool {
			pair, ok := item.(*goja.Object)
			if !ok || pair.Get("length").ToInteger() != 2 {
				e.throw("TypeError", "URLSearchParams init pairs must have exactly two items")
			}
			p.list = append(p.list, formPair{pair.Get("0").String(), pair.Get("1").String()})
			return true
		})
		return
	}
	for _, k := range obj.Keys() {
		p.list = append(p.list, formPair{k, obj.Get(k).String()})
	}
}

func init() {
	str := func(e *execution, call goja.FunctionCall) goja.Value {
		return e.str(thisState[*urlState](e, call).rec.href())
	}
	classSpecs[classURL] = &classSpec{
		name: "URL",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			rec, err := e.urlArgs(call.Arguments)
			if err != nil {
				e.throw("TypeError", "Invalid URL: "+quote(call.Argument(0).String()))
			}
			return e.newURLObject(rec, ctorProto(call))
		},
		methods: []methodSpec{{"toString", str}, {"toJSON", str}},
		statics: []methodSpec{
			{"canParse", func(e *execution, call goja.FunctionCall) goja.Value {
				_, err := e.urlArgs(call.Arguments)
				return e.r.ToValue(err == nil)
			}},
			{"parse", func(e *execution, call goja.FunctionCall) goja.Value {
				rec, err := e.urlArgs(call.Arguments)
				if err != nil {
					return goja.Null()
				}
				return e.newURLObject(rec, nil)
			}},
		},
	}

	this := func(e *execution, call goja.FunctionCall) *searchParams { return thisState[*searchParams](e, call) }
	classSpecs[classURLSearchParams] = &classSpec{
		name: "URLSearchParams",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			p := &searchParams{e: e}
			e.fillSearchParams(p, call.Argument(0))
			p.obj = e.newInstance(classURLSearchParams, p, ctorProto(call))
			return p.obj
		},
		iterator: "entries",
		methods: []methodSpec{
			{"append", func(e *execution, call goja.FunctionCall) goja.Value {
				p := this(e, call)
				p.list = append(p.list, formPair{call.Argument(0).String(), call.Argument(1).String()})
				p.changed()
				return goja.Undefined()
			}},
			{"delete", func(e *execution, call goja.FunctionCall) goja.Value {
				p := this(e, call)
				name, value := call.Argument(0).String(), call.Argument(1)
				out := p.list[:0]
				for _, kv := range p.list {
					if kv.name != name || !goja.IsUndefined(value) && kv.value != value.String() {
						out = append(out, kv)
					}
				}
				p.list = out
				p.changed()
				return goja.Undefined()
			}},
			{"get", func(e *execution, call goja.FunctionCall) goja.Value {
				name := call.Argument(0).String()
				for _, kv := range this(e, call).list {
					if kv.name == name {
						return e.str(kv.value)
					}
				}
				return goja.Null()
			}},
			{"getAll", func(e *execution, call goja.FunctionCall) goja.Value {
				name := call.Argument(0).String()
				var out []string
				for _, kv := range this(e, call).list {
					if kv.name == name {
						out = append(out, kv.value)
					}
				}
				return e.stringArray(out)
			}},
			{"has", func(e *execution, call goja.FunctionCall) goja.Value {
				name, value := call.Argument(0).String(), call.Argument(1)
				for _, kv := range this(e, call).list {
					if kv.name == name && (goja.IsUndefined(value) || kv.value == value.String()) {
						return e.r.ToValue(true)
					}
				}
				return e.r.ToValue(false)
			}},
			{"set", func(e *execution, call goja.FunctionCall) goja.Value {
				p := this(e, call)
				name, value := call.Argument(0).String(), call.Argument(1).String()
				out := p.list[:0]
				done := false
				for _, kv := range p.list {
					if kv.name != name {
						out = append(out, kv)
					} else if !done {
						out = append(out, formPair{name, value})
						done = true
					}
				}
				if !done {
					out = append(out, formPair{name, value})
				}
				p.list = out
				p.changed()
				return goja.Undefined()
			}},
			{"sort", func(e *execution, call goja.FunctionCall) goja.Value {
				p := this(e, call)
				sort.SliceStable(p.list, func(i, j int) bool { return lessUTF16(p.list[i].name, p.list[j].name) })
				p.changed()
				return goja.Undefined()
			}},
			{"toString", func(e *execution, call goja.FunctionCall) goja.Value {
				return e.str(this(e, call).encode())
			}},
			{"forEach", func(e *execution, call goja.FunctionCall) goja.Value {
				p := this(e, call)
				fn, ok := goja.AssertFunction(call.Argument(0))
				if !ok {
					e.throw("TypeError", "URLSearchParams.forEach: callback is not a function")
				}
				for _, kv := range append([]formPair(nil), p.list...) {
					if _, err := fn(call.Argument(1), e.str(kv.value), e.str(kv.name), call.This); err != nil {
						panic(err)
					}
				}
				return goja.Undefined()
			}},
			{"entries", func(e *execution, call goja.FunctionCall) goja.Value {
				list := this(e, call).list
				items := make([]goja.Value, len(list))
				for i, kv := range list {
					items[i] = e.pair(e.str(kv.name), e.str(kv.value))
				}
				return e.iterator(items)
			}},
			{"keys", func(e *execution, call goja.FunctionCall) goja.Value {
				list := this(e, call).list
				items := make([]goja.Value, len(list))
				for i, kv := range list {
					items[i] = e.str(kv.name)
				}
				return e.iterator(items)
			}},
			{"values", func(e *execution, call goja.FunctionCall) goja.Value {
				list := this(e, call).list
				items := make([]goja.Value, len(list))
				for i, kv := range list {
					items[i] = e.str(kv.value)
				}
				return e.iterator(items)
			}},
		},
	}
}
