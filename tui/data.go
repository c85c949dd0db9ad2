package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/tui/client"
)

var (
	keyData      = bind([]string{"v"}, "v", "data")
	keyMore      = bind([]string{"m"}, "m", "load more")
	keyEditValue = bind([]string{"e"}, "e", "edit")
)

// dataScreen lists an app's collections of every kind of data, each
// marked with its kind, with their items and the bytes they take.
type dataScreen struct {
	list
	app   client.App
	kinds []dataKind
	cols  []dataCollection
}

type dataCollectionsMsg struct {
	to
	cols []dataCollection
}

func newDataScreen(e *env, app client.App, kinds ...dataKind) *dataScreen {
	return &dataScreen{app: app, kinds: kinds, list: newList(e, "no data yet: the app's scripts make collections as they write",
		column{"COLLECTION", 0, 0}, column{"KIND", 6, 0}, column{"ITEMS", 16, 0}, column{"SIZE", 10, 0})}
}

func (s *dataScreen) title() string { return s.app.Name + " data" }

func (s *dataScreen) resume() tea.Cmd { return s.init() }

func (s *dataScreen) init() tea.Cmd {
	return s.e.call("load collections", func(ctx context.Context) (tea.Msg, error) {
		var all []dataCollection
		for _, k := range s.kinds {
			cols, err := k.collections(ctx, s.app.ID)
			if err != nil {
				return nil, fmt.Errorf("%s collections: %w", k.label(), err)
			}
			for _, c := range cols {
				c.kind = k
				all = append(all, c)
			}
		}
		return dataCollectionsMsg{s.to(), all}, nil
	})
}

func (s *dataScreen) keys() bindings {
	return s.list.keys(bindings{keyOpen, keyFilter, keyReload})
}

func (s *dataScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(dataCollectionsMsg); ok {
		s.cols, s.loaded = msg.cols, true
		rows := make([][]string, len(s.cols))
		for i, c := range s.cols {
			rows[i] = []string{c.name, c.kind.label(), count(c.items, c.kind.noun()), bytes(c.bytes)}
		}
		s.t.setRows(rows)
		return nil
	}
	return s.dispatch(msg, s.init, func(k tea.KeyMsg) tea.Cmd {
		if i := s.t.selected(); i >= 0 && key.Matches(k, keyOpen) {
			return push(newDataItemsScreen(s.e, s.app, s.cols[i].kind, s.cols[i].name))
		}
		return nil
	})
}

// dataItemsScreen lists a collection's items a page at a time. The /
// filter narrows the loaded rows as it is typed; enter searches the whole
// collection on the board when not every item is loaded.
type dataItemsScreen struct {
	list
	app        client.App
	kind       dataKind
	collection string
	rows       []dataRow
	cursor     string
	complete   bool
	contains   string // the search the rows were loaded with
}

type dataPageMsg struct {
	to
	page     dataPage
	more     bool // the page follows the rows shown
	contains string
}

type dataDeletedMsg struct {
	to
	id string
}

func newDataItemsScreen(e *env, app client.App, kind dataKind, collection string) *dataItemsScreen {
	return &dataItemsScreen{app: app, kind: kind, collection: collection,
		list: newList(e, "no "+kind.noun()+"s", kind.columns()...).withDialog("")}
}

func (s *dataItemsScreen) title() string { return s.collection }

func (s *dataItemsScreen) resume() tea.Cmd { return s.init() }

func (s *dataItemsScreen) init() tea.Cmd { return s.load(false) }

// load reads the first page, or with more the page after the rows shown.
func (s *dataItemsScreen) load(more bool) tea.Cmd {
	contains, cursor := s.contains, ""
	if more {
		cursor = s.cursor
	}
	return s.e.call("load "+s.kind.noun()+"s", func(ctx context.Context) (tea.Msg, error) {
		p, err := s.kind.page(ctx, s.app.ID, s.collection, contains, cursor)
		return dataPageMsg{s.to(), p, more, contains}, err
	})
}

func (s *dataItemsScreen) keys() bindings {
	own := bindings{keyOpen}
	if s.loaded && !s.complete {
		own = append(own, keyMore)
	}
	if s.e.can(access.WriteApp, s.app.ID) {
		own = append(own, keyDelete)
	}
	return s.list.keys(append(own, keyFilter, keyReload))
}

