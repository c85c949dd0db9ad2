package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/picloud/picloud/tui/client"
	"github.com/picloud/picloud/tui/safetext"
)

var (
	keySave      = bind([]string{"ctrl+s"}, "ctrl+s", "save")
	keyVersions  = bind([]string{"ctrl+o"}, "ctrl+o", "versions")
	keyLeave     = bind([]string{"esc"}, "esc", "back")
	keyConfirm   = bind([]string{"y", "enter"}, "y/enter", "save this")
	keyDraft     = bind([]string{"D"}, "D", "save as a draft")
	keyRollback  = bind([]string{"enter"}, "enter", "roll back to it")
	keyShowDiff  = bind([]string{"d"}, "d", "diff against the active")
	keyDoRoll    = bind([]string{"y", "enter"}, "y/enter", "roll back to it")
	keyScroll    = bind([]string{"up", "down"}, "↑/↓", "scroll")
	keyMerge     = bind([]string{"m"}, "m", "merge into it")
	keyOverride  = bind([]string{"o"}, "o", "overwrite it")
	keyKeepEdit  = bind([]string{"esc"}, "esc", "keep editing")
	keyEnterDone = bind([]string{"enter"}, "enter", "done")
	keyReplay    = bind([]string{"p"}, "p", "replay against captured requests")
)

// editor modes.
const (
	modeEdit = iota
	modeDiff
	modeVersions
	modeVersionDiff
	modeConflict
	modeReplay
)

// editorScreen edits a script: saving makes a new version, after a look at
// the diff against the active one; compile errors show at their line.
type editorScreen struct {
	base
	app      client.App
	script   client.Script
	active   string // the active version's source
	ta       textarea.Model
	mode     int
	diff     viewport.Model
	versions []client.Version
	vt       table
	ask      confirm
	compile  *client.Error // the last save's compile error
	gutter   gutter        // line numbers, and the mark of the compile error's line
	vdiff    int           // the version whose diff against the active one is shown
	loadErr  error         // why the source cannot be edited here
	// baseVersion is the script's latest version when the text was
	// loaded or saved: a save from it is refused when another version
	// has been saved since.
	baseVersion int
	theirs      client.Script // on a refused save, the script as it is now
	in          prompt        // what to find, the line to go to
	query       string        // the last text looked for
	hist        history       // the changes to undo and redo
}

type scriptLoadedMsg struct {
	to
	s client.Script
}

type savedMsg struct {
	to
	s     client.Script
	draft bool // saved as a draft: the active version did not change
}

// staleMsg tells that a save was refused because another version was saved
// since the edit began; s is the script as it is now.
type staleMsg struct {
	to
	s client.Script
}

type saveFailedMsg struct {
	to
	err error
}

type versionSourceMsg struct {
	to
	v client.Version
}

// replayMsg is the report of a version's replay.
type replayMsg struct {
	to
	r client.ReplayReport
}

type versionsMsg struct {
	to
	versions []client.Version
}

func newEditorScreen(e *env, app client.App, sc client.Script) *editorScreen {
	s := &editorScreen{base: newBase(e), app: app, script: sc, ta: e.st.editor()}
	// The gutter draws the line numbers, as the prompt of each row.
	s.ta.ShowLineNumbers = false
	s.gutter.digits = minDigits
	s.ta.SetPromptFunc(s.gutter.width(), s.gutter.prompt)
	s.ta.Focus()
	s.vt = newTable(e.st, "no versions", column{"VERSION", 9, 0}, column{"SAVED", 20, 0}, column{"BY", 14, 0}, column{"", 0, 0})
	return s
}

func (s *editorScreen) title() string { return s.script.Name }

func (s *editorScreen) init() tea.Cmd {
	return s.e.call("load "+s.script.Name, func(ctx context.Context) (tea.Msg, error) {
		sc, err := s.e.c.Script(ctx, s.script.ID)
		return scriptLoadedMsg{s.to(), sc}, err
	})
}

func (s *editorScreen) setSize(w, h int) {
	s.base.setSize(w, h)
	s.ta.SetWidth(w)
	s.fitGutter()
	s.ta.SetHeight(max(1, h-2))
	s.diff.Width, s.diff.Height = w, max(1, h-2)
	s.vt.setSize(w, h-2)
}

func (s *editorScreen) typing() bool { return true }

