package engine

import (
	"fmt"
	"strconv"

	"github.com/dop251/goja"
)

const (
	contentTypeText = "text/plain; charset=utf-8"
	contentTypeJSON = "application/json"
)

// toResponse converts what the handler returned: a Response as is, a
// string as text, a plain object or array as JSON, nothing as 204.
func (e *execution) toResponse(v goja.Value) (*Response, *ExecError) {
	if isNullish(v) {
		return &Response{Status: 204, Header: Header{}}, nil
	}
	if goja.IsString(v) {
		return e.checkSize(&Response{Status: 200,
			Header: Header{"Content-Type": {contentTypeText}}, Body: []byte(v.String())})
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		return nil, invalidResponse(kindOf(v))
	}
	if rs, ok := stateOf[*responseState](obj); ok {
		return e.fromResponseState(rs)
	}
	t := obj.ExportType()
	plain := (t == reflectTypeMap && obj.ClassName() == "Object") || obj.ClassName() == "Array"
	if !plain {
		return nil, invalidResponse(e.kindOfObject(obj))
	}
	s, err := e.toJSON(obj)
	if err != nil {
		xe := e.jsError(err)
		if isException(err) {
			xe.Code = CodeInvalidResponse
			xe.Message = "cannot serialize the returned value as JSON: " + xe.Message
		}
		return nil, xe
	}
	if s == "" {
		return nil, invalidResponse("a value JSON.stringify turns into undefined")
	}
	return e.checkSize(&Response{Status: 200,
		Header: Header{"Content-Type": {contentTypeJSON}}, Body: []byte(s)})
}

func (e *execution) fromResponseState(rs *responseState) (*Response, *ExecError) {
	if rs.status == 0 {
		return nil, invalidResponse("an error Response (Response.error())")
	}
	if rs.body.used {
		return nil, &ExecError{Code: CodeInvalidResponse, Message: "the returned Response's body was already read"}
	}
	return e.checkSize(&Response{Status: rs.status, Header: rs.headers.toHeader(), Body: rs.body.data})
}

func (e *execution) checkSize(resp *Response) (*Response, *ExecError) {
	if n := len(resp.Body); n > e.lim.MaxResponseBytes {
		return nil, &ExecError{Code: CodeOutputLimit, Message: fmt.Sprintf(
			"response body is %d bytes, more than the limit of %d bytes", n, e.lim.MaxResponseBytes)}
	}
	if resp.Body == nil {
		resp.Body = []byte{}
	}
	return resp, nil
}

func invalidResponse(what string) *ExecError {
	return &ExecError{Code: CodeInvalidResponse, Message: "the handler returned " + what +
		"; return a Response, a string, a plain object or array, or nothing"}
}

func kindOf(v goja.Value) string {
	switch {
	case goja.IsNumber(v):
		return "a number (" + v.String() + ")"
	case goja.IsBigInt(v):
		return "a bigint"
	}
	if _, ok := v.(*goja.Symbol); ok {
		return "a symbol"
	}
	if b, ok := v.Export().(bool); ok {
		return "a boolean (" + strconv.FormatBool(b) + ")"
	}
	return "a " + v.ExportType().String()
}

func (e *execution) kindOfObject(obj *goja.Object) string {
	if _, ok := goja.AssertFunction(obj); ok {
		return "a function"
	}
	switch obj.ExportType() {
	case reflectTypePromise:
		return "a promise inside a value (await it)"
	}
	if name := e.nativeName(obj); name != "" {
		return "a " + name
	}
	return "an object of class " + obj.ClassName()
}