func (s *dataItemsScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataPageMsg:
		if msg.contains != s.contains {
			return nil // an answer to a search since replaced
		}
		if msg.more {
			s.rows = append(s.rows, msg.page.rows...)
		} else {
			s.rows = msg.page.rows
		}
		s.cursor, s.complete, s.loaded = msg.page.cursor, msg.page.complete, true
		s.refresh()
		return nil
	case dataDeletedMsg:
		return tea.Batch(s.init(), info("deleted "+s.kind.noun()+" "+msg.id))
	}
	cmd := s.dispatch(msg, s.init, s.onKey)
	return tea.Batch(cmd, s.search())
}

// search asks the board for the items that hold the filter once it is
// entered, unless every item is loaded already; a cleared filter lists
// them all again.
func (s *dataItemsScreen) search() tea.Cmd {
	q := strings.TrimSpace(s.t.filter.Value())
	if s.t.editing || q == s.contains || (s.contains == "" && s.complete) {
		return nil
	}
	s.contains = q
	return s.load(false)
}

func (s *dataItemsScreen) onKey(k tea.KeyMsg) tea.Cmd {
	i := s.t.selected()
	switch {
	case key.Matches(k, keyMore) && s.loaded && !s.complete:
		return s.load(true)
	case i < 0:
	case key.Matches(k, keyOpen):
		return push(newDataValueScreen(s.e, s.app, s.kind, s.collection, s.rows[i]))
	case key.Matches(k, keyDelete) && s.e.can(access.WriteApp, s.app.ID):
		r := s.rows[i]
		s.ask.ask(fmt.Sprintf("delete %s %s?", s.kind.noun(), safe(r.id)), func() tea.Cmd {
			return s.e.call("delete "+r.id, func(ctx context.Context) (tea.Msg, error) {
				return dataDeletedMsg{s.to(), r.id}, s.kind.remove(ctx, s.app.ID, s.collection, r)
			})
		})
	}
	return nil
}

func (s *dataItemsScreen) refresh() {
	rows := make([][]string, len(s.rows))
	for i, r := range s.rows {
		rows[i] = s.kind.cells(r)
	}
	// The board matched the rows of a search on the whole item (a
	// document's text), which the row may not show: they all pass.
	s.t.searched = s.contains
	s.t.setRows(rows)
}

// dataValueScreen shows one item's value, JSON pretty-printed, scrolling.
type dataValueScreen struct {
	base
	app        client.App
	kind       dataKind
	collection string
	row        dataRow
	it         dataItem
	vp         viewport.Model
	ask        confirm
}

type dataItemMsg struct {
	to
	it dataItem
}

type dataGoneMsg struct {
	to
	id string
}

func newDataValueScreen(e *env, app client.App, kind dataKind, collection string, row dataRow) *dataValueScreen {
	return &dataValueScreen{base: newBase(e), app: app, kind: kind, collection: collection, row: row, vp: viewport.New(1, 1)}
}

func (s *dataValueScreen) title() string { return s.row.id }

func (s *dataValueScreen) resume() tea.Cmd { return s.init() }

func (s *dataValueScreen) init() tea.Cmd {
	return s.e.call("load "+s.row.id, func(ctx context.Context) (tea.Msg, error) {
		it, err := s.kind.item(ctx, s.app.ID, s.collection, s.row.id)
		return dataItemMsg{s.to(), it}, err
	})
}

func (s *dataValueScreen) typing() bool { return s.ask.active() }

func (s *dataValueScreen) setSize(w, h int) {
	s.base.setSize(w, h)
	s.layout()
}

// layout sizes the value's view under the item's details, above the line
// of the question, and wraps the value to the width.
func (s *dataValueScreen) layout() {
	s.vp.Width, s.vp.Height = max(1, s.w), max(1, s.h-len(s.it.details)-2)
	s.vp.SetContent(ansi.Hardwrap(safeText(s.it.text), max(1, s.w), true))
}

func (s *dataValueScreen) keys() bindings {
	if s.ask.active() {
		return bindings{keyYes, keyNo}
	}
	own := bindings{keyScroll}
	if s.loaded && s.e.can(access.WriteApp, s.app.ID) {
		own = append(own, keyEditValue, keyDelete)
	}
	return append(own, keyReload)
}

