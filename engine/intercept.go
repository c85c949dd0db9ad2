package engine

import (
	"github.com/dop251/goja"
)

// interceptState is an execution's part of an interceptor chain: ctx.data,
// and what ctx.next recorded.
type interceptState struct {
	data    goja.Value   // ctx.data, made on first use
	next    *goja.Object // the value ctx.next returns, made on first use
	request *Request     // the request ctx.next passed on, nil to keep it
}

// ctxData is ctx.data: the object the interceptors before this script
// filled (an empty one for the first), which an interceptor may change for
// the scripts after it.
func (e *execution) ctxData() goja.Value {
	if e.icpt.data != nil {
		return e.icpt.data
	}
	v := goja.Value(e.r.NewObject())
	if e.inv.Data != nil {
		parsed, thrown := e.parseJSON(string(e.inv.Data))
		if thrown == nil {
			if _, ok := parsed.(*goja.Object); ok {
				v = parsed
			}
		}
	}
	e.icpt.data = v
	return v
}

// ctxNext is ctx.next(request?): it records the request to pass on, if
// given, and returns a marker the intercept handler may return.
func (e *execution) ctxNext(call goja.FunctionCall) goja.Value {
	if !e.inv.Intercept {
		e.throw("TypeError", "ctx.next: only an interceptor passes a request on")
	}
	if arg := call.Argument(0); !isNullish(arg) {
		rs, ok := stateOf[*requestState](arg)
		if !ok {
			e.throw("TypeError", "ctx.next: give it a Request, or nothing to pass the request on as it is")
		}
		if rs.body.used {
			e.throw("TypeError", "ctx.next: the Request's body was already read")
		}
		e.icpt.request = &Request{Method: rs.method, URL: rs.url, Header: rs.headerList().toHeader(), Body: rs.body.data}
	}
	if e.icpt.next == nil {
		e.icpt.next = e.r.NewObject()
	}
	return e.icpt.next
}

// runIntercept calls the default export's intercept(request, env, ctx):
// a Response (or what a fetch handler may return) answers the request;
// nothing, or what ctx.next returned, passes it on, with ctx.data.
func (e *execution) runIntercept(def goja.Value) (*Response, *ExecError) {
	v, xe := e.callNamed(def, "intercept", "request, env, ctx", func() (goja.Value, error) { return e.newIncomingRequest(), nil })
	if xe != nil {
		return nil, xe
	}
	if isNullish(v) || (e.icpt.next != nil && v == goja.Value(e.icpt.next)) {
		next := &Next{Request: e.icpt.request, Data: e.inv.Data}
		if e.icpt.data != nil {
			s, ok := e.stringifyJSON(e.icpt.data)
			if !ok {
				return nil, &ExecError{Code: CodeInvalidResponse, Message: "ctx.data cannot be passed on as JSON"}
			}
			next.Data = []byte(s)
		}
		e.settleWaitUntil()
		e.passOn = next
		return nil, nil
	}
	resp, xe := e.toResponse(v)
	if xe != nil {
		return nil, xe
	}
	e.settleWaitUntil()
	return resp, nil
}
