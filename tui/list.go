package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// list is the part every list screen has: a table and, in the screen's
// last line when the list keeps one (withDialog), a prompt for text and a
// yes/no question. It sizes and draws them, routes keys to whichever holds
// the focus and names their keys in the help bar; a screen adds its
// columns, rows, keys and actions.
type list struct {
	base
	t      table
	in     prompt
	ask    confirm
	dialog bool     // the last line is kept for the prompt and the question
	enter  bindings // enter and esc while the prompt is open, for the help bar
}

// newList is the part of a list screen whose table has all of the
// screen's height and says empty when it has no rows.
func newList(e *env, empty string, cols ...column) list {
	return list{base: newBase(e), t: newTable(e.st, empty, cols...)}
}

// withDialog keeps the list's last line for a question and a prompt;
// enter says what the enter key does in the prompt, for the help bar.
func (l list) withDialog(enter string) list {
	l.dialog = true
	l.enter = bindings{bind([]string{"enter"}, "enter", enter), keyCancel}
	return l
}

// setSize gives the table the screen's size less the dialog line.
func (l *list) setSize(w, h int) {
	l.base.setSize(w, h)
	if l.dialog {
		h--
	}
	l.t.setSize(w, h)
}

// typing reports whether the filter, the prompt or the question has the
// keys.
func (l *list) typing() bool { return l.t.editing || l.in.active() || l.ask.active() }

// keys are the keys of the filter, the prompt or the question while one of
// them has the keys, else the screen's own.
func (l *list) keys(own bindings) bindings {
	switch {
	case l.t.editing:
		return bindings{keyEnter, keyCancel}
	case l.in.active():
		return l.enter
	case l.ask.active():
		return bindings{keyYes, keyNo}
	}
	return own
}

// dispatch hands msg to whichever of the widgets holds the focus: an open
// prompt, then an open question, then the table. A key none of them takes
// runs reload when it is the reload key, else goes to own, the screen's
// own keys.
func (l *list) dispatch(msg tea.Msg, reload func() tea.Cmd, own func(k tea.KeyMsg) tea.Cmd) tea.Cmd {
	if l.in.active() {
		return l.in.update(msg)
	}
	k, ok := msg.(tea.KeyMsg)
	switch {
	case !ok:
		return nil
	case l.ask.active():
		return l.ask.update(k)
	}
	if used, cmd := l.t.update(k); used {
		return cmd
	}
	if key.Matches(k, keyReload) {
		return reload()
	}
	return own(k)
}

// view draws the table in its size and the dialog line.
func (l *list) view() string { return l.render(nil) }

// render draws the table in its size, the lines under it that the screen
// adds, and the dialog line: the open prompt or question, else nothing.
func (l *list) render(under []string) string {
	out := fitBlock(l.t.view(), l.t.w, l.t.h)
	if len(under) > 0 {
		out += "\n" + strings.Join(under, "\n")
	}
	if !l.dialog {
		return out
	}
	switch {
	case l.in.active():
		return out + "\n" + l.in.view()
	case l.ask.active():
		return out + "\n" + l.ask.view(l.e.st)
	}
	return out + "\n"
}
