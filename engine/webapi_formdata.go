package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// formData is the state of a FormData object.
type formData struct {
	instance
	e       *execution
	entries []formEntry
}

// formEntry holds a string value, or a file when file is not nil.
type formEntry struct {
	name  string
	value string
	file  *blob
}

// maxFormParts bounds the parts read from a multipart body.
const maxFormParts = 1000

func (f *formData) parseMultipart(data []byte, boundary string) error {
	if boundary == "" {
		return errors.New("no boundary in the content type")
	}
	mr := multipart.NewReader(bytes.NewReader(data), boundary)
	for n := 0; ; n++ {
		if n == maxFormParts {
			return errors.New("too many parts")
		}
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if err != nil {
			return err
		}
		name := params["name"]
		content, err := io.ReadAll(part)
		if err != nil {
			return err
		}
		filename, isFile := params["filename"]
		if !isFile {
			f.entries = append(f.entries, formEntry{name: name, value: decodeText(content)})
			continue
		}
		ctype := part.Header.Get("Content-Type")
		if ctype == "" {
			ctype = "text/plain"
		}
		f.entries = append(f.entries, formEntry{name: name,
			file: &blob{e: f.e, data: content, typ: ctype, name: filename, isFile: true, modified: time.Now().UnixMilli()}})
	}
}

// multipart serialises the entries and returns the content type.
func (f *formData) multipart() ([]byte, string) {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	boundary := "----PiCloudFormBoundary" + hex.EncodeToString(rnd[:])
	esc := strings.NewReplacer("\"", "%22", "\r", "%0D", "\n", "%0A")
	var b bytes.Buffer
	for _, en := range f.entries {
		b.WriteString("--" + boundary + "\r\n")
		b.WriteString(`Content-Disposition: form-data; name="` + esc.Replace(en.name) + `"`)
		if en.file != nil {
			b.WriteString(`; filename="` + esc.Replace(en.file.name) + `"` + "\r\n")
			ct := en.file.typ
			if ct == "" {
				ct = "application/octet-stream"
			}
			b.WriteString("Content-Type: " + ct + "\r\n\r\n")
			b.Write(en.file.data)
		} else {
			b.WriteString("\r\n\r\n")
			b.WriteString(en.value)
		}
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), "multipart/form-data; boundary=" + boundary
}

// entryValue is the JS value of an entry: a string or a File.
func (f *formData) entryValue(en formEntry) goja.Value {
	if en.file != nil {
		return f.e.blobObject(en.file)
	}
	return f.e.str(en.value)
}

// newEntry converts (name, value[, filename]) arguments.
func (e *execution) newEntry(call goja.FunctionCall) formEntry {
	en := formEntry{name: call.Argument(0).String()}
	v := call.Argument(1)
	if b, ok := stateOf[*blob](v); ok {
		f := *b
		f.instance, f.obj = instance{}, nil
		if !f.isFile {
			f.isFile, f.name, f.modified = true, "blob", time.Now().UnixMilli()
		}
		if fn := call.Argument(2); !goja.IsUndefined(fn) {
			f.name = fn.String()
		}
		en.file = &f
	} else {
		if len(call.Arguments) > 2 {
			e.throw("TypeError", "FormData: a file name is given with a Blob, not with "+quote(v.String()))
		}
		en.value = v.String()
	}
	return en
}

func init() {
	this := func(e *execution, call goja.FunctionCall) *formData { return thisState[*formData](e, call) }
	classSpecs[classFormData] = &classSpec{
		name: "FormData",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			if !goja.IsUndefined(call.Argument(0)) {
				e.throw("TypeError", "FormData does not take a form element here")
			}
			return e.newInstance(classFormData, &formData{e: e}, ctorProto(call))
		},
		iterator: "entries",
		methods: []methodSpec{
			{"append", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				f.entries = append(f.entries, e.newEntry(call))
				return goja.Undefined()
			}},
			{"set", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				en := e.newEntry(call)
				out := f.entries[:0]
				done := false
				for _, x := range f.entries {
					if x.name != en.name {
						out = append(out, x)
					} else if !done {
						out = append(out, en)
						done = true
					}
				}
				if !done {
					out = append(out, en)
				}
				f.entries = out
				return goja.Undefined()
			}},
			{"delete", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				name := call.Argument(0).String()
				out := f.entries[:0]
				for _, x := range f.entries {
					if x.name != name {
						out = append(out, x)
					}
				}
				f.entries = out
				return goja.Undefined()
			}},
			{"get", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				name := call.Argument(0).String()
				for _, x := range f.entries {
					if x.name == name {
						return f.entryValue(x)
					}
				}
				return goja.Null()
			}},
			{"getAll", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				name := call.Argument(0).String()
				var out []any
				for _, x := range f.entries {
					if x.name == name {
						out = append(out, f.entryValue(x))
					}
				}
				return e.r.NewArray(out...)
			}},
			{"has", func(e *execution, call goja.FunctionCall) goja.Value {
				name := call.Argument(0).String()
				for _, x := range this(e, call).entries {
					if x.name == name {
						return e.r.ToValue(true)
					}
				}
				return e.r.ToValue(false)
			}},
			{"forEach", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				fn, ok := goja.AssertFunction(call.Argument(0))
				if !ok {
					e.throw("TypeError", "FormData.forEach: callback is not a function")
				}
				for _, x := range append([]formEntry(nil), f.entries...) {
					if _, err := fn(call.Argument(1), f.entryValue(x), e.str(x.name), call.This); err != nil {
						panic(err)
					}
				}
				return goja.Undefined()
			}},
			{"entries", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				items := make([]goja.Value, len(f.entries))
				for i, x := range f.entries {
					items[i] = e.pair(e.str(x.name), f.entryValue(x))
				}
				return e.iterator(items)
			}},
			{"keys", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				items := make([]goja.Value, len(f.entries))
				for i, x := range f.entries {
					items[i] = e.str(x.name)
				}
				return e.iterator(items)
			}},
			{"values", func(e *execution, call goja.FunctionCall) goja.Value {
				f := this(e, call)
				items := make([]goja.Value, len(f.entries))
				for i, x := range f.entries {
					items[i] = f.entryValue(x)
				}
				return e.iterator(items)
			}},
		},
	}
}
