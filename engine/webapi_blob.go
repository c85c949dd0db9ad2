package engine

import (
	"bytes"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// blob is the state of a Blob or a File (isFile).
type blob struct {
	instance
	e        *execution
	data     []byte
	typ      string
	name     string
	isFile   bool
	modified int64 // ms since the epoch
	obj      *goja.Object
}

var blobProps = map[string]bool{"size": true, "type": true}
var fileProps = map[string]bool{"size": true, "type": true, "name": true, "lastModified": true}

func (b *blob) props() map[string]bool {
	if b.isFile {
		return fileProps
	}
	return blobProps
}

func (b *blob) Get(key string) goja.Value {
	switch {
	case key == "size":
		return b.e.r.ToValue(len(b.data))
	case key == "type":
		return b.e.str(b.typ)
	case key == "name" && b.isFile:
		return b.e.str(b.name)
	case key == "lastModified" && b.isFile:
		return b.e.r.ToValue(b.modified)
	}
	return b.instance.Get(key)
}

func (b *blob) Has(key string) bool { return b.props()[key] || b.instance.Has(key) }

func (b *blob) Set(key string, v goja.Value) bool {
	if b.props()[key] {
		return false
	}
	return b.instance.Set(key, v)
}

func (e *execution) newBlob(data []byte, typ, name string, isFile bool) goja.Value {
	b := &blob{e: e, data: data, typ: typ, name: name, isFile: isFile}
	if isFile {
		b.modified = time.Now().UnixMilli()
	}
	return e.blobObject(b)
}

func (e *execution) blobObject(b *blob) *goja.Object {
	if b.obj == nil {
		id := classBlob
		if b.isFile {
			id = classFile
		}
		b.obj = e.newInstance(id, b, nil)
	}
	return b.obj
}

// blobParts concatenates the parts of the Blob and File constructors.
func (e *execution) blobParts(v goja.Value) []byte {
	if goja.IsUndefined(v) {
		return nil
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		e.throw("TypeError", "Blob parts must be an iterable")
	}
	var out []byte
	e.r.ForOf(obj, func(part goja.Value) bool {
		if b, ok := bufferBytes(e.r, part); ok {
			out = append(out, b...)
		} else if bl, ok := stateOf[*blob](part); ok {
			out = append(out, bl.data...)
		} else {
			out = append(out, part.String()...)
		}
		return true
	})
	return out
}

// blobType normalises the type option: lower case, or "" if not ASCII.
func blobType(v goja.Value) string {
	t := optString(v, "")
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return ""
		}
	}
	return strings.ToLower(t)
}

func init() {
	this := func(e *execution, call goja.FunctionCall) *blob { return thisState[*blob](e, call) }
	methods := []methodSpec{
		{"text", func(e *execution, call goja.FunctionCall) goja.Value {
			return e.resolved(e.str(decodeText(this(e, call).data)))
		}},
		{"arrayBuffer", func(e *execution, call goja.FunctionCall) goja.Value {
			return e.resolved(e.newArrayBuffer(this(e, call).data))
		}},
		{"bytes", func(e *execution, call goja.FunctionCall) goja.Value {
			return e.resolved(e.newUint8Array(this(e, call).data))
		}},
		{"stream", func(e *execution, call goja.FunctionCall) goja.Value {
			src := &body{data: bytes.Clone(this(e, call).data), present: true}
			return e.newInstance(classStream, &bodyStream{e: e, src: src}, nil)
		}},
		{"slice", func(e *execution, call goja.FunctionCall) goja.Value {
			b := this(e, call)
			n := int64(len(b.data))
			clamp := func(v goja.Value, def int64) int64 {
				if goja.IsUndefined(v) {
					return def
				}
				i := v.ToInteger()
				if i < 0 {
					i = max(n+i, 0)
				}
				return min(i, n)
			}
			start, end := clamp(call.Argument(0), 0), clamp(call.Argument(1), n)
			end = max(end, start)
			return e.newBlob(append([]byte(nil), b.data[start:end]...), blobType(call.Argument(2)), "", false)
		}},
	}
	classSpecs[classBlob] = &classSpec{
		name: "Blob",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			b := &blob{e: e, data: e.blobParts(call.Argument(0)), typ: blobType(getOpt(call.Argument(1), "type"))}
			b.obj = e.newInstance(classBlob, b, ctorProto(call))
			return b.obj
		},
		methods: methods,
	}
	classSpecs[classFile] = &classSpec{
		name: "File",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			if len(call.Arguments) < 2 {
				e.throw("TypeError", "File constructor requires parts and a name")
			}
			opts := call.Argument(2)
			b := &blob{e: e, data: e.blobParts(call.Argument(0)), typ: blobType(getOpt(opts, "type")),
				name: call.Argument(1).String(), isFile: true, modified: time.Now().UnixMilli()}
			if lm := getOpt(opts, "lastModified"); lm != nil {
				b.modified = lm.ToInteger()
			}
			b.obj = e.newInstance(classFile, b, ctorProto(call))
			return b.obj
		},
		parent:    classBlob,
		hasParent: true,
	}
}
