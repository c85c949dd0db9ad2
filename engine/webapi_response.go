package engine

import (
	"strconv"

	"github.com/dop251/goja"
)

// responseState is the state of a Response object.
type responseState struct {
	instance
	e          *execution
	status     int // 0 for Response.error()
	statusText string
	headers    *headerList
	body       body
	redirected bool
	url        string
	typ        string
}

func (s *responseState) bodyOf() *body           { return &s.body }
func (s *responseState) headerList() *headerList { return s.headers }

var responseProps = map[string]bool{
	"status": true, "statusText": true, "ok": true, "headers": true, "body": true,
	"bodyUsed": true, "redirected": true, "url": true, "type": true,
}

func (s *responseState) Get(key string) goja.Value {
	e := s.e
	switch key {
	case "status":
		return e.r.ToValue(s.status)
	case "statusText":
		return e.str(s.statusText)
	case "ok":
		return e.r.ToValue(s.status >= 200 && s.status <= 299)
	case "headers":
		return e.headersObject(s.headers)
	case "body":
		return e.bodyProperty(&s.body)
	case "bodyUsed":
		return e.r.ToValue(s.body.used)
	case "redirected":
		return e.r.ToValue(s.redirected)
	case "url":
		return e.str(s.url)
	case "type":
		return e.str(s.typ)
	}
	return s.instance.Get(key)
}

func (s *responseState) Has(key string) bool { return responseProps[key] || s.instance.Has(key) }

func (s *responseState) Set(key string, v goja.Value) bool {
	if responseProps[key] {
		return false
	}
	return s.instance.Set(key, v)
}

// nullBodyStatus reports statuses that cannot carry a body.
func nullBodyStatus(status int) bool {
	return status == 101 || status == 103 || status == 204 || status == 205 || status == 304
}

// newResponse builds a response from a body and an init dictionary.
func (e *execution) newResponse(data []byte, ctype string, hasBody bool, init goja.Value) *responseState {
	s := &responseState{e: e, status: 200, typ: "default"}
	if st := getOpt(init, "status"); st != nil {
		n := st.ToInteger()
		if n < 200 || n > 599 {
			e.throw("RangeError", "The status provided ("+st.String()+") is outside the range [200, 599].")
		}
		s.status = int(n)
	}
	if t := getOpt(init, "statusText"); t != nil {
		s.statusText = t.String()
		if !validReason(s.statusText) {
			e.throw("TypeError", "Invalid statusText")
		}
	}
	s.headers = newHeaderList(e)
	if h := getOpt(init, "headers"); h != nil {
		e.fillHeaders(s.headers, h)
	}
	if hasBody {
		if nullBodyStatus(s.status) {
			e.throw("TypeError", "Response with null body status ("+strconv.Itoa(s.status)+") cannot have body")
		}
		s.body = body{data: data, present: true}
		if ctype != "" && !s.headers.has("content-type") {
			s.headers.append("content-type", ctype)
		}
	}
	return s
}

func validReason(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

func init() {
	owner := func(e *execution, call goja.FunctionCall) bodyOwner { return thisState[*responseState](e, call) }
	classSpecs[classResponse] = &classSpec{
		name: "Response",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			data, ctype, ok := e.bodyInit(call.Argument(0))
			s := e.newResponse(data, ctype, ok, call.Argument(1))
			return e.newInstance(classResponse, s, ctorProto(call))
		},
		methods: append(bodyMethods(owner), methodSpec{"clone", func(e *execution, call goja.FunctionCall) goja.Value {
			s := thisState[*responseState](e, call)
			if s.body.used {
				e.throw("TypeError", "Cannot clone a Response whose body was already used")
			}
			c := *s
			c.instance = instance{}
			c.headers = s.headers.clone()
			c.body = body{data: s.body.data, present: s.body.present}
			return e.newInstance(classResponse, &c, nil)
		}}),
		statics: []methodSpec{
			{"json", func(e *execution, call goja.FunctionCall) goja.Value {
				js, err := e.toJSON(call.Argument(0))
				if err != nil {
					panic(err)
				}
				if js == "" {
					e.throw("TypeError", "Response.json: the value cannot be serialized as JSON")
				}
				s := e.newResponse([]byte(js), contentTypeJSON, true, call.Argument(1))
				return e.newInstance(classResponse, s, nil)
			}},
			{"redirect", func(e *execution, call goja.FunctionCall) goja.Value {
				status := 302
				if st := call.Argument(1); !goja.IsUndefined(st) {
					status = int(st.ToInteger())
				}
				switch status {
				case 301, 302, 303, 307, 308:
				default:
					e.throw("RangeError", "Invalid redirect status: "+strconv.Itoa(status))
				}
				target := call.Argument(0).String()
				u, err := parseURL(target, e.inv.Request.URL)
				if err != nil {
					e.throw("TypeError", "Invalid URL: "+quote(target))
				}
				s := &responseState{e: e, status: status, typ: "default", headers: newHeaderList(e)}
				s.headers.append("location", u.href())
				s.headers.immutable = true
				return e.newInstance(classResponse, s, nil)
			}},
			{"error", func(e *execution, call goja.FunctionCall) goja.Value {
				s := &responseState{e: e, status: 0, typ: "error", headers: newHeaderList(e)}
				s.headers.immutable = true
				return e.newInstance(classResponse, s, nil)
			}},
		},
	}
}
