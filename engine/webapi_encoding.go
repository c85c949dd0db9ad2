package engine

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// textCodec is the state of a TextEncoder (UTF-8, all it ever speaks)
// or a TextDecoder (any encoding of the Encoding standard).
type textCodec struct {
	instance
	e         *execution
	encoding  string // the decoder's encoding name, lower case
	fatal     bool
	ignoreBOM bool
	bomSeen   bool
	decoding  textDecoding
	decoder   bool
}

func (t *textCodec) Get(key string) goja.Value {
	switch key {
	case "encoding":
		if t.decoder {
			return t.e.str(t.encoding)
		}
		return t.e.str("utf-8")
	case "fatal":
		if t.decoder {
			return t.e.r.ToValue(t.fatal)
		}
	case "ignoreBOM":
		if t.decoder {
			return t.e.r.ToValue(t.ignoreBOM)
		}
	}
	return t.instance.Get(key)
}

func (t *textCodec) Has(key string) bool {
	return key == "encoding" || t.decoder && (key == "fatal" || key == "ignoreBOM") || t.instance.Has(key)
}

// decode is TextDecoder's decode: the stream's first U+FEFF is dropped
// in UTF-8 and UTF-16 unless ignoreBOM; without stream the decoder ends
// the stream and starts afresh on the next call.
func (t *textCodec) decode(data []byte, stream bool) (string, bool) {
	s, ok := t.decoding.decode(data, !stream, t.fatal)
	if !ok {
		t.bomSeen = false
		return "", false
	}
	if !t.ignoreBOM && !t.bomSeen && s != "" && strings.HasPrefix(t.encoding, "utf-") {
		t.bomSeen = true
		s = strings.TrimPrefix(s, "\uFEFF")
	}
	if !stream {
		t.bomSeen = false
	}
	return s, true
}

// asciiWhitespace is what the Encoding standard trims around a label.
const asciiWhitespace = "\t\n\f\r "

var utf8Labels = map[string]bool{"utf-8": true, "utf8": true, "unicode-1-1-utf-8": true,
	"unicode11utf8": true, "unicode20utf8": true, "x-unicode20utf8": true}

func init() {
	classSpecs[classTextEncoder] = &classSpec{
		name: "TextEncoder",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			return e.newInstance(classTextEncoder, &textCodec{e: e}, ctorProto(call))
		},
		methods: []methodSpec{
			{"encode", func(e *execution, call goja.FunctionCall) goja.Value {
				thisState[*textCodec](e, call)
				return e.newUint8Array([]byte(optString(call.Argument(0), "")))
			}},
			{"encodeInto", func(e *execution, call goja.FunctionCall) goja.Value {
				thisState[*textCodec](e, call)
				src := call.Argument(0).String()
				dst, ok := bufferBytes(e.r, call.Argument(1))
				if !ok {
					e.throw("TypeError", "encodeInto: destination must be a Uint8Array")
				}
				read, written := 0, 0
				for _, r := range src {
					n := utf8.RuneLen(r)
					if n < 0 {
						r, n = utf8.RuneError, 3
					}
					if written+n > len(dst) {
						break
					}
					utf8.EncodeRune(dst[written:], r)
					written += n
					read++
					if r > 0xFFFF {
						read++ // two UTF-16 code units
					}
				}
				res := e.r.NewObject()
				_ = res.Set("read", read)
				_ = res.Set("written", written)
				return res
			}},
		},
	}
	classSpecs[classTextDecoder] = &classSpec{
		name: "TextDecoder",
		ctor: func(e *execution, call goja.ConstructorCall) *goja.Object {
			label := optString(call.Argument(0), "utf-8")
			name, enc, ok := encodingByLabel(label)
			if !ok {
				e.throw("RangeError", "The encoding "+quote(label)+" is not supported")
			}
			t := &textCodec{e: e, decoder: true, encoding: name, decoding: newTextDecoding(name, enc)}
			if v := getOpt(call.Argument(1), "fatal"); v != nil {
				t.fatal = v.ToBoolean()
			}
			if v := getOpt(call.Argument(1), "ignoreBOM"); v != nil {
				t.ignoreBOM = v.ToBoolean()
			}
			return e.newInstance(classTextDecoder, t, ctorProto(call))
		},
		methods: []methodSpec{
			{"decode", func(e *execution, call goja.FunctionCall) goja.Value {
				t := thisState[*textCodec](e, call)
				var data []byte
				if in := call.Argument(0); !goja.IsUndefined(in) {
					b, ok := bufferBytes(e.r, in)
					if !ok {
						e.throw("TypeError", "decode: input must be an ArrayBuffer or a view of one")
					}
					data = b
				}
				stream := false
				if v := getOpt(call.Argument(1), "stream"); v != nil {
					stream = v.ToBoolean()
				}
				s, ok := t.decode(data, stream)
				if !ok {
					e.throw("TypeError", "The encoded data was not valid for encoding "+t.encoding)
				}
				return e.str(s)
			}},
		},
	}
}

