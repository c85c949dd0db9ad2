package engine

import (
	"net/textproto"
	"sort"
	"strings"

	"github.com/dop251/goja"
)

// headerList is the state of a Headers object: lower-case names in
// insertion order, as the Fetch standard keeps them.
type headerList struct {
	instance
	e         *execution
	entries   []headerEntry
	immutable bool
	obj       *goja.Object // the Headers object, once made
}

type headerEntry struct{ name, value string }

func newHeaderList(e *execution) *headerList { return &headerList{e: e} }

// headerListFrom converts a Go header map.
func headerListFrom(e *execution, h Header) *headerList {
	l := &headerList{e: e}
	if len(h) == 0 {
		return l
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		lk := strings.ToLower(k)
		for _, v := range h[k] {
			l.entries = append(l.entries, headerEntry{lk, v})
		}
	}
	return l
}

// toHeader converts to a Go header map with canonical keys.
func (l *headerList) toHeader() Header {
	h := make(Header, len(l.entries))
	for _, en := range l.entries {
		k := textproto.CanonicalMIMEHeaderKey(en.name)
		h[k] = append(h[k], en.value)
	}
	return h
}

func (l *headerList) clone() *headerList {
	return &headerList{e: l.e, entries: append([]headerEntry(nil), l.entries...)}
}

func (l *headerList) get(name string) (string, bool) {
	var out string
	found := false
	for _, en := range l.entries {
		if en.name == name {
			if found {
				out += ", " + en.value
			} else {
				out, found = en.value, true
			}
		}
	}
	return out, found
}

func (l *headerList) has(name string) bool {
	for _, en := range l.entries {
		if en.name == name {
			return true
		}
	}
	return false
}

func (l *headerList) append(name, value string) {
	l.entries = append(l.entries, headerEntry{name, value})
}

func (l *headerList) set(name, value string) {
	for i, en := range l.entries {
		if en.name == name {
			l.entries[i].value = value
			l.remove(name, i+1)
			return
		}
	}
	l.append(name, value)
}

// remove deletes entries named name from index from on.
func (l *headerList) remove(name string, from int) {
	out := l.entries[:from]
	for _, en := range l.entries[from:] {
		if en.name != name {
			out = append(out, en)
		}
	}
	l.entries = out
}

// sorted returns the combined, sorted view used for iteration; set-cookie
// values stay separate.
func (l *headerList) sorted() []headerEntry {
	names := make([]string, 0, len(l.entries))
	seen := make(map[string]bool, len(l.entries))
	for _, en := range l.entries {
		if !seen[en.name] {
			seen[en.name] = true
			names = append(names, en.name)
		}
	}
	sort.Strings(names)
	out := make([]headerEntry, 0, len(names))
	for _, n := range names {
		if n == "set-cookie" {
			for _, en := range l.entries {
				if en.name == n {
					out = append(out, en)
				}
			}
			continue
		}
		v, _ := l.get(n)
		out = append(out, headerEntry{n, v})
	}
	return out
}

// isToken reports whether s is a valid header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// normName validates a header name and lower-cases it.
func (e *execution) normName(v goja.Value) string {
	n := v.String()
	if !isToken(n) {
		e.throw("TypeError", "Invalid header name: "+quote(n))
	}
	return strings.ToLower(n)
}

// normValue strips surrounding whitespace and refuses CR, LF and NUL,
// and, as a ByteString, characters beyond U+00FF.
func (e *execution) normValue(v goja.Value) string {
	s := strings.Trim(v.String(), " \t\r\n")
	if strings.ContainsAny(s, "\r\n\x00") {
		e.throw("TypeError", "Invalid header value")
	}
	for _, r := range s {
		if r > 0xFF {
			e.throw("TypeError", "Invalid header value: "+quote(s)+" has a character beyond U+00FF")
		}
	}
	return s
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return "\"" + s + "\""
}

