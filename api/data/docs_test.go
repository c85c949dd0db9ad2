package data

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// The examples of RFC 7396's appendix A.
func TestMergePatchRFC7396(t *testing.T) {
	for _, c := range []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	} {
		target, err := decodeJSON([]byte(c.target))
		if err != nil {
			t.Fatal(err)
		}
		patch, err := decodeJSON([]byte(c.patch))
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeJSON(mergePatch(target, patch))
		if err != nil || string(got) != c.want {
			t.Errorf("merge %s into %s: %s %v, want %s", c.patch, c.target, got, err, c.want)
		}
	}
	// Numbers keep what they were written as.
	target, _ := decodeJSON([]byte(`{"big":12345678901234567890,"f":1.50}`))
	patch, _ := decodeJSON([]byte(`{"n":1e2}`))
	if got, _ := encodeJSON(mergePatch(target, patch)); string(got) != `{"big":12345678901234567890,"f":1.50,"n":1e2}` {
		t.Errorf("numbers: %s", got)
	}
}

func code(err error) string {
	var de *engine.DataError
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}

func TestParseWhere(t *testing.T) {
	got, err := parseWhere(json.RawMessage(`{"status":"open","author.id":7,"views":{"$gt":10,"$lte":99},
		"tag":{"$in":["a","b"]},"deletedAt":{"$exists":false},"meta":{"k":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range got {
		ops = append(ops, strings.Join(c.Path, ".")+" "+c.Op)
	}
	want := "author.id $eq,deletedAt $exists,meta $eq,status $eq,tag $in,views $gt,views $lte"
	if strings.Join(ops, ",") != want {
		t.Errorf("conditions %v, want %s", ops, want)
	}
	for _, c := range got {
		switch {
		case c.Op == "$gt" && (c.Type != "number" || string(c.Value) != "10"):
			t.Errorf("$gt: %+v", c)
		case c.Op == "$in" && strings.Join(c.Values, ",") != `"a","b"`:
			t.Errorf("$in: %+v", c)
		case c.Op == "$exists" && c.Exists:
			t.Errorf("$exists: %+v", c)
		case c.Op == "$eq" && c.Path[0] == "meta" && string(c.Value) != `{"k":1}`:
			t.Errorf("an object's equality: %+v", c)
		}
	}
	for where, wantCode := range map[string]string{
		`[1]`:                     engine.CodeDataInvalid,
		`"status"`:                engine.CodeDataInvalid,
		`{"a":{"$regex":"x"}}`:    engine.CodeDataInvalid,
		`{"a":{"$gt":1,"b":2}}`:   engine.CodeDataInvalid,
		`{"a":{"$gt":{"x":1}}}`:   engine.CodeDataInvalid,
		`{"a":{"$gt":null}}`:      engine.CodeDataInvalid,
		`{"a":{"$in":"x"}}`:       engine.CodeDataInvalid,
		`{"a":{"$exists":"yes"}}`: engine.CodeDataInvalid,
		`{"$or":[{"a":1}]}`:       engine.CodeDataInvalid,
		`{"a..b":1}`:              engine.CodeDataInvalid,
		`{"":1}`:                  engine.CodeDataInvalid,
		`{"_id":"x"}`:             engine.CodeDataInvalid,
		`{"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q":1}`:            engine.CodeDataInvalid,
		`{"` + strings.Repeat("p", 300) + `":1}`:             engine.CodeDataTooLarge,
		`{"a":{"$in":[` + strings.Repeat("1,", 100) + `1]}}`: engine.CodeDataTooLarge,
	} {
		if _, err := parseWhere(json.RawMessage(where)); code(err) != wantCode {
			t.Errorf("where %.60s: %v, want %s", where, err, wantCode)
		}
	}
	many := map[string]int{}
	for i := range MaxConditions + 1 {
		many[strings.Repeat("a", i+1)] = i
	}
	b, _ := json.Marshal(many)
	if _, err := parseWhere(b); code(err) != engine.CodeDataTooLarge {
		t.Errorf("%d conditions: %v", len(many), err)
	}
}

func TestParseOrder(t *testing.T) {
	got, err := parseOrder(json.RawMessage(`[["a.b","desc"],"c",["_id","asc"]]`))
	if err != nil || len(got) != 3 || !got[0].Desc || got[1].Desc || got[2].Path != nil || strings.Join(got[0].Path, ".") != "a.b" {
		t.Errorf("orderBy: %+v %v", got, err)
	}
	for _, bad := range []string{`{"a":1}`, `[["a","up"]]`, `[["_id","asc"],"a"]`, `[1]`, `[["a"]]`, `[["$x","asc"]]`} {
		if _, err := parseOrder(json.RawMessage(bad)); code(err) != engine.CodeDataInvalid {
			t.Errorf("orderBy %s: %v", bad, err)
		}
	}
}

func TestDocsCursor(t *testing.T) {
	q := model.DocsQuery{AppID: "app", Collection: "posts", Order: []model.DocsOrder{{Path: model.DocsPath{"n"}}}}
	d := model.Doc{ID: "01890a5d-ac96-774b-bcce-b302099a8057", Keys: []json.RawMessage{json.RawMessage(`"x"`)}}
	c := encodeDocsCursor(q, d)
	pos, err := decodeDocsCursor(q, c)
	if err != nil || pos.ID != d.ID || string(pos.Keys[0]) != `"x"` {
		t.Fatalf("round trip: %+v %v", pos, err)
	}
	missing := encodeDocsCursor(q, model.Doc{ID: d.ID, Keys: []json.RawMessage{nil}})
	if pos, err := decodeDocsCursor(q, missing); err != nil || pos.Keys[0] != nil {
		t.Errorf("a missing value: %+v %v", pos, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(c, docsCursorPrefix))
	tampered := docsCursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `\"x\"`, `\"y\"`, 1)))
	for name, bad := range map[string]string{
		"garbage":  "not-a-cursor",
		"tampered": tampered,
		"kv's":     "azE6a2V5",
		"cut":      c[:len(c)-4],
	} {
		if _, err := decodeDocsCursor(q, bad); code(err) != engine.CodeDataInvalid {
			t.Errorf("%s cursor: %v", name, err)
		}
	}
	for name, other := range map[string]model.DocsQuery{
		"collection": {AppID: "app", Collection: "users", Order: q.Order},
		"app":        {AppID: "other", Collection: "posts", Order: q.Order},
		"order":      {AppID: "app", Collection: "posts", Order: []model.DocsOrder{{Path: model.DocsPath{"n"}, Desc: true}}},
		"where": {AppID: "app", Collection: "posts", Order: q.Order,
			Where: []model.DocsCond{{Path: model.DocsPath{"a"}, Op: "$eq", Value: json.RawMessage(`1`)}}},
	} {
		if _, err := decodeDocsCursor(other, c); code(err) != engine.CodeDataInvalid || !strings.Contains(err.Error(), "another query") {
			t.Errorf("a cursor of another %s: %v", name, err)
		}
	}
}

func TestDocumentText(t *testing.T) {
	got, err := documentText("insert", json.RawMessage(`{"_id":"x","_version":3,"a":"<b>","n":1.0}`))
	if err != nil || string(got) != `{"a":"<b>","n":1.0}` {
		t.Errorf("reserved fields: %s %v", got, err)
	}
	if got, err := documentText("insert", json.RawMessage(`{"a": 1}`)); err != nil || string(got) != `{"a": 1}` {
		t.Errorf("a document as sent: %s %v", got, err)
	}
	deep := strings.Repeat(`{"a":`, MaxDocDepth) + "1" + strings.Repeat("}", MaxDocDepth)
	if _, err := documentText("insert", json.RawMessage(deep)); err != nil {
		t.Errorf("%d levels: %v", MaxDocDepth, err)
	}
	for doc, want := range map[string]string{
		`[1]`:                engine.CodeDataInvalid,
		`"x"`:                engine.CodeDataInvalid,
		`{"a":"\u0000"}`:     engine.CodeDataInvalid,
		`{"\u0000":1}`:       engine.CodeDataInvalid,
		`{"a":1e999}`:        engine.CodeDataInvalid,
		`{"a":` + deep + `}`: engine.CodeDataInvalid,
		`{"a":"` + strings.Repeat("x", MaxDocBytes) + `"}`: engine.CodeDataTooLarge,
	} {
		if _, err := documentText("insert", json.RawMessage(doc)); code(err) != want {
			t.Errorf("document %.40s: %v, want %s", doc, err, want)
		}
	}
}

func TestWithMeta(t *testing.T) {
	for doc, want := range map[string]string{
		`{}`:               `{"_id":"i","_version":7}`,
		`{"a": 1, "b": 2}`: `{"_id":"i","_version":7,"a": 1, "b": 2}`,
	} {
		got := withMeta(model.Doc{ID: "i", Version: 7, Doc: json.RawMessage(doc)})
		if string(got) != want || !json.Valid(got) {
			t.Errorf("%s: %s", doc, got)
		}
	}
}
