package data

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Limits of one document.
const (
	MaxDocBytes = 1 << 20 // a document, as JSON text
	MaxDocDepth = 64      // nesting of objects and arrays
)

// decodeJSON parses JSON text keeping numbers as they were written.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errTrailing
	}
	return v, nil
}

var errTrailing = invalid("data after the JSON value")

// encodeJSON is v's JSON text, without HTML escaping.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// checkValue checks what PostgreSQL's jsonb could not store or the limits
// refuse: nesting deeper than MaxDocDepth, NUL characters, numbers out of
// range.
func checkValue(v any, depth int) error {
	switch v.(type) {
	case map[string]any, []any:
		if depth > MaxDocDepth {
			return invalid("the document nests objects and arrays deeper than %d levels", MaxDocDepth)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) {
				return invalid("a document's field names cannot hold NUL characters")
			}
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
	case string:
		if strings.ContainsRune(x, 0) {
			return invalid("a document's strings cannot hold NUL characters")
		}
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err != nil || math.IsInf(f, 0) {
			return invalid("the number %.40s is out of range", string(x))
		}
	}
	return nil
}

// reserved are the fields get adds to a document; they are not stored,
// and a write ignores them at the top level.
var reserved = []string{"_id", "_version"}

// documentText checks a document a script sends (a JSON object) and
// returns the text to store: without _id and _version, at most
// MaxDocBytes.
func documentText(what string, raw json.RawMessage) ([]byte, error) {
	if jsonType(raw) != "object" {
		return nil, invalid("%s: a document must be an object, not %s", what, orNothing(jsonType(raw)))
	}
	if len(raw) > MaxDocBytes+64 {
		return nil, tooLarge("%s: the document is %d bytes of JSON, over the %d allowed (1 MiB)", what, len(raw), MaxDocBytes)
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, invalid("%s: the document is not valid JSON: %v", what, err)
	}
	return finishDocument(what, v.(map[string]any), raw)
}

// finishDocument drops the reserved fields of doc, checks it and returns
// its text (raw when it needs no change).
func finishDocument(what string, doc map[string]any, raw []byte) ([]byte, error) {
	for _, k := range reserved {
		if _, ok := doc[k]; ok {
			delete(doc, k)
			raw = nil
		}
	}
	if err := checkValue(doc, 1); err != nil {
		return nil, prefixed(what, err)
	}
	if raw == nil {
		var err error
		if raw, err = encodeJSON(doc); err != nil {
			return nil, invalid("%s: %v", what, err)
		}
	}
	if len(raw) > MaxDocBytes {
		return nil, tooLarge("%s: the document is %d bytes of JSON, over the %d allowed (1 MiB)", what, len(raw), MaxDocBytes)
	}
	return raw, nil
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// mergePatch applies an RFC 7396 JSON merge patch to target: an object
// patch sets each of its fields in the target (recursively for objects)
// and removes those it sets to null; any other patch replaces the target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}