// fillHeaders adds init (a Headers, an iterable of pairs or a record).
func (e *execution) fillHeaders(l *headerList, init goja.Value) {
	if isNullish(init) {
		return
	}
	if src, ok := stateOf[*headerList](init); ok {
		l.entries = append(l.entries, src.entries...)
		return
	}
	obj, ok := init.(*goja.Object)
	if !ok {
		e.throw("TypeError", "Headers init must be an object, an array of pairs or a Headers")
	}
	if it := obj.GetSymbol(goja.SymIterator); it != nil && !goja.IsUndefined(it) {
		e.r.ForOf(obj, func(item goja.Value) bool {
			p, ok := item.(*goja.Object)
			if !ok || p.Get("length").ToInteger() != 2 {
				e.throw("TypeError", "Headers init pairs must have exactly two items")
			}
			l.append(e.normName(p.Get("0")), e.normValue(p.Get("1")))
			return true
		})
		return
	}
	for _, k := range obj.Keys() {
		l.append(e.normName(e.str(k)), e.normValue(obj.Get(k)))
	}
}

// headersObject returns the Headers object of l, making it on first use.
func (e *execution) headersObject(l *headerList) *goja.Object {
	if l.obj == nil {
		l.obj = e.newInstance(classHeaders, l, nil)
	}
	return l.obj
}

func (l *headerList) mutable() *headerList {
	if l.immutable {
		l.e.throw("TypeError", "Can't modify immutable headers.")
	}
	return l
}

func init() {
	classSpecs[classHeaders] = &classSpec{
		name: "Headers",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			l := newHeaderList(e)
			e.fillHeaders(l, call.Argument(0))
			l.obj = e.newInstance(classHeaders, l, ctorProto(call))
			return l.obj
		},
		iterator: "entries",
		methods: []methodSpec{
			{"append", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call).mutable()
				l.append(e.normName(call.Argument(0)), e.normValue(call.Argument(1)))
				return goja.Undefined()
			}},
			{"set", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call).mutable()
				l.set(e.normName(call.Argument(0)), e.normValue(call.Argument(1)))
				return goja.Undefined()
			}},
			{"delete", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call).mutable()
				l.remove(e.normName(call.Argument(0)), 0)
				return goja.Undefined()
			}},
			{"get", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call)
				if v, ok := l.get(e.normName(call.Argument(0))); ok {
					return e.str(v)
				}
				return goja.Null()
			}},
			{"has", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call)
				return e.r.ToValue(l.has(e.normName(call.Argument(0))))
			}},
			{"getSetCookie", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call)
				var out []string
				for _, en := range l.entries {
					if en.name == "set-cookie" {
						out = append(out, en.value)
					}
				}
				return e.stringArray(out)
			}},
			{"forEach", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call)
				fn, ok := goja.AssertFunction(call.Argument(0))
				if !ok {
					e.throw("TypeError", "Headers.forEach: callback is not a function")
				}
				for _, en := range l.sorted() {
					if _, err := fn(call.Argument(1), e.str(en.value), e.str(en.name), call.This); err != nil {
						panic(err)
					}
				}
				return goja.Undefined()
			}},
			{"entries", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call)
				s := l.sorted()
				items := make([]goja.Value, len(s))
				for i, en := range s {
					items[i] = e.pair(e.str(en.name), e.str(en.value))
				}
				return e.iterator(items)
			}},
			{"keys", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call)
				s := l.sorted()
				items := make([]goja.Value, len(s))
				for i, en := range s {
					items[i] = e.str(en.name)
				}
				return e.iterator(items)
			}},
			{"values", func(e *execution, call goja.FunctionCall) goja.Value {
				l := thisState[*headerList](e, call)
				s := l.sorted()
				items := make([]goja.Value, len(s))
				for i, en := range s {
					items[i] = e.str(en.value)
				}
				return e.iterator(items)
			}},
		},
	}
}
