package store

import (
	"fmt"
	"strings"

	"github.com/picloud/picloud/api/model"
)

// docsSQL builds a query on docs_documents with placeholders only: every
// path, value and name is an argument, never part of the text.
type docsSQL struct {
	args []any
}

// arg adds an argument and returns its placeholder, cast to typ.
func (b *docsSQL) arg(v any, typ string) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d::%s", len(b.args), typ)
}

// path is the value of a path in a document: jsonb, or NULL where the
// path is missing. It matches the expression of ensureIndex's indexes.
func (b *docsSQL) path(p model.DocsPath) string {
	return "(doc #> " + b.arg([]string(p), "text[]") + ")"
}

func (b *docsSQL) json(v []byte) string {
	return b.arg(string(v), "text::jsonb")
}

// cond is one condition's SQL. Range operators match only values of the
// operand's JSON type: numbers compare as numbers, strings as strings.
func (b *docsSQL) cond(c model.DocsCond) string {
	x := b.path(c.Path)
	switch c.Op {
	case "$eq":
		return x + " = " + b.json(c.Value)
	case "$ne":
		return "(" + x + " IS NULL OR " + x + " <> " + b.json(c.Value) + ")"
	case "$gt", "$gte", "$lt", "$lte":
		op := map[string]string{"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[c.Op]
		return x + " " + op + " " + b.json(c.Value) + " AND jsonb_typeof(" + x + ") = " + b.arg(c.Type, "text")
	case "$in":
		return x + " = ANY(" + b.arg(c.Values, "text[]::jsonb[]") + ")"
	case "$exists":
		if c.Exists {
			return x + " IS NOT NULL"
		}
		return x + " IS NULL"
	}
	panic("docs query: unknown operator " + c.Op) // the service checks operators
}

// where is the WHERE clause of a query, without its position.
func (b *docsSQL) where(q model.DocsQuery) string {
	conds := []string{"app_id = " + b.arg(q.AppID, "uuid"), "collection = " + b.arg(q.Collection, "text")}
	for _, c := range q.Where {
		conds = append(conds, b.cond(c))
	}
	if q.Contains != "" {
		conds = append(conds, "strpos(doc::text, "+b.arg(q.Contains, "text")+") > 0")
	}
	return strings.Join(conds, " AND ")
}

// order is q's order with the id as its last key (ascending unless q
// orders by the id itself).
func order(q model.DocsQuery) []model.DocsOrder {
	if n := len(q.Order); n > 0 && q.Order[n-1].Path == nil {
		return q.Order
	}
	return append(append([]model.DocsOrder(nil), q.Order...), model.DocsOrder{})
}

// key is an order key's expression.
func (b *docsSQL) key(o model.DocsOrder) string {
	if o.Path == nil {
		return "id"
	}
	return b.path(o.Path)
}

// after is the condition that a document comes after the position p in
// the order keys: the keyset (k1, …, id) > (v1, …, id) spelled out for
// mixed directions and missing values. A missing value (SQL NULL) sorts
// after every value ascending, so before every value descending, as
// PostgreSQL's indexes sort it.
func (b *docsSQL) after(keys []model.DocsOrder, p model.DocsPosition) string {
	var ors []string
	var eqs []string
	for i, o := range keys {
		x := b.key(o)
		var v []byte
		if o.Path != nil && i < len(p.Keys) {
			v = p.Keys[i]
		}
		var gt, eq string
		switch {
		case o.Path == nil:
			id := b.arg(p.ID, "uuid")
			eq = "id = " + id
			gt = "id > " + id
			if o.Desc {
				gt = "id < " + id
			}
		case v == nil:
			eq = x + " IS NULL"
			if o.Desc {
				gt = x + " IS NOT NULL"
			}
		default:
			val := b.json(v)
			eq = x + " = " + val
			gt = "(" + x + " > " + val + " OR " + x + " IS NULL)"
			if o.Desc {
				gt = x + " < " + val
			}
		}
		if gt != "" {
			ors = append(ors, "("+strings.Join(append(append([]string(nil), eqs...), gt), " AND ")+")")
		}
		eqs = append(eqs, eq)
	}
	if len(ors) == 0 {
		return "false"
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// buildFind is the SQL of a find and its arguments: id, doc, version and
// the values of the order's paths, of the matching documents after
// q.After, in order, at most q.Limit.
func buildFind(q model.DocsQuery) (string, []any) {
	b := &docsSQL{}
	keys := order(q)
	var cols, by []string
	for _, o := range q.Order {
		if o.Path == nil {
			cols = append(cols, "NULL::text") // the id, which the position has anyway
		} else {
			cols = append(cols, b.path(o.Path)+"::text")
		}
	}
	where := b.where(q)
	if q.After != nil {
		where += " AND " + b.after(keys, *q.After)
	}
	for _, o := range keys {
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		by = append(by, b.key(o)+dir)
	}
	sel := "id::text AS doc_id, doc::text, version"
	if len(cols) > 0 {
		sel += ", " + strings.Join(cols, ", ")
	}
	sql := "SELECT " + sel + " FROM docs_documents WHERE " + where +
		" ORDER BY " + strings.Join(by, ", ") + " LIMIT " + b.arg(q.Limit, "int8")
	return sql, b.args
}

// buildCount is the SQL of a count of q's matching documents.
func buildCount(q model.DocsQuery) (string, []any) {
	b := &docsSQL{}
	return "SELECT count(*) FROM docs_documents WHERE " + b.where(q), b.args
}
