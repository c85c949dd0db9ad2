package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/picloud/picloud/tui/client"
)

// docsModel is the data screen of shop with a kind of keys and a kind of
// documents, with the documents' collection open.
func docsModel(t *testing.T) (*Model, *fakeKind) {
	t.Helper()
	m := newTestModel(t, 120, 30)
	feed(m, meMsg{editorOfShop})
	docs := &fakeKind{docs: true, pages: map[string]dataPage{
		"|": {rows: []dataRow{
			{id: "0190a0c4-0000-7000-8000-000000000001", typ: "json", size: 30, version: 3, preview: `{"title": "first", "n": 1}`},
			{id: "0190a0c4-0000-7000-8000-000000000002", typ: "json", size: 31, version: 4, preview: `{"title": "second", "n": 2}`},
		}, cursor: "d1.next"},
		// The board finds the text anywhere in a document, also past the
		// part a row shows.
		"deep|": {rows: []dataRow{{id: "0190a0c4-0000-7000-8000-000000000002", typ: "json", size: 31, version: 4,
			preview: `{"title": "second", "n": 2}`}}, complete: true},
	}, items: map[string]dataItem{
		"0190a0c4-0000-7000-8000-000000000001": {id: "0190a0c4-0000-7000-8000-000000000001", typ: "json",
			text: prettyJSON([]byte(`{"title":"first","n":1}`)), version: 3},
	}}
	run(m, push(newDataScreen(m.e, shop, &fakeKind{}, docs)))
	return m, docs
}

func TestDataScreenListsBothKinds(t *testing.T) {
	m, _ := docsModel(t)
	v := m.View()
	for _, want := range []string{"KIND", "sessions", "3 keys", "carts", "posts", "docs", "12 documents", "4 KiB"} {
		if !strings.Contains(v, want) {
			t.Errorf("the collections lack %q:\n%s", want, v)
		}
	}
	do(m, "down", "down", "enter")
	v = m.View()
	if !strings.Contains(v, "DOCUMENT") || !strings.Contains(v, `{"title": "first", "n": 1}`) || !strings.Contains(v, "m load more") {
		t.Fatalf("the documents of posts:\n%s", v)
	}
	if strings.Contains(v, "EXPIRES") {
		t.Errorf("documents are listed with the columns of keys:\n%s", v)
	}
}

func TestDocsSearchShowsWhatTheBoardFound(t *testing.T) {
	m, f := docsModel(t)
	do(m, "down", "down", "enter", "/", "d", "e", "e", "p", "enter")
	if got := strings.Join(f.asked, ","); got != "|,deep|" {
		t.Fatalf("pages asked for: %s", got)
	}
	// "deep" is in no row's text, but the board found the document.
	if v := m.View(); !strings.Contains(v, "second") || strings.Contains(v, "first") {
		t.Errorf("the search's document is not shown, or the others are:\n%s", v)
	}
}

func TestDocsEditAndDelete(t *testing.T) {
	m, f := docsModel(t)
	do(m, "down", "down", "enter", "enter")
	if v := m.View(); !strings.Contains(v, `  "title": "first"`) || !strings.Contains(v, "e edit") {
		t.Fatalf("the document is not shown as formatted JSON:\n%s", v)
	}
	do(m, "e", "X", "ctrl+s")
	if len(f.saved) != 1 || !strings.HasPrefix(f.saved[0], "0190a0c4-0000-7000-8000-000000000001@3={") {
		t.Fatalf("saved %v, want the edit over version 3", f.saved)
	}
	if m.status != "saved document 0190a0c4-0000-7000-8000-000000000001" {
		t.Errorf("the status line says %q", m.status)
	}
	do(m, "d", "y")
	if strings.Join(f.removed, ",") != "0190a0c4-0000-7000-8000-000000000001@3" {
		t.Errorf("removed %v", f.removed)
	}
}

func TestDocText(t *testing.T) {
	for _, bad := range []string{`{"n": }`, `[1, 2]`, `"text"`, ``} {
		if _, err := docText(bad); err == nil || !strings.Contains(err.Error(), "nothing was saved") {
			t.Errorf("docText(%q): %v", bad, err)
		}
	}
	if v, err := docText("{\n  \"n\": 1\n}"); err != nil || string(v) != `{"n":1}` {
		t.Errorf("an object: %s %v", v, err)
	}
	if _, err := (docsKind{}).page(context.Background(), "a1", "a/b", "", ""); !errors.Is(err, errSlashCollection) {
		t.Errorf("a collection with / is asked of the API: %v", err)
	}
}

func TestDocsViewersOnlyRead(t *testing.T) {
	viewer := client.User{ID: "u2", Username: "bob", Role: "member", AppRoles: map[string]string{"a1": "viewer"}}
	m := newTestModel(t, 120, 30)
	feed(m, meMsg{viewer})
	_, docs := docsModel(t)
	run(m, push(newDataScreen(m.e, shop, &fakeKind{}, docs)))
	do(m, "down", "down", "enter")
	if v := m.View(); !strings.Contains(v, "first") || strings.Contains(v, "delete") {
		t.Errorf("a viewer is offered delete, or sees no documents:\n%s", v)
	}
	do(m, "d", "y", "enter")
	if v := m.View(); !strings.Contains(v, `"title": "first"`) || strings.Contains(v, "e edit") || strings.Contains(v, "delete") {
		t.Errorf("a viewer is offered to change the document:\n%s", v)
	}
	do(m, "e", "d", "y")
	if _, ok := m.top().(*dataValueScreen); !ok || len(docs.removed) != 0 || len(docs.saved) != 0 {
		t.Errorf("a viewer changed something: top %T, removed %v, saved %v", m.top(), docs.removed, docs.saved)
	}
}
