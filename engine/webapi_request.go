package engine

import (
	"strings"

	"github.com/dop251/goja"
)

// requestState is the state of a Request object. The incoming request
// converts its headers only when a script asks for them.
type requestState struct {
	instance
	e        *execution
	method   string
	url      string
	headers  *headerList // nil until needed when src is set
	src      Header      // headers of the incoming request, not converted yet
	body     body
	redirect string
	follows  goja.Value // the AbortSignal the request's signal follows, or nil
	signal   goja.Value // made the first time a script asks
}

func (s *requestState) bodyOf() *body { return &s.body }

func (s *requestState) headerList() *headerList {
	if s.headers == nil {
		s.headers = headerListFrom(s.e, s.src)
		s.headers.immutable = true
		s.src = nil
	}
	return s.headers
}

var requestProps = map[string]bool{
	"method": true, "url": true, "headers": true, "body": true, "bodyUsed": true,
	"redirect": true, "signal": true, "cache": true, "credentials": true, "mode": true,
	"integrity": true, "keepalive": true,
}

func (s *requestState) Get(key string) goja.Value {
	e := s.e
	switch key {
	case "method":
		return e.str(s.method)
	case "url":
		return e.str(s.url)
	case "headers":
		return e.headersObject(s.headerList())
	case "body":
		return e.bodyProperty(&s.body)
	case "bodyUsed":
		return e.r.ToValue(s.body.used)
	case "redirect":
		return e.str(s.redirect)
	case "signal":
		if s.signal == nil {
			s.signal = e.followSignal(s.follows)
		}
		return s.signal
	case "cache":
		return e.str("default")
	case "credentials":
		return e.str("same-origin")
	case "mode":
		return e.str("cors")
	case "integrity":
		return e.str("")
	case "keepalive":
		return e.r.ToValue(false)
	}
	return s.instance.Get(key)
}

func (s *requestState) Has(key string) bool { return requestProps[key] || s.instance.Has(key) }

func (s *requestState) Set(key string, v goja.Value) bool {
	if requestProps[key] {
		return false
	}
	return s.instance.Set(key, v)
}

// newIncomingRequest makes the Request handed to the handler.
func (e *execution) newIncomingRequest() goja.Value {
	in := &e.inv.Request
	method := in.Method
	if method == "" {
		method = "GET"
	}
	s := &requestState{e: e, method: method, url: in.URL, src: in.Header, redirect: "follow",
		body: body{data: in.Body, present: len(in.Body) > 0}}
	return e.newInstance(classRequest, s, nil)
}

var forbiddenMethods = map[string]bool{"CONNECT": true, "TRACE": true, "TRACK": true}

// normMethod upper-cases the standard methods, as fetch does.
func (e *execution) normMethod(m string) string {
	if !isToken(m) {
		e.throw("TypeError", "Invalid HTTP method: "+quote(m))
	}
	u := strings.ToUpper(m)
	if forbiddenMethods[u] {
		e.throw("TypeError", "Forbidden HTTP method: "+quote(m))
	}
	switch u {
	case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
		return u
	}
	return m
}

// constructRequest implements new Request(input, init).
func (e *execution) constructRequest(call goja.ConstructorCall) *goja.Object {
	input, init := call.Argument(0), call.Argument(1)
	s := &requestState{e: e, method: "GET", redirect: "follow"}
	var srcBody *body
	if src, ok := stateOf[*requestState](input); ok {
		s.method, s.url, s.redirect = src.method, src.url, src.redirect
		s.headers = src.headerList().clone()
		srcBody = &src.body
		s.follows = src.Get("signal")
	} else {
		u, err := parseURL(input.String(), "")
		if err != nil {
			e.throw("TypeError", "Invalid URL: "+quote(input.String()))
		}
		if u.username() != "" || u.password() != "" {
			e.throw("TypeError", "Request cannot be constructed from a URL that includes credentials: "+quote(input.String()))
		}
		s.url = u.href()
		s.headers = newHeaderList(e)
	}
	if m := getOpt(init, "method"); m != nil {
		s.method = e.normMethod(m.String())
	}
	if h := getOpt(init, "headers"); h != nil {
		s.headers = newHeaderList(e)
		e.fillHeaders(s.headers, h)
	}
	if rd := getOpt(init, "redirect"); rd != nil {
		switch v := rd.String(); v {
		case "follow", "error", "manual":
			s.redirect = v
		default:
			e.throw("TypeError", "Invalid redirect mode: "+quote(v))
		}
	}
	if sig := getOpt(init, "signal"); sig != nil {
		if goja.IsNull(sig) {
			s.follows = nil
		} else if !e.r.InstanceOf(sig, e.prelude().Get("AbortSignal").(*goja.Object)) {
			e.throw("TypeError", "Request: signal is not an AbortSignal")
		} else {
			s.follows = sig
		}
	}
	if b := getOpt(init, "body"); b != nil && !goja.IsNull(b) {
		if s.method == "GET" || s.method == "HEAD" {
			e.throw("TypeError", "Request with GET/HEAD method cannot have body.")
		}
		data, ctype, _ := e.bodyInit(b)
		s.body = body{data: data, present: true}
		if ctype != "" && !s.headers.has("content-type") {
			s.headers.append("content-type", ctype)
		}
	} else if srcBody != nil && srcBody.present {
		data, err := e.take(srcBody)
		if err != nil {
			panic(err)
		}
		s.body = body{data: data, present: true}
	}
	return e.newInstance(classRequest, s, ctorProto(call))
}

func init() {
	owner := func(e *execution, call goja.FunctionCall) bodyOwner { return thisState[*requestState](e, call) }
	classSpecs[classRequest] = &classSpec{
		name: "Request",
		ctor: (*execution).constructRequest,
		methods: append(bodyMethods(owner), methodSpec{"clone", func(e *execution, call goja.FunctionCall) goja.Value {
			s := thisState[*requestState](e, call)
			if s.body.used {
				e.throw("TypeError", "Cannot clone a Request whose body was already used")
			}
			c := &requestState{e: e, method: s.method, url: s.url, redirect: s.redirect, follows: s.Get("signal"),
				headers: s.headerList().clone(), body: body{data: s.body.data, present: s.body.present}}
			return e.newInstance(classRequest, c, nil)
		}}),
	}
}

// followSignal is a request's signal: a new AbortSignal that is aborted
// when follows (if not nil) is, as AbortSignal.any([follows]) makes.
func (e *execution) followSignal(follows goja.Value) goja.Value {
	ctor := e.prelude().Get("AbortSignal").(*goja.Object)
	anyFn, _ := goja.AssertFunction(ctor.Get("any"))
	list := []any{}
	if follows != nil {
		list = append(list, follows)
	}
	v, err := anyFn(ctor, e.r.ToValue(list))
	if err != nil {
		panic(err)
	}
	return v
}