func (s *editorScreen) keys() bindings {
	switch {
	case s.ask.active():
		return bindings{keyYes, keyNo}
	case s.mode == modeDiff:
		return bindings{keyConfirm, keyDraft, keyScroll, keyCancel}
	case s.mode == modeVersions:
		return bindings{keyRollback, keyShowDiff, keyReplay, keyUp, keyDown, keyCancel}
	case s.mode == modeReplay:
		return bindings{keyScroll, keyCancel}
	case s.mode == modeVersionDiff:
		return bindings{keyDoRoll, keyScroll, keyCancel}
	case s.mode == modeConflict:
		return bindings{keyMerge, keyOverride, keyScroll, keyKeepEdit}
	case s.in.active():
		return bindings{keyEnterDone, keyCancel}
	}
	return bindings{keySave, keyVersions, keyFind, keyFindNext, keyFindPrev, keyGoto, keyUndo, keyRedo, keyIndent, keyDedent, keyLeave}
}

func (s *editorScreen) dirty() bool { return s.loaded && s.source() != s.active }

// source is the text being edited, as it is saved: the text area's value
// with its stand-ins for control characters turned back.
func (s *editorScreen) source() string { return fromEditor(s.ta.Value()) }

func (s *editorScreen) update(msg tea.Msg) tea.Cmd {
	cmd := s.handle(msg)
	s.fitGutter()
	return cmd
}

