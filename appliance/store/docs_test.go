package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

func newDocID(t *testing.T) string {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func TestDocs(t *testing.T) {
	pool := pgtest.NewDatabase(t)
	s := store.New(pool)
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "docs-a", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateApp(ctx, "docs-b", "")
	if err != nil {
		t.Fatal(err)
	}
	id := newDocID(t)
	v1, err := s.InsertDoc(ctx, a.ID, "c", id, []byte(`{"n": 1, "tags": ["x"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDoc(ctx, b.ID, "c", id); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("app B reads app A's document: %v", err)
	}
	if ok, err := s.DeleteDoc(ctx, b.ID, "c", id, nil); ok || err != nil {
		t.Errorf("app B deletes app A's document: %v %v", ok, err)
	}
	if _, err := s.ReplaceDoc(ctx, b.ID, "c", id, []byte(`{}`), nil); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("app B replaces app A's document: %v", err)
	}
	stale := v1 + 1000
	if _, err := s.ReplaceDoc(ctx, a.ID, "c", id, []byte(`{"n": 2}`), &stale); !errors.Is(err, model.ErrConflict) {
		t.Errorf("replace at a stale version: %v", err)
	}
	if _, err := s.UpdateDoc(ctx, a.ID, "c", id, &stale, func(d []byte) ([]byte, error) { return []byte(`{}`), nil }); !errors.Is(err, model.ErrConflict) {
		t.Errorf("update at a stale version: %v", err)
	}
	refused := errors.New("refused")
	if _, err := s.UpdateDoc(ctx, a.ID, "c", id, nil, func(d []byte) ([]byte, error) { return nil, refused }); !errors.Is(err, refused) {
		t.Errorf("a change's error: %v", err)
	}
	if d, err := s.GetDoc(ctx, a.ID, "c", id); err != nil || d.Version != v1 || string(d.Doc) != `{"n": 1, "tags": ["x"]}` {
		t.Errorf("refused writes changed the document: %+v %v", d, err)
	}
	v2, err := s.UpdateDoc(ctx, a.ID, "c", id, &v1, func(d []byte) ([]byte, error) { return []byte(`{"n": 3}`), nil })
	if err != nil || v2 <= v1 {
		t.Fatalf("update: %v %v", v2, err)
	}
	if _, err := s.DeleteDoc(ctx, a.ID, "c", id, &v1); !errors.Is(err, model.ErrConflict) {
		t.Errorf("delete at a stale version: %v", err)
	}
	if ok, err := s.DeleteDoc(ctx, a.ID, "c", id, &v2); !ok || err != nil {
		t.Errorf("delete: %v %v", ok, err)
	}

	// A unique index refuses repeated values and names its paths; docs
	// missing the paths do not collide.
	ix := model.DocsIndex{AppID: a.ID, Collection: "users", Name: "docs_ix_test_unique",
		Paths: []model.DocsPath{{"email"}}, Unique: true}
	if err := s.EnsureDocsIndex(ctx, ix); err != nil {
		t.Fatal(err)
	}
	// Again: found without locking the table, so even while another
	// transaction writes documents (which a CREATE INDEX would wait for).
	writer, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = writer.Rollback(ctx) }()
	if _, err := writer.Exec(ctx, `INSERT INTO docs_documents (app_id, collection, id, doc) VALUES ($1, 'w', gen_random_uuid(), '{}')`, b.ID); err != nil {
		t.Fatal(err)
	}
	hang, cancel := context.WithTimeout(ctx, 30*time.Second) // a bound on a hang, not a speed
	defer cancel()
	if err := s.EnsureDocsIndex(hang, ix); err != nil {
		t.Errorf("ensuring an index again: %v", err)
	}
	_ = writer.Rollback(ctx)
	for range 2 {
		if _, err := s.InsertDoc(ctx, a.ID, "users", newDocID(t), []byte(`{"name": "no email"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.InsertDoc(ctx, a.ID, "users", newDocID(t), []byte(`{"email": "ann@x"}`)); err != nil {
		t.Fatal(err)
	}
	_, err = s.InsertDoc(ctx, a.ID, "users", newDocID(t), []byte(`{"email": "ann@x"}`))
	var dup *model.DocsDuplicate
	if !errors.As(err, &dup) || !reflect.DeepEqual(dup.Paths, []model.DocsPath{{"email"}}) {
		t.Errorf("a repeated unique value: %v", err)
	}
	if _, err := s.InsertDoc(ctx, b.ID, "users", newDocID(t), []byte(`{"email": "ann@x"}`)); err != nil {
		t.Errorf("app A's unique index reaches app B: %v", err)
	}
	ix2 := model.DocsIndex{AppID: a.ID, Collection: "users", Name: "docs_ix_test_name", Paths: []model.DocsPath{{"name"}}, Unique: true}
	if err := s.EnsureDocsIndex(ctx, ix2); !errors.As(err, &dup) {
		t.Errorf("a unique index over repeated values: %v", err)
	}

	// A value too large for its index is refused, and so is an index
	// over one.
	big := make([]byte, 8000)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	bigDoc := []byte(`{"email": "` + hex.EncodeToString(big) + `", "name": "` + hex.EncodeToString(big) + `"}`)
	if _, err := s.InsertDoc(ctx, a.ID, "users", newDocID(t), bigDoc); !errors.Is(err, model.ErrDocsIndexValue) {
		t.Errorf("a value too large for its index: %v", err)
	}
	if _, err := s.InsertDoc(ctx, a.ID, "big", newDocID(t), bigDoc); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureDocsIndex(ctx, model.DocsIndex{AppID: a.ID, Collection: "big", Name: "docs_ix_test_big",
		Paths: []model.DocsPath{{"name"}}}); !errors.Is(err, model.ErrDocsIndexValue) {
		t.Errorf("an index over a value too large for it: %v", err)
	}

	// An app has at most MaxPerApp indexes (b has none yet).
	for i := range 3 {
		err := s.EnsureDocsIndex(ctx, model.DocsIndex{AppID: b.ID, Collection: "c", Name: fmt.Sprintf("docs_ix_test_b%d", i),
			Paths: []model.DocsPath{{fmt.Sprint(i)}}, MaxPerApp: 2})
		if want := i == 2; errors.Is(err, model.ErrDocsIndexLimit) != want || (!want && err != nil) {
			t.Errorf("index %d of at most 2: %v", i+1, err)
		}
	}

	// Deleting an app drops its indexes.
	if err := s.DeleteApp(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	var left []string
	rows, err := pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE indexname LIKE 'docs_ix_%' ORDER BY 1`)
	if err == nil {
		left, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || !reflect.DeepEqual(left, []string{"docs_ix_test_b0", "docs_ix_test_b1"}) {
		t.Errorf("indexes after app A's deletion: %v %v", left, err)
	}
}

// TestDocsOrder pages through documents whose ordered path holds every
// JSON type or nothing, one document a page, both ways.
func TestDocsOrder(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "docs-order", "")
	if err != nil {
		t.Fatal(err)
	}
	// JSON order: null < strings < numbers < booleans < arrays < objects;
	// a missing value after all of them.
	want := []string{`null`, `"a"`, `"b"`, `2`, `10`, `10`, `false`, `true`, `[1]`, `{"x": 1}`, `-`, `-`}
	var ids []string
	for i := len(want) - 1; i >= 0; i-- { // inserted out of order
		doc := `{"i": 0}`
		if want[i] != "-" {
			doc = `{"v": ` + want[i] + `}`
		}
		id := newDocID(t)
		ids = append(ids, id)
		if _, err := s.InsertDoc(ctx, a.ID, "c", id, []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	for _, desc := range []bool{false, true} {
		q := model.DocsQuery{AppID: a.ID, Collection: "c", Order: []model.DocsOrder{{Path: model.DocsPath{"v"}, Desc: desc}}, Limit: 1}
		var got []string
		for range 20 {
			page, err := s.FindDocs(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			d := page[0]
			v := "-"
			if d.Keys[0] != nil {
				v = string(d.Keys[0])
			}
			got = append(got, v)
			q.After = &model.DocsPosition{Keys: d.Keys, ID: d.ID}
		}
		exp := append([]string(nil), want...)
		if desc {
			for i, j := 0, len(exp)-1; i < j; i, j = i+1, j-1 {
				exp[i], exp[j] = exp[j], exp[i]
			}
		}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("desc=%v: paged %v, want %v", desc, got, exp)
		}
	}
	// Ties go by id: the two 10s and the two missing come in id order.
	q := model.DocsQuery{AppID: a.ID, Collection: "c", Where: []model.DocsCond{{Path: model.DocsPath{"v"}, Op: "$exists"}},
		Order: []model.DocsOrder{{Path: model.DocsPath{"i"}}}, Limit: 10}
	found, err := s.FindDocs(ctx, q)
	if err != nil || len(found) != 2 || found[0].ID != ids[0] || found[1].ID != ids[1] {
		t.Errorf("missing values by id: %+v %v", found, err)
	}
}

// TestDocsIndexIsUsed shows with EXPLAIN that a query on an indexed path
// reads the index, not the whole table.
func TestDocsIndexIsUsed(t *testing.T) {
	pool := pgtest.NewDatabase(t)
	s := store.New(pool)
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "docs-ix", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateApp(ctx, "docs-other", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range []string{a.ID, other.ID} {
		if _, err := pool.Exec(ctx, `INSERT INTO docs_documents (app_id, collection, id, doc)
SELECT $1, 'posts', gen_random_uuid(), jsonb_build_object('status', 's' || i, 'views', i, 'author', jsonb_build_object('id', i % 7))
FROM generate_series(1, 5000) i`, app); err != nil {
			t.Fatal(err)
		}
	}
	queries := map[string][]model.DocsCond{
		"$eq": {{Path: model.DocsPath{"status"}, Op: "$eq", Value: json.RawMessage(`"s42"`)}},
		"$in": {{Path: model.DocsPath{"status"}, Op: "$in", Values: []string{`"s1"`, `"s2"`}}},
		"$gt": {{Path: model.DocsPath{"status"}, Op: "$gt", Value: json.RawMessage(`"s4999"`), Type: "string"}},
	}
	explain := func(where []model.DocsCond) string {
		t.Helper()
		plan, err := s.ExplainFindDocs(ctx, model.DocsQuery{AppID: a.ID, Collection: "posts", Where: where, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return plan
	}
	if _, err := pool.Exec(ctx, `ANALYZE docs_documents`); err != nil {
		t.Fatal(err)
	}
	if plan := explain(queries["$eq"]); strings.Contains(plan, "docs_ix_") {
		t.Fatalf("an index before ensureIndex:\n%s", plan)
	}
	name := "docs_ix_" + strings.Repeat("ab", 20)
	if err := s.EnsureDocsIndex(ctx, model.DocsIndex{AppID: a.ID, Collection: "posts", Name: name,
		Paths: []model.DocsPath{{"status"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE docs_documents`); err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`Index (Only )?Scan (using|on) ` + name)
	for op, where := range queries {
		plan := explain(where)
		if !uses.MatchString(plan) || strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s on an indexed path does not use its index:\n%s", op, plan)
		}
		t.Logf("%s:\n%s", op, plan)
	}
	found, err := s.FindDocs(ctx, model.DocsQuery{AppID: a.ID, Collection: "posts", Where: queries["$in"], Limit: 10})
	if err != nil || len(found) != 2 {
		t.Errorf("find through the index: %d %v", len(found), err)
	}
}

// The SQL of a query holds placeholders, never a path, value or name of
// the query.
func TestDocsQueryTextHoldsNoInput(t *testing.T) {
	evil := "x'); DROP TABLE apps; --"
	q := model.DocsQuery{AppID: "app-" + evil, Collection: "c-" + evil,
		Where: []model.DocsCond{
			{Path: model.DocsPath{evil, "b"}, Op: "$eq", Value: json.RawMessage(`"` + evil + `"`)},
			{Path: model.DocsPath{evil}, Op: "$ne", Value: json.RawMessage(`"` + evil + `"`)},
			{Path: model.DocsPath{evil}, Op: "$gt", Value: json.RawMessage(`"` + evil + `"`), Type: "string"},
			{Path: model.DocsPath{evil}, Op: "$in", Values: []string{`"` + evil + `"`}},
			{Path: model.DocsPath{evil}, Op: "$exists", Exists: true},
		},
		Order: []model.DocsOrder{{Path: model.DocsPath{evil}, Desc: true}, {Path: model.DocsPath{"n"}}},
		After: &model.DocsPosition{Keys: []json.RawMessage{json.RawMessage(`"` + evil + `"`), nil}, ID: evil},
		Limit: 10}
	sql, args := store.BuildFindDocs(q)
	if strings.Contains(sql, "DROP") || strings.Contains(sql, "'") {
		t.Errorf("input in the SQL: %s", sql)
	}
	distinct := map[string]bool{}
	for _, p := range regexp.MustCompile(`\$\d+`).FindAllString(sql, -1) {
		distinct[p] = true
	}
	if n := len(distinct); n != len(args) {
		t.Errorf("%d placeholders for %d arguments: %s", n, len(args), sql)
	}
	var found int
	for _, a := range args {
		if strings.Contains(fmt.Sprint(a), "DROP") {
			found++
		}
	}
	if found < 10 {
		t.Errorf("the input is in %d arguments only: %v", found, args)
	}
}

// Docs calls join the transaction their context carries: what a failed
// Atomically wrote is gone, documents and indexes alike.
func TestDocsJoinTransactions(t *testing.T) {
	pool := pgtest.NewDatabase(t)
	s := store.New(pool)
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "docs-tx", "")
	if err != nil {
		t.Fatal(err)
	}
	kept := newDocID(t)
	if _, err := s.InsertDoc(ctx, a.ID, "c", kept, []byte(`{"n": 1}`)); err != nil {
		t.Fatal(err)
	}
	rollback := errors.New("roll back")
	err = s.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.InsertDoc(ctx, a.ID, "c", newDocID(t), []byte(`{"n": 2}`)); err != nil {
			return err
		}
		if _, err := s.UpdateDoc(ctx, a.ID, "c", kept, nil, func([]byte) ([]byte, error) { return []byte(`{"n": 3}`), nil }); err != nil {
			return err
		}
		if err := s.EnsureDocsIndex(ctx, model.DocsIndex{AppID: a.ID, Collection: "c", Name: "docs_ix_test_tx",
			Paths: []model.DocsPath{{"n"}}}); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	n, err := s.CountDocs(ctx, model.DocsQuery{AppID: a.ID, Collection: "c"})
	if err != nil || n != 1 {
		t.Errorf("%d documents after a rollback: %v", n, err)
	}
	if d, err := s.GetDoc(ctx, a.ID, "c", kept); err != nil || string(d.Doc) != `{"n": 1}` {
		t.Errorf("the update outlived its rollback: %s %v", d.Doc, err)
	}
	var indexes int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE indexname = 'docs_ix_test_tx'`).Scan(&indexes); err != nil || indexes != 0 {
		t.Errorf("the index outlived its rollback: %d %v", indexes, err)
	}
}
