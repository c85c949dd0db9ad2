package engine

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// goja's JSON.parse reads through encoding/json's token API, which is slow
// enough to dominate a JSON echo handler. decodeJSON builds goja values
// directly from the text; on any syntax error it gives up and the caller
// falls back to JSON.parse, which produces the standard SyntaxError.

// maxJSONDepth bounds nesting on the fast path (deeper input falls back).
const maxJSONDepth = 1000

type jsonDecoder struct {
	e       *execution
	s       string
	i       int
	depth   int
	ok      bool
	tooDeep bool // failed for depth, not syntax
}

// decodeJSON parses s; ok is false if s is not valid JSON or nests deeper
// than maxJSONDepth (tooDeep).
func (e *execution) decodeJSON(s string) (v goja.Value, ok, tooDeep bool) {
	d := jsonDecoder{e: e, s: s, ok: true}
	d.space()
	v = d.value()
	d.space()
	if !d.ok || d.i != len(d.s) {
		return nil, false, d.tooDeep
	}
	return v, true, false
}

func (d *jsonDecoder) fail() goja.Value {
	d.ok = false
	return nil
}

func (d *jsonDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() goja.Value {
	if !d.ok || d.i >= len(d.s) {
		return d.fail()
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, ok := d.str()
		if !ok {
			return d.fail()
		}
		return d.e.r.ToValue(s)
	case c == 't':
		return d.literal("true", d.e.r.ToValue(true))
	case c == 'f':
		return d.literal("false", d.e.r.ToValue(false))
	case c == 'n':
		return d.literal("null", goja.Null())
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return d.fail()
}

func (d *jsonDecoder) literal(word string, v goja.Value) goja.Value {
	if !strings.HasPrefix(d.s[d.i:], word) {
		return d.fail()
	}
	d.i += len(word)
	return v
}

func (d *jsonDecoder) object() goja.Value {
	if d.depth++; d.depth > maxJSONDepth {
		d.tooDeep = true
		return d.fail()
	}
	obj := d.e.r.NewObject()
	d.i++ // {
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		d.depth--
		return obj
	}
	for d.ok {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return d.fail()
		}
		key, ok := d.str()
		if !ok {
			return d.fail()
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return d.fail()
		}
		d.i++
		d.space()
		v := d.value()
		if !d.ok {
			return nil
		}
		if key == "__proto__" {
			// JSON.parse defines an own property; Set would change the
			// prototype.
			_ = obj.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		} else {
			_ = obj.Set(key, v)
		}
		d.space()
		if d.i >= len(d.s) {
			return d.fail()
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			d.depth--
			return obj
		default:
			return d.fail()
		}
	}
	return nil
}

func (d *jsonDecoder) array() goja.Value {
	if d.depth++; d.depth > maxJSONDepth {
		d.tooDeep = true
		return d.fail()
	}
	d.i++ // [
	d.space()
	var items []any
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		d.depth--
		return d.e.r.NewArray()
	}
	for d.ok {
		v := d.value()
		if !d.ok {
			return nil
		}
		items = append(items, v)
		d.space()
		if d.i >= len(d.s) {
			return d.fail()
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			d.depth--
			return d.e.r.NewArray(items...)
		default:
			return d.fail()
		}
	}
	return nil
}

func (d *jsonDecoder) number() goja.Value {
	start := d.i
	s := d.s
	if s[d.i] == '-' {
		d.i++
	}
	if d.i >= len(s) {
		return d.fail()
	}
	if s[d.i] == '0' {
		d.i++
	} else if s[d.i] >= '1' && s[d.i] <= '9' {
		for d.i < len(s) && s[d.i] >= '0' && s[d.i] <= '9' {
			d.i++
		}
	} else {
		return d.fail()
	}
	integer := true
	if d.i < len(s) && s[d.i] == '.' {
		integer = false
		d.i++
		if !d.digits() {
			return d.fail()
		}
	}
	if d.i < len(s) && (s[d.i] == 'e' || s[d.i] == 'E') {
		integer = false
		d.i++
		if d.i < len(s) && (s[d.i] == '+' || s[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return d.fail()
		}
	}
	text := s[start:d.i]
	if integer && len(text) < 16 {
		n, err := strconv.ParseInt(text, 10, 64)
		if err == nil && !(n == 0 && text[0] == '-') {
			return d.e.r.ToValue(n)
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && f == 0 {
		return d.fail()
	}
	return d.e.r.ToValue(f)
}

func (d *jsonDecoder) digits() bool {
	start := d.i
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// str reads a string literal at d.i (which is '"').
func (d *jsonDecoder) str() (string, bool) {
	s := d.s
	i := d.i + 1
	start := i
	for i < len(s) {
		c := s[i]
		if c == '"' {
			d.i = i + 1
			return s[start:i], true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", false
		}
		i++
	}
	if i >= len(s) {
		return "", false
	}
	// Slow path: escapes.
	b := make([]byte, 0, i-start+16)
	b = append(b, s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.i = i + 1
			return string(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b = append(b, s[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, i+3); ok && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
		i++
	}
	return "", false
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}