func (s *dataValueScreen) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case dataItemMsg:
		s.it, s.loaded = msg.it, true
		s.row.version = msg.it.version
		s.layout()
		return nil
	case dataGoneMsg:
		// In order: closing a screen clears the status line.
		return tea.Sequence(pop, info("deleted "+s.kind.noun()+" "+msg.id))
	}
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	writes := s.loaded && s.e.can(access.WriteApp, s.app.ID)
	switch {
	case s.ask.active():
		return s.ask.update(k)
	case key.Matches(k, keyReload):
		return s.init()
	case key.Matches(k, keyEditValue) && writes:
		ed, err := newDataEditScreen(s.e, s.app, s.kind, s.collection, s.it)
		if err != nil {
			return func() tea.Msg { return errMsg{"edit " + s.it.id, err} }
		}
		return push(ed)
	case key.Matches(k, keyDelete) && writes:
		r := s.row
		s.ask.ask(fmt.Sprintf("delete %s %s?", s.kind.noun(), safe(r.id)), func() tea.Cmd {
			return s.e.call("delete "+r.id, func(ctx context.Context) (tea.Msg, error) {
				return dataGoneMsg{s.to(), r.id}, s.kind.remove(ctx, s.app.ID, s.collection, r)
			})
		})
		return nil
	}
	var cmd tea.Cmd
	s.vp, cmd = s.vp.Update(msg)
	return cmd
}

func (s *dataValueScreen) view() string {
	lines := make([]string, 0, len(s.it.details)+3)
	for _, d := range s.it.details {
		lines = append(lines, s.e.st.faint.Render(safe(d)))
	}
	if s.loaded {
		lines = append(lines, s.vp.View())
	}
	out := fitBlock(strings.Join(lines, "\n"), s.w, max(1, s.h-1))
	if s.ask.active() {
		return out + "\n" + s.ask.view(s.e.st)
	}
	return out + "\n"
}

// dataEditScreen edits one item's value in the editor's text area; saving
// writes it over the version that was loaded, so that a change made
// meanwhile is not overwritten.
type dataEditScreen struct {
	base
	app        client.App
	kind       dataKind
	collection string
	it         dataItem
	ta         textarea.Model
	ask        confirm
}

type dataSavedMsg struct {
	to
	id string
}

func newDataEditScreen(e *env, app client.App, kind dataKind, collection string, it dataItem) (*dataEditScreen, error) {
	v, err := toEditor(it.text)
	if err != nil {
		return nil, err
	}
	s := &dataEditScreen{base: newBase(e), app: app, kind: kind, collection: collection, it: it, ta: e.st.editor()}
	s.ta.SetValue(v)
	s.ta.Focus()
	s.loaded = true
	return s, nil
}

func (s *dataEditScreen) title() string { return "edit" }

func (s *dataEditScreen) init() tea.Cmd { return nil }

func (s *dataEditScreen) typing() bool { return true }

func (s *dataEditScreen) setSize(w, h int) {
	s.base.setSize(w, h)
	s.ta.SetWidth(w)
	s.ta.SetHeight(max(1, h-2))
}

func (s *dataEditScreen) text() string { return fromEditor(s.ta.Value()) }

func (s *dataEditScreen) dirty() bool { return s.text() != s.it.text }

// unsaved names the edit when it changed the value.
func (s *dataEditScreen) unsaved() string {
	if s.dirty() {
		return "your changes to " + s.kind.noun() + " " + safe(s.it.id)
	}
	return ""
}

func (s *dataEditScreen) keys() bindings {
	if s.ask.active() {
		return bindings{keyYes, keyNo}
	}
	return bindings{keySave, keyLeave}
}

func (s *dataEditScreen) update(msg tea.Msg) tea.Cmd {
	if msg, ok := msg.(dataSavedMsg); ok {
		return tea.Sequence(pop, info("saved "+s.kind.noun()+" "+msg.id))
	}
	k, isKey := msg.(tea.KeyMsg)
	switch {
	case isKey && s.ask.active():
		return s.ask.update(k)
	case isKey && key.Matches(k, keySave):
		if !s.dirty() {
			return info("no changes to save")
		}
		text, it := s.text(), s.it
		return s.e.call("save "+it.id, func(ctx context.Context) (tea.Msg, error) {
			return dataSavedMsg{s.to(), it.id}, s.kind.save(ctx, s.app.ID, s.collection, it, text)
		})
	case isKey && k.String() == "esc":
		if s.dirty() {
			s.ask.ask("leave without saving your changes?", func() tea.Cmd { return pop })
			return nil
		}
		return pop
	}
	var cmd tea.Cmd
	s.ta, cmd = s.ta.Update(msg)
	return cmd
}

func (s *dataEditScreen) view() string {
	head := s.e.st.faint.Render(safe(fmt.Sprintf("%s %s of %s (%s)", s.kind.noun(), s.it.id, s.collection, s.it.typ)))
	out := head + "\n" + fitBlock(s.ta.View(), s.w, max(1, s.h-2))
	if s.ask.active() {
		return out + "\n" + s.ask.view(s.e.st)
	}
	return out + "\n"
}

// count is n of noun, in the plural unless n is 1.
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
