package tui

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

// fakeKind is a kind of data held in the test, which records what the
// screens ask of it.
type fakeKind struct {
	pages   map[string]dataPage // by contains + "|" + cursor
	asked   []string            // the pages asked for, as contains|cursor
	items   map[string]dataItem
	saved   []string // id@version=text
	removed []string // id@version
	saveErr error    // what save answers, when set
	docs    bool     // a kind of documents rather than keys
}

func (f *fakeKind) noun() string {
	if f.docs {
		return "document"
	}
	return "key"
}

func (f *fakeKind) label() string {
	if f.docs {
		return "docs"
	}
	return "kv"
}

func (f *fakeKind) columns() []column {
	if f.docs {
		return docsKind{}.columns()
	}
	return kvColumns()
}

func (f *fakeKind) cells(r dataRow) []string {
	if f.docs {
		return docsKind{}.cells(r)
	}
	return kvCells(r)
}

func (f *fakeKind) collections(context.Context, string) ([]dataCollection, error) {
	if f.docs {
		return []dataCollection{{name: "posts", items: 12, bytes: 4096}}, nil
	}
	return []dataCollection{{name: "sessions", items: 3, bytes: 1536}, {name: "carts", items: 1, bytes: 20}}, nil
}

func (f *fakeKind) page(_ context.Context, _, _, contains, cursor string) (dataPage, error) {
	f.asked = append(f.asked, contains+"|"+cursor)
	return f.pages[contains+"|"+cursor], nil
}

func (f *fakeKind) item(_ context.Context, _, _, id string) (dataItem, error) {
	it, ok := f.items[id]
	if !ok {
		return dataItem{}, errors.New("no such key")
	}
	return it, nil
}

func (f *fakeKind) save(_ context.Context, _, _ string, it dataItem, text string) error {
	if f.saveErr != nil {
		return f.saveErr
	}
	f.saved = append(f.saved, it.id+"@"+itoa(it.version)+"="+text)
	return nil
}