// jsBtoa encodes a string of Latin-1 characters as base64.
func jsBtoa(e *execution, call goja.FunctionCall) goja.Value {
	if len(call.Arguments) == 0 {
		e.throw("TypeError", "btoa requires an argument")
	}
	s := call.Argument(0).String()
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			e.throwDOM("InvalidCharacterError", "btoa: the string contains characters outside of the Latin1 range")
		}
		b = append(b, byte(r))
	}
	return e.str(base64.StdEncoding.EncodeToString(b))
}

// jsAtob decodes base64 (forgiving: whitespace and missing padding are
// accepted) into a string of Latin-1 characters.
func jsAtob(e *execution, call goja.FunctionCall) goja.Value {
	if len(call.Arguments) == 0 {
		e.throw("TypeError", "atob requires an argument")
	}
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r' {
			return -1
		}
		return r
	}, call.Argument(0).String())
	if len(s)%4 == 0 {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "="), "=")
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || len(s)%4 == 1 {
		e.throwDOM("InvalidCharacterError", "atob: the string to be decoded is not correctly encoded")
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return e.str(string(r))
}

// throwDOM throws a DOMException.
func (e *execution) throwDOM(name, msg string) {
	panic(e.newDOM(name, msg))
}

// newDOM makes a DOMException (see the prelude).
func (e *execution) newDOM(name, msg string) goja.Value {
	if ctor, ok := e.prelude().Get("DOMException").(*goja.Object); ok {
		if obj, err := e.r.New(ctor, e.str(msg), e.str(name)); err == nil {
			return obj
		}
	}
	return e.newError("Error", msg)
}

// newCrypto makes the crypto global: randomUUID and getRandomValues.
func (e *execution) newCrypto() goja.Value {
	c := e.r.NewObject()
	_ = c.Set("randomUUID", func(goja.FunctionCall) goja.Value {
		var u [16]byte
		_, _ = rand.Read(u[:])
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		h := hex.EncodeToString(u[:])
		return e.str(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
	})
	_ = c.Set("subtle", e.newSubtle())
	_ = c.Set("getRandomValues", func(call goja.FunctionCall) goja.Value {
		arg := call.Argument(0)
		b, ok := bufferBytes(e.r, arg)
		if !ok || arg.ExportType() == reflectTypeBuffer {
			e.throw("TypeError", "getRandomValues: argument must be an integer typed array")
		}
		if !integerArray(arg) {
			e.throwDOM("TypeMismatchError", "getRandomValues: argument must be an integer typed array, not a float array or a DataView")
		}
		if len(b) > 65536 {
			e.throwDOM("QuotaExceededError", "getRandomValues: at most 65536 bytes can be requested")
		}
		_, _ = rand.Read(b)
		return arg
	})
	return c
}

// integerArray tells an integer typed array (what getRandomValues fills)
// from a float array, a DataView or an ArrayBuffer.
func integerArray(v goja.Value) bool {
	t := v.ExportType()
	if t == nil || t.Kind() != reflect.Slice {
		return false
	}
	switch t.Elem().Kind() {
	case reflect.Int8, reflect.Uint8, reflect.Int16, reflect.Uint16, reflect.Int32, reflect.Uint32, reflect.Int64, reflect.Uint64:
		return true
	}
	return false
}
