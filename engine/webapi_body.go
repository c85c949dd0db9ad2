package engine

import (
	"bytes"
	"mime"
	"strings"

	"github.com/dop251/goja"
)

// body is the fully buffered body of a Request or Response.
type body struct {
	data    []byte
	present bool // false for a null body
	used    bool
	stream  *goja.Object // the body property, once made
}

// bodyOwner is a Request or Response state.
type bodyOwner interface {
	bodyOf() *body
	headerList() *headerList
}

// take consumes the body, failing if it was consumed before.
func (e *execution) take(b *body) ([]byte, goja.Value) {
	if b.used {
		return nil, e.newError("TypeError", "Body has already been used")
	}
	if b.present {
		b.used = true
	}
	return b.data, nil
}

// bodyInit converts a body given to a constructor into bytes and the
// content type it implies ("" for none). ok is false for a null body.
func (e *execution) bodyInit(v goja.Value) (data []byte, ctype string, ok bool) {
	if isNullish(v) {
		return nil, "", false
	}
	if goja.IsString(v) {
		return []byte(v.String()), "text/plain;charset=UTF-8", true
	}
	if b, isBuf := bufferBytes(e.r, v); isBuf {
		return append([]byte(nil), b...), "", true
	}
	if p, isParams := stateOf[*searchParams](v); isParams {
		return []byte(p.encode()), "application/x-www-form-urlencoded;charset=UTF-8", true
	}
	if f, isForm := stateOf[*formData](v); isForm {
		data, ctype := f.multipart()
		return data, ctype, true
	}
	if bl, isBlob := stateOf[*blob](v); isBlob {
		return append([]byte(nil), bl.data...), bl.typ, true
	}
	if s, isStream := stateOf[*bodyStream](v); isStream {
		data, err := e.take(s.src)
		if err != nil {
			panic(err)
		}
		return append([]byte(nil), data...), "", true
	}
	return []byte(v.String()), "text/plain;charset=UTF-8", true
}

// decodeText is the Encoding standard's "UTF-8 decode": a byte-order
// mark is dropped and each maximal ill-formed subsequence becomes one
// U+FFFD.
func decodeText(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	return decodeUTF8(b)
}

// bodyMethods are shared by Request and Response.
func bodyMethods(owner func(e *execution, call goja.FunctionCall) bodyOwner) []methodSpec {
	read := func(e *execution, call goja.FunctionCall, conv func(o bodyOwner, data []byte) (goja.Value, goja.Value)) goja.Value {
		o := owner(e, call)
		data, err := e.take(o.bodyOf())
		if err != nil {
			return e.rejected(err)
		}
		v, err := conv(o, data)
		if err != nil {
			return e.rejected(err)
		}
		return e.resolved(v)
	}
	return []methodSpec{
		{"text", func(e *execution, call goja.FunctionCall) goja.Value {
			return read(e, call, func(_ bodyOwner, data []byte) (goja.Value, goja.Value) {
				return e.str(decodeText(data)), nil
			})
		}},
		{"json", func(e *execution, call goja.FunctionCall) goja.Value {
			return read(e, call, func(_ bodyOwner, data []byte) (goja.Value, goja.Value) {
				return e.parseJSON(decodeText(data))
			})
		}},
		{"arrayBuffer", func(e *execution, call goja.FunctionCall) goja.Value {
			return read(e, call, func(_ bodyOwner, data []byte) (goja.Value, goja.Value) {
				return e.newArrayBuffer(data), nil
			})
		}},
		{"bytes", func(e *execution, call goja.FunctionCall) goja.Value {
			return read(e, call, func(_ bodyOwner, data []byte) (goja.Value, goja.Value) {
				return e.newUint8Array(data), nil
			})
		}},
		{"blob", func(e *execution, call goja.FunctionCall) goja.Value {
			return read(e, call, func(o bodyOwner, data []byte) (goja.Value, goja.Value) {
				ct, _ := o.headerList().get("content-type")
				return e.newBlob(append([]byte(nil), data...), ct, "", false), nil
			})
		}},
		{"formData", func(e *execution, call goja.FunctionCall) goja.Value {
			return read(e, call, func(o bodyOwner, data []byte) (goja.Value, goja.Value) {
				ct, _ := o.headerList().get("content-type")
				return e.parseFormBody(ct, data)
			})
		}},
	}
}

// parseFormBody parses a urlencoded or multipart body into a FormData.
func (e *execution) parseFormBody(ctype string, data []byte) (goja.Value, goja.Value) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(ctype, ";")[0]))
	}
	fd := &formData{e: e}
	switch mt {
	case "application/x-www-form-urlencoded":
		for _, p := range parseURLEncoded(string(data)) {
			fd.entries = append(fd.entries, formEntry{name: p.name, value: p.value})
		}
	case "multipart/form-data":
		if err := fd.parseMultipart(data, params["boundary"]); err != nil {
			return nil, e.newError("TypeError", "Could not parse multipart/form-data body: "+err.Error())
		}
	default:
		return nil, e.newError("TypeError",
			"Could not parse content as FormData: content type is "+quote(ctype))
	}
	return e.newInstance(classFormData, fd, nil), nil
}

// bodyStream is a minimal ReadableStream over a buffered body, enough to
// pass a body on (new Response(request.body)) or read it with getReader().
type bodyStream struct {
	instance
	e   *execution
	src *body
}

func (s *bodyStream) Get(key string) goja.Value {
	switch key {
	case "locked":
		return s.e.r.ToValue(s.src.used)
	}
	return s.instance.Get(key)
}

// bodyProperty returns the body property of a Request or Response.
func (e *execution) bodyProperty(b *body) goja.Value {
	if !b.present {
		return goja.Null()
	}
	if b.stream == nil {
		b.stream = e.newInstance(classStream, &bodyStream{e: e, src: b}, nil)
	}
	return b.stream
}

type streamReader struct {
	instance
	e    *execution
	src  *body
	done bool
}

func init() {
	classSpecs[classStream] = &classSpec{
		name: "ReadableStream",
		methods: []methodSpec{
			{"getReader", func(e *execution, call goja.FunctionCall) goja.Value {
				s := thisState[*bodyStream](e, call)
				if s.src.used {
					e.throw("TypeError", "ReadableStream is locked or disturbed")
				}
				s.src.used = true
				return e.newInstance(classStreamReader, &streamReader{e: e, src: s.src}, nil)
			}},
		},
	}
	classSpecs[classStreamReader] = &classSpec{
		name: "ReadableStreamDefaultReader",
		methods: []methodSpec{
			{"read", func(e *execution, call goja.FunctionCall) goja.Value {
				rd := thisState[*streamReader](e, call)
				res := e.r.NewObject()
				if rd.done || len(rd.src.data) == 0 {
					rd.done = true
					_ = res.Set("done", true)
					_ = res.Set("value", goja.Undefined())
				} else {
					rd.done = true
					_ = res.Set("done", false)
					_ = res.Set("value", e.newUint8Array(rd.src.data))
				}
				return e.resolved(res)
			}},
			{"releaseLock", func(e *execution, call goja.FunctionCall) goja.Value { return goja.Undefined() }},
			{"cancel", func(e *execution, call goja.FunctionCall) goja.Value {
				thisState[*streamReader](e, call).done = true
				return e.resolved(goja.Undefined())
			}},
		},
	}
}