func (f *fakeKind) remove(_ context.Context, _, _ string, r dataRow) error {
	f.removed = append(f.removed, r.id+"@"+itoa(r.version))
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// run runs cmd as Bubble Tea would, and everything it sequences or batches,
// and gives the model what comes of it: a screen's API calls reach the
// fake and their answers come back.
func run(m *Model, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if reflect.ValueOf(cmd).Pointer() == reflect.ValueOf(m.spin.Tick).Pointer() {
		return // the spinner turns while calls run; here they end at once
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		// A batch's commands run at once, in no order: last first here.
		for i := len(b) - 1; i >= 0; i-- {
			run(m, b[i])
		}
		return
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := range v.Len() { // a sequence, in order
			run(m, v.Index(i).Interface().(tea.Cmd))
		}
		return
	}
	if msg == nil || strings.HasSuffix(reflect.TypeOf(msg).PkgPath(), "bubbles/cursor") {
		return // the cursor's blinking, which goes on for ever
	}
	_, next := m.Update(msg)
	run(m, next)
}

// do presses keys, one by one, running what each starts.
func do(m *Model, keys ...string) {
	for _, k := range keys {
		_, cmd := m.Update(press(k))
		run(m, cmd)
	}
}

func dataModel(t *testing.T, user client.User) (*Model, *fakeKind) {
	t.Helper()
	m := newTestModel(t, 100, 30)
	feed(m, meMsg{user})
	f := &fakeKind{pages: map[string]dataPage{
		"|":   {rows: []dataRow{{id: "a/1", typ: "json", size: 10, version: 4}, {id: "b 2", typ: "text", size: 3, version: 5}}, cursor: "c1"},
		"|c1": {rows: []dataRow{{id: "c%3", typ: "bytes", size: 4, version: 6}}, complete: true},
		"2|":  {rows: []dataRow{{id: "b 2", typ: "text", size: 3, version: 5}}, complete: true},
	}, items: map[string]dataItem{
		"a/1": {id: "a/1", typ: "json", text: prettyJSON([]byte(`{"n":1,"tags":["x","\u001b[31mred"]}`)), version: 7,
			details: []string{"type json · 10 bytes · version 7"}},
		"b 2": {id: "b 2", typ: "text", text: "plain \x1b[31mred\x1b[0m\nsecond line", version: 5},
	}}
	run(m, push(newDataScreen(m.e, shop, f)))
	return m, f
}

var editorOfShop = client.User{ID: "u3", Username: "ed", Role: "member", AppRoles: map[string]string{"a1": "editor"}}

func TestDataScreensBrowse(t *testing.T) {
	m, f := dataModel(t, editorOfShop)
	if v := m.View(); !strings.Contains(v, "sessions") || !strings.Contains(v, "2 KiB") || !strings.Contains(v, "carts") {
		t.Fatalf("the collections:\n%s", v)
	}
	do(m, "enter")
	v := m.View()
	if !strings.Contains(v, "a/1") || !strings.Contains(v, "b 2") || !strings.Contains(v, "m load more") || strings.Contains(v, "c%3") {
		t.Fatalf("the first page:\n%s", v)
	}
	do(m, "m")
	if v := m.View(); !strings.Contains(v, "c%3") || !strings.Contains(v, "a/1") || strings.Contains(v, "load more") {
		t.Errorf("the next page is not under the first:\n%s", v)
	}

	// The filter narrows what is loaded; entered, it searches the board,
	// since not every key was loaded at first.
	m, f = dataModel(t, editorOfShop)
	do(m, "enter", "/", "2")
	if v := m.View(); strings.Contains(v, "a/1") || !strings.Contains(v, "b 2") {
		t.Errorf("the filter does not narrow the rows:\n%s", v)
	}
	do(m, "enter")
	if got := strings.Join(f.asked, ","); got != "|,2|" {
		t.Errorf("pages asked for: %s, want the first page and then a search for 2", got)
	}
	_, cmd := m.Update(press("/"))
	run(m, cmd)
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	run(m, cmd)
	do(m, "enter")
	if got := strings.Join(f.asked, ","); got != "|,2|,|" {
		t.Errorf("a cleared filter does not list every key again: %s", got)
	}
	if v := m.View(); !strings.Contains(v, "a/1") {
		t.Errorf("every key is not listed again:\n%s", v)
	}

	// With every key loaded, the filter searches nothing on the board.
	m, f = dataModel(t, editorOfShop)
	do(m, "enter", "m", "/", "c", "enter")
	if got := strings.Join(f.asked, ","); got != "|,|c1" {
		t.Errorf("pages asked for with everything loaded: %s", got)
	}
}

func TestDataValueIsFormattedAndEscaped(t *testing.T) {
	m, _ := dataModel(t, editorOfShop)
	do(m, "enter", "enter")
	v := m.View()
	for _, want := range []string{"{", `  "n": 1,`, `  "tags": [`, `    "x",`, "type json · 10 bytes · version 7", "e edit", "d delete"} {
		if !strings.Contains(v, want) {
			t.Errorf("the value screen lacks %q:\n%s", want, v)
		}
	}
	do(m, "esc", "down", "enter")
	v = m.View()
	if strings.Contains(v, "\x1b[31m") || !strings.Contains(v, "second line") || !strings.Contains(v, "plain ") {
		t.Errorf("the text value's escape sequence reached the terminal, or the value is not shown:\n%q", v)
	}
}

func TestDataEditAndDelete(t *testing.T) {
	m, f := dataModel(t, editorOfShop)
	do(m, "enter", "enter", "e")
	if _, ok := m.top().(*dataEditScreen); !ok {
		t.Fatalf("e opened %T", m.top())
	}
	// An unchanged value leaves at once; a changed one asks first.
	do(m, "ctrl+s")
	if len(f.saved) != 0 {
		t.Errorf("an unchanged value was saved: %v", f.saved)
	}
	do(m, "X", "esc")
	if _, ok := m.top().(*dataEditScreen); !ok || !m.top().typing() {
		t.Fatal("esc left changes without asking")
	}
	do(m, "n", "ctrl+s")
	if len(f.saved) != 1 || !strings.HasPrefix(f.saved[0], "a/1@7={") || !strings.HasSuffix(f.saved[0], "}X") {
		t.Fatalf("saved %v, want the edited text over the version loaded, 7", f.saved)
	}
	if _, ok := m.top().(*dataValueScreen); !ok {
		t.Errorf("after saving, the top is %T, want the value again", m.top())
	}
	if m.status != "saved key a/1" {
		t.Errorf("after saving, the status line says %q", m.status)
	}

	// Delete asks, and deletes the version shown.
	do(m, "d")
	if len(f.removed) != 0 || !m.top().typing() {
		t.Fatal("d deleted without asking")
	}
	do(m, "y")
	if strings.Join(f.removed, ",") != "a/1@7" { // the version shown, not the listed one
		t.Errorf("removed %v", f.removed)
	}
	if _, ok := m.top().(*dataItemsScreen); !ok {
		t.Errorf("after the delete, the top is %T, want the keys", m.top())
	}
	if m.status != "deleted key a/1" {
		t.Errorf("after the delete, the status line says %q", m.status)
	}
	do(m, "down", "d", "n")
	if len(f.removed) != 1 {
		t.Errorf("n deleted: %v", f.removed)
	}
	do(m, "d", "y")
	if strings.Join(f.removed, ",") != "a/1@7,b 2@5" {
		t.Errorf("removed %v", f.removed)
	}
}

// TestDataEditRefused checks that a save the board refuses (the key
// changed meanwhile) keeps the editor open with the text, and says why.
func TestDataEditRefused(t *testing.T) {
	m, f := dataModel(t, editorOfShop)
	f.saveErr = &client.Error{Status: 409, Message: `key "a/1" is not at version 7 any more (or is gone); nothing was changed`}
	do(m, "enter", "enter", "e", "X", "ctrl+s")
	ed, ok := m.top().(*dataEditScreen)
	if !ok || !strings.HasSuffix(ed.text(), "}X") {
		t.Fatalf("after a refused save, the top is %T", m.top())
	}
	if !m.isErr || !strings.Contains(m.status, "not at version 7") {
		t.Errorf("the status line says %q", m.status)
	}
}

func TestDataViewersOnlyRead(t *testing.T) {
	viewer := client.User{ID: "u2", Username: "bob", Role: "member", AppRoles: map[string]string{"a1": "viewer"}}
	m, f := dataModel(t, viewer)
	do(m, "enter")
	if v := m.View(); strings.Contains(v, "delete") {
		t.Errorf("a viewer is offered delete:\n%s", v)
	}
	do(m, "d", "y", "enter")
	if v := m.View(); strings.Contains(v, "e edit") || strings.Contains(v, "delete") {
		t.Errorf("a viewer is offered to change the value:\n%s", v)
	}
	do(m, "e", "d", "y")
	if _, ok := m.top().(*dataValueScreen); !ok || len(f.removed) != 0 || len(f.saved) != 0 {
		t.Errorf("a viewer changed something: top %T, removed %v, saved %v", m.top(), f.removed, f.saved)
	}
}

func TestKVCollectionWithSlash(t *testing.T) {
	if _, err := (kvKind{}).page(context.Background(), "a1", "a/b", "", ""); !errors.Is(err, errSlashCollection) {
		t.Errorf("a collection with / is asked of the API: %v", err)
	}
}

func TestKVValueOfAnEdit(t *testing.T) {
	if _, err := kvValue("json", `{"n": }`); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("malformed JSON: %v", err)
	}
	if v, err := kvValue("json", "{\n  \"n\": 1\n}"); err != nil || string(v) != `{"n":1}` {
		t.Errorf("JSON: %s %v", v, err)
	}
	if v, err := kvValue("text", `a "quoted" {text`); err != nil || string(v) != `"a \"quoted\" {text"` {
		t.Errorf("text: %s %v", v, err)
	}
}