// handle is update but for the gutter's width.
func (s *editorScreen) handle(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case scriptLoadedMsg:
		v, err := toEditor(msg.s.Source)
		s.script, s.loadErr = msg.s, err
		if err != nil {
			s.loaded = false
			return func() tea.Msg { return errMsg{"edit " + msg.s.Name, err} }
		}
		s.active, s.loaded, s.baseVersion = msg.s.Source, true, msg.s.LatestVersion
		s.ta.SetValue(v)
		s.gotoLine(1, 1)
		s.compile, s.gutter.mark = nil, 0
		s.hist.reset()
		return nil
	case savedMsg:
		s.script, s.active, s.compile, s.gutter.mark, s.mode = msg.s, s.source(), nil, 0, modeEdit
		s.baseVersion = msg.s.LatestVersion
		if msg.draft {
			return func() tea.Msg {
				return infoMsg(fmt.Sprintf("saved %s version %d as a draft; version %d is still active", msg.s.Name, msg.s.LatestVersion, msg.s.ActiveVersion))
			}
		}
		return func() tea.Msg {
			return infoMsg(fmt.Sprintf("saved %s version %d, active now", msg.s.Name, msg.s.ActiveVersion))
		}
	case staleMsg:
		s.theirs, s.mode = msg.s, modeConflict
		d := unifiedDiff(msg.s.Source, s.source(), 3, s.e.st)
		if d == "" {
			d = s.e.st.faint.Render("your text is the same as the newer version's")
		}
		s.diff = viewport.New(s.w, max(1, s.h-2))
		s.diff.SetContent(d)
		return func() tea.Msg {
			return errMsg{"save " + s.script.Name, fmt.Errorf("version %d was saved since you began editing version %d; nothing was saved", msg.s.LatestVersion, s.baseVersion)}
		}
	case saveFailedMsg:
		s.mode = modeEdit
		var ce *client.Error
		if errors.As(msg.err, &ce) && ce.Line > 0 {
			s.compile = ce
			s.gutter.mark = ce.Line
			s.gotoLine(ce.Line, ce.Column)
			return func() tea.Msg {
				return errMsg{"save", fmt.Errorf("does not compile, line %d: %s", ce.Line, ce.Message)}
			}
		}
		return func() tea.Msg { return errMsg{"save " + s.script.Name, msg.err} }
	case versionSourceMsg:
		d := unifiedDiff(s.active, msg.v.Source, 3, s.e.st)
		if d == "" {
			d = s.e.st.faint.Render("the same source as the active version")
		}
		s.diff = viewport.New(s.w, max(1, s.h-2))
		s.diff.SetContent(d)
		s.vdiff, s.mode = msg.v.Version, modeVersionDiff
		return nil
	case replayMsg:
		s.diff = viewport.New(s.w, max(1, s.h-2))
		s.diff.SetContent(ansi.Wrap(replayText(msg.r, s.e.st), s.w, ""))
		s.vdiff, s.mode = msg.r.Version, modeReplay
		return nil
	case versionsMsg:
		s.versions = msg.versions
		rows := make([][]string, len(msg.versions))
		for i, v := range msg.versions {
			note := ""
			if v.Active {
				note = "active"
			}
			rows[i] = []string{fmt.Sprintf("v%d", v.Version), v.CreatedAt.Local().Format("2006-01-02 15:04:05"), savedBy(v), note}
		}
		s.vt.setRows(rows)
		for i, v := range msg.versions {
			if v.Active {
				s.vt.selectRow(i)
			}
		}
		s.mode = modeVersions
		return nil
	}
	k, isKey := msg.(tea.KeyMsg)
	if isKey && s.ask.active() {
		return s.ask.update(k)
	}
	if s.in.active() {
		return s.in.update(msg)
	}
	if isKey && !s.loaded {
		// Nothing to edit before the source arrives.
		if k.String() == "esc" {
			return pop
		}
		return nil
	}
	switch s.mode {
	case modeConflict:
		if isKey && key.Matches(k, keyMerge) {
			return s.merge()
		}
		return s.inDiff(msg, keyOverride, func() tea.Cmd {
			s.baseVersion = s.theirs.LatestVersion
			return s.save()
		}, modeEdit)
	case modeDiff:
		if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, keyDraft) {
			return s.saveAs(true)
		}
		return s.inDiff(msg, keyConfirm, s.save, modeEdit)
	case modeVersionDiff:
		return s.inDiff(msg, keyDoRoll, func() tea.Cmd { return s.askRollback(s.vdiff, false) }, modeVersions)
	case modeReplay:
		if isKey && (k.String() == "esc" || k.String() == "q") {
			s.mode = modeVersions
			return nil
		}
		var cmd tea.Cmd
		s.diff, cmd = s.diff.Update(msg)
		return cmd
	case modeVersions:
		if isKey {
			switch {
			case k.String() == "esc" || k.String() == "q":
				s.mode = modeEdit
			case key.Matches(k, keyReplay):
				if i := s.vt.selected(); i >= 0 {
					n := s.versions[i].Version
					return s.e.call(fmt.Sprintf("replay version %d", n), func(ctx context.Context) (tea.Msg, error) {
						r, err := s.e.c.Replay(ctx, s.script.ID, n)
						return replayMsg{s.to(), r}, err
					})
				}
			case key.Matches(k, keyShowDiff):
				if i := s.vt.selected(); i >= 0 {
					n := s.versions[i].Version
					return s.e.call(fmt.Sprintf("load version %d", n), func(ctx context.Context) (tea.Msg, error) {
						v, err := s.e.c.ScriptVersion(ctx, s.script.ID, n)
						return versionSourceMsg{s.to(), v}, err
					})
				}
			case key.Matches(k, keyRollback):
				if i := s.vt.selected(); i >= 0 {
					return s.askRollback(s.versions[i].Version, true)
				}
			default:
				s.vt.update(k)
			}
		}
		return nil
	}
	if isKey {
		switch {
		case key.Matches(k, keySave):
			if !s.loaded {
				return nil
			}
			d := unifiedDiff(s.active, s.source(), 3, s.e.st)
			if d == "" {
				return func() tea.Msg { return infoMsg("no changes to save") }
			}
			s.diff = viewport.New(s.w, max(1, s.h-2))
			s.diff.SetContent(d)
			s.mode = modeDiff
			return nil
		case key.Matches(k, keyVersions):
			return s.e.call("load versions", func(ctx context.Context) (tea.Msg, error) {
				vs, err := s.e.c.ScriptVersions(ctx, s.script.ID)
				return versionsMsg{s.to(), vs}, err
			})
		case k.String() == "esc":
			if s.dirty() {
				s.ask.ask("leave without saving your changes?", func() tea.Cmd { return pop })
				return nil
			}
			return pop
		}
		if cmd, ok := s.editKey(k); ok {
			return cmd
		}
	}
	return s.typeKey(msg)
}

// savedBy names who saved a version: their username, or "—" when not
// known (a version saved from the command line).
func savedBy(v client.Version) string {
	if v.CreatedByName != "" {
		return v.CreatedByName
	}
	return "—"
}

