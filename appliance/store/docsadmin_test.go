package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

// TestDocsAdmin checks the administrators' view of documents: collections
// with their counts, bytes and indexes (also of a collection without
// documents), the text search of a find, and dropping an index, never
// reaching another app's.
func TestDocsAdmin(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	ctx := context.Background()
	a, err := s.CreateApp(ctx, "docsa-a", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateApp(ctx, "docsa-b", "")
	if err != nil {
		t.Fatal(err)
	}
	insert := func(app, collection, doc string) string {
		t.Helper()
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := s.InsertDoc(ctx, app, collection, id, []byte(doc)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	insert(a.ID, "posts", `{"t": "needle in here"}`)
	hay := insert(a.ID, "posts", `{"t": "hay"}`)
	insert(b.ID, "posts", `{"t": "needle of b"}`)
	for _, ix := range []model.DocsIndex{
		{AppID: a.ID, Collection: "posts", Name: "docs_ix_a_t", Paths: []model.DocsPath{{"t"}}},
		{AppID: a.ID, Collection: "bare", Name: "docs_ix_a_bare", Paths: []model.DocsPath{{"x", "y"}, {"z"}}, Unique: true},
		{AppID: b.ID, Collection: "posts", Name: "docs_ix_b_t", Paths: []model.DocsPath{{"t"}}},
	} {
		if err := s.EnsureDocsIndex(ctx, ix); err != nil {
			t.Fatal(err)
		}
	}

	cs, err := s.DocsCollections(ctx, a.ID)
	if err != nil || len(cs) != 2 {
		t.Fatalf("collections of a: %+v %v", cs, err)
	}
	bare, posts := cs[0], cs[1]
	// {"t": "needle in here"} and {"t": "hay"} as jsonb writes them.
	if posts.Name != "posts" || posts.Documents != 2 || posts.Bytes != 23+12 || len(posts.Indexes) != 1 || posts.Indexes[0].Name != "docs_ix_a_t" {
		t.Errorf("posts of a: %+v", posts)
	}
	if bare.Name != "bare" || bare.Documents != 0 || len(bare.Indexes) != 1 || !bare.Indexes[0].Unique ||
		strings.Join(bare.Indexes[0].Paths, ",") != "x.y,z" {
		t.Errorf("the collection with an index and no documents: %+v", bare)
	}

	found, err := s.FindDocs(ctx, model.DocsQuery{AppID: a.ID, Collection: "posts", Contains: "needle", Limit: 10})
	if err != nil || len(found) != 1 || !strings.Contains(string(found[0].Doc), "needle in here") {
		t.Errorf("a's documents holding needle: %+v %v", found, err)
	}
	if n, err := s.CountDocs(ctx, model.DocsQuery{AppID: a.ID, Collection: "posts", Contains: "ha"}); err != nil || n != 1 {
		t.Errorf("a's documents holding ha: %d %v", n, err)
	}

	// Another app's index is not a's to drop; a's own goes, from
	// PostgreSQL too.
	if dropped, err := s.DropDocsIndex(ctx, a.ID, "posts", "docs_ix_b_t"); err != nil || dropped {
		t.Errorf("a dropped b's index: %v %v", dropped, err)
	}
	if dropped, err := s.DropDocsIndex(ctx, a.ID, "posts", "docs_ix_a_t"); err != nil || !dropped {
		t.Errorf("drop a's index: %v %v", dropped, err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE indexname IN ('docs_ix_a_t', 'docs_ix_b_t')`).Scan(&n); err != nil || n != 1 {
		t.Errorf("indexes left in PostgreSQL: %d %v", n, err)
	}
	if ixs, err := s.DocsIndexes(ctx, b.ID, "posts"); err != nil || len(ixs) != 1 || ixs[0].Name != "docs_ix_b_t" {
		t.Errorf("b's indexes: %+v %v", ixs, err)
	}
	if d, err := s.GetDoc(ctx, a.ID, "posts", hay); err != nil || string(d.Doc) != `{"t": "hay"}` {
		t.Errorf("a's document after the drop: %+v %v", d, err)
	}
}
