package data

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/picloud/picloud/api/model"
)

// Limits of docs queries.
const (
	MaxFind         = 1000 // documents in one find page
	MaxConditions   = 32   // conditions of one where, each operator counting
	MaxIn           = 100  // operands of one $in
	MaxOrder        = 8    // keys of one orderBy
	MaxIndexPaths   = 8    // paths of one index
	MaxIndexes      = 32   // indexes of one app, all its collections together
	MaxPathBytes    = 256  // a path, as written
	MaxPathSegments = 16   // segments of a path
)

// parsePath splits a dotted path ("author.id", "tags.0") into its segments.
func parsePath(what, p string) (model.DocsPath, error) {
	switch {
	case p == "":
		return nil, invalid("%s: a path must not be empty", what)
	case len(p) > MaxPathBytes:
		return nil, tooLarge("%s: the path %.40q… is over %d bytes", what, p, MaxPathBytes)
	case !isText(p):
		return nil, invalid("%s: a path must be valid UTF-8 without NUL characters", what)
	}
	segs := strings.Split(p, ".")
	if len(segs) > MaxPathSegments {
		return nil, invalid("%s: the path %q has more than %d segments", what, p, MaxPathSegments)
	}
	for _, s := range segs {
		if s == "" {
			return nil, invalid("%s: the path %q has an empty segment", what, p)
		}
		if strings.HasPrefix(s, "$") {
			return nil, invalid("%s: %q is not a path (operators go inside a path's condition: {path: {$gt: 1}}; there is no %s)", what, p, s)
		}
	}
	if segs[0] == "_id" || segs[0] == "_version" {
		return nil, invalid("%s: %q is not a field of the document (get reads a document by its id)", what, p)
	}
	return segs, nil
}

// jsonType is the JSON type of a JSON value's text.
func jsonType(v json.RawMessage) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}

// parseWhere turns a where object ({path: value | {$op: operand, …}, …})
// into its conditions, sorted by path and operator.
func parseWhere(raw json.RawMessage) ([]model.DocsCond, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if jsonType(raw) != "object" || json.Unmarshal(raw, &fields) != nil {
		return nil, invalid("where must be an object of paths and conditions")
	}
	var out []model.DocsCond
	for p, v := range fields {
		path, err := parsePath("where", p)
		if err != nil {
			return nil, err
		}
		conds, err := parseConditions(p, path, v)
		if err != nil {
			return nil, err
		}
		out = append(out, conds...)
		if len(out) > MaxConditions {
			return nil, tooLarge("where: more than %d conditions", MaxConditions)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.Join(out[i].Path, "."), strings.Join(out[j].Path, ".")
		return a < b || a == b && out[i].Op < out[j].Op
	})
	return out, nil
}

// parseConditions reads a path's condition: a value (equality) or an
// object of operators.
func parseConditions(p string, path model.DocsPath, v json.RawMessage) ([]model.DocsCond, error) {
	var ops map[string]json.RawMessage
	if jsonType(v) == "object" {
		if err := json.Unmarshal(v, &ops); err != nil {
			return nil, invalid("where %q: %v", p, err)
		}
	}
	dollars := 0
	for k := range ops {
		if strings.HasPrefix(k, "$") {
			dollars++
		}
	}
	if dollars == 0 {
		return []model.DocsCond{{Path: path, Op: "$eq", Value: v}}, nil
	}
	if dollars != len(ops) {
		return nil, invalid("where %q: an object of conditions holds only operators ($eq, $gt, …); to match an object, use {$eq: {…}}", p)
	}
	var out []model.DocsCond
	for op, operand := range ops {
		c, err := parseOperator(p, path, op, operand)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func parseOperator(p string, path model.DocsPath, op string, v json.RawMessage) (model.DocsCond, error) {
	c := model.DocsCond{Path: path, Op: op, Value: v}
	switch op {
	case "$eq", "$ne":
	case "$gt", "$gte", "$lt", "$lte":
		c.Type = jsonType(v)
		if c.Type != "number" && c.Type != "string" && c.Type != "boolean" {
			return c, invalid("where %q: %s compares with a number, a string or a boolean, not %s", p, op, c.Type)
		}
	case "$in":
		var vals []json.RawMessage
		if jsonType(v) != "array" || json.Unmarshal(v, &vals) != nil {
			return c, invalid("where %q: $in takes an array of values", p)
		}
		if len(vals) > MaxIn {
			return c, tooLarge("where %q: $in takes at most %d values, not %d", p, MaxIn, len(vals))
		}
		c.Values = make([]string, len(vals))
		for i, x := range vals {
			c.Values[i] = string(x)
		}
		c.Value = nil
	case "$exists":
		if err := json.Unmarshal(v, &c.Exists); err != nil {
			return c, invalid("where %q: $exists takes true or false", p)
		}
		c.Value = nil
	default:
		return c, invalid("where %q: unknown operator %s (there are $eq, $ne, $gt, $gte, $lt, $lte, $in and $exists)", p, op)
	}
	return c, nil
}

// parseOrder reads an orderBy: a list of [path, "asc"|"desc"] or paths
// (ascending). The path "_id" is the id, and only as the last key.
func parseOrder(raw json.RawMessage) ([]model.DocsOrder, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var keys []json.RawMessage
	if jsonType(raw) != "array" || json.Unmarshal(raw, &keys) != nil {
		return nil, invalid(`orderBy must be a list of [path, "asc" | "desc"]`)
	}
	if len(keys) > MaxOrder {
		return nil, tooLarge("orderBy: at most %d keys", MaxOrder)
	}
	out := make([]model.DocsOrder, 0, len(keys))
	for i, k := range keys {
		var p, dir string
		var pair []string
		switch {
		case json.Unmarshal(k, &p) == nil:
		case json.Unmarshal(k, &pair) == nil && len(pair) == 2:
			p, dir = pair[0], pair[1]
		default:
			return nil, invalid(`orderBy: %s is not [path, "asc" | "desc"]`, k)
		}
		if dir != "" && dir != "asc" && dir != "desc" {
			return nil, invalid(`orderBy: the direction of %q must be "asc" or "desc", not %q`, p, dir)
		}
		o := model.DocsOrder{Desc: dir == "desc"}
		if p == "_id" {
			if i != len(keys)-1 {
				return nil, invalid("orderBy: _id orders documents completely, so it can only be the last key")
			}
		} else {
			path, err := parsePath("orderBy", p)
			if err != nil {
				return nil, err
			}
			o.Path = path
		}
		out = append(out, o)
	}
	return out, nil
}