// inDiff handles msg while a diff is shown: the key yes does what the diff
// is asked about, esc or q goes back to the mode back, the rest scrolls.
func (s *editorScreen) inDiff(msg tea.Msg, yes key.Binding, do func() tea.Cmd, back int) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, yes):
			return do()
		case k.String() == "esc" || k.String() == "q":
			s.mode = back
			return nil
		}
	}
	var cmd tea.Cmd
	s.diff, cmd = s.diff.Update(msg)
	return cmd
}

// save sends the text as a new version, active at once.
func (s *editorScreen) save() tea.Cmd { return s.saveAs(false) }

// saveAs sends the text as a new version, from the version the edit
// started from; a draft does not become active. When another version was
// saved since, it loads the script as it is now for the person to merge or
// overwrite.
func (s *editorScreen) saveAs(draft bool) tea.Cmd {
	src, base := s.source(), s.baseVersion
	return s.e.call("save "+s.script.Name, func(ctx context.Context) (tea.Msg, error) {
		save := s.e.c.SaveScript
		if draft {
			save = s.e.c.SaveDraft
		}
		sc, err := save(ctx, s.script.ID, src, base)
		if e, stale := client.StaleBase(err); stale {
			now, err := s.e.c.Script(ctx, s.script.ID)
			if err != nil {
				return saveFailedMsg{s.to(), fmt.Errorf("nothing saved: version %d was saved since, and loading it failed: %w", e.LatestVersion, err)}, nil
			}
			return staleMsg{s.to(), now}, nil
		}
		if err != nil {
			return saveFailedMsg{s.to(), err}, nil
		}
		return savedMsg{s.to(), sc, draft}, nil
	})
}

// merge puts the newer version in the editor with the person's changes
// re-applied; where both changed the same lines, both texts stay between
// conflict markers for the person to resolve. Nothing is saved yet.
func (s *editorScreen) merge() tea.Cmd {
	n := s.theirs.LatestVersion
	merged, conflicts := merge3(s.active, s.source(), s.theirs.Source, fmt.Sprintf("version %d", n))
	v, err := toEditor(merged)
	if err != nil {
		return func() tea.Msg { return errMsg{"merge", err} }
	}
	line := s.ta.Line() + 1
	if conflicts > 0 {
		line = slices.Index(strings.Split(merged, "\n"), "<<<<<<< yours") + 1
	}
	s.script, s.active, s.baseVersion, s.mode = s.theirs, s.theirs.Source, n, modeEdit
	s.compile, s.gutter.mark = nil, 0
	s.edit(func() {
		s.ta.SetValue(v)
		s.gotoLine(line, 1)
	})
	msg := fmt.Sprintf("your changes are re-applied on version %d: look, then ctrl+s", n)
	if conflicts > 0 {
		msg = fmt.Sprintf("%d of your changes clash with version %d: both texts are between <<<<<<< and >>>>>>>; resolve them, then ctrl+s", conflicts, n)
	}
	return func() tea.Msg { return infoMsg(msg) }
}

// askRollback rolls back to version n after a yes: always when the text
// has unsaved changes, which the rollback would throw away, else when ask
// (the version's diff, where y is the answer, asks no more).
func (s *editorScreen) askRollback(n int, ask bool) tea.Cmd {
	switch {
	case s.dirty():
		s.ask.ask(fmt.Sprintf("make version %d active and throw away your unsaved changes?", n), func() tea.Cmd { return s.rollback(n) })
	case ask:
		s.ask.ask(fmt.Sprintf("make version %d active?", n), func() tea.Cmd { return s.rollback(n) })
	default:
		return s.rollback(n)
	}
	return nil
}

// unsaved names the changes that leaving would throw away, "" for none.
func (s *editorScreen) unsaved() string {
	if s.dirty() {
		return "your changes to " + s.script.Name
	}
	return ""
}

// rollback makes version n active and loads its source.
func (s *editorScreen) rollback(n int) tea.Cmd {
	s.mode = modeEdit
	return s.e.call(fmt.Sprintf("roll back to version %d", n), func(ctx context.Context) (tea.Msg, error) {
		if _, err := s.e.c.Rollback(ctx, s.script.ID, n); err != nil {
			return nil, err
		}
		sc, err := s.e.c.Script(ctx, s.script.ID)
		return scriptLoadedMsg{s.to(), sc}, err
	})
}

// underCursor names the control character under the cursor, which the
// text area shows as a symbol: " · \x1b under the cursor"; "" for any
// other character.
func (s *editorScreen) underCursor() string {
	lines := strings.Split(s.ta.Value(), "\n")
	if s.ta.Line() >= len(lines) {
		return ""
	}
	li := s.ta.LineInfo()
	line, col := []rune(lines[s.ta.Line()]), li.StartColumn+li.ColumnOffset
	if col >= len(line) {
		return ""
	}
	r := fromEditor(string(line[col]))
	if !safetext.Unsafe([]rune(r)[0]) {
		return ""
	}
	return " · " + safe(r) + " under the cursor"
}

// gotoLine puts the cursor at a 1-based line and column.
func (s *editorScreen) gotoLine(line, col int) {
	for s.ta.Line() > line-1 {
		s.ta.CursorUp()
	}
	for s.ta.Line() < line-1 && s.ta.Line() < s.ta.LineCount()-1 {
		s.ta.CursorDown()
	}
	s.ta.SetCursor(max(0, col-1))
	s.reveal()
}

// reveal scrolls the text area to its cursor, which it does itself only
// when it handles a message, and only as far as the text it last drew.
func (s *editorScreen) reveal() {
	_ = s.ta.View()
	s.ta, _ = s.ta.Update(nil)
}

// fitGutter widens the gutter when the line numbers need more digits (and
// narrows it back), so that the text area keeps the screen's width.
func (s *editorScreen) fitGutter() {
	if d := digitsFor(s.ta.LineCount()); d != s.gutter.digits {
		s.gutter.digits = d
		s.ta.SetPromptFunc(s.gutter.width(), s.gutter.prompt)
		s.ta.SetWidth(s.w)
		s.reveal()
	}
}

func (s *editorScreen) view() string {
	st := s.e.st
	info := fmt.Sprintf("%s · %s · version %d active", safe(s.script.Name), safe(s.script.Language), s.script.ActiveVersion)
	if s.script.LatestVersion > s.script.ActiveVersion {
		info += fmt.Sprintf(" (latest %d)", s.script.LatestVersion)
	}
	if s.dirty() {
		info += " · modified"
	}
	var body, last string
	switch s.mode {
	case modeDiff:
		info = "changes against the active version " + fmt.Sprint(s.script.ActiveVersion)
		body = s.diff.View()
		last = st.warn.Render("save these changes as a new version?") + " " + st.faint.Render("[y/enter: save, D: as a draft, esc: back]")
	case modeVersions:
		info = "versions of " + safe(s.script.Name)
		body = s.vt.view()
		last = st.faint.Render("enter: make the version active · d: its diff against the active · p: replay it")
	case modeReplay:
		info = fmt.Sprintf("version %d replayed against the captured requests", s.vdiff)
		body = s.diff.View()
		last = st.faint.Render("esc: the versions")
	case modeConflict:
		info = fmt.Sprintf("your text against version %d, saved since you began from version %d", s.theirs.LatestVersion, s.baseVersion)
		body = s.diff.View()
		last = st.warn.Render(fmt.Sprintf("version %d is newer.", s.theirs.LatestVersion)) + " " +
			st.faint.Render("[m: take it, re-apply yours · o: overwrite it · esc: edit]")
	case modeVersionDiff:
		info = fmt.Sprintf("version %d against the active version %d", s.vdiff, s.script.ActiveVersion)
		body = s.diff.View()
		last = st.warn.Render(fmt.Sprintf("make version %d active?", s.vdiff)) + " " + st.faint.Render("[y/enter: roll back, esc: the list]")
	default:
		s.gutter.measure(s.ta)
		body = s.highlightMatch(drawWidget(s.ta.View()))
		switch {
		case s.loadErr != nil:
			body = st.err.Render(ansi.Wrap(safe(s.loadErr.Error()), s.w, ""))
		case !s.loaded:
			body = st.faint.Render("loading…")
		}
		last = st.faint.Render(fmt.Sprintf("line %d, column %d", s.ta.Line()+1, s.snap().col+1) + s.underCursor() + safe(s.bracketNote()))
		if s.compile != nil {
			last = st.err.Render(safe(fmt.Sprintf("✗ line %d, column %d: %s", s.compile.Line, s.compile.Column, s.compile.Message)))
		}
	}
	if s.ask.active() {
		last = s.ask.view(st)
	}
	if s.in.active() {
		last = s.in.view()
	}
	return st.label.Render(info) + "\n" + fitBlock(body, s.w, s.h-2) + "\n" + strings.TrimRight(last, "\n")
}
