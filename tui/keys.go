package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
)

// bindings are a screen's keys, in the order the help bar shows them.
type bindings []key.Binding

func bind(keys []string, help, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

// Keys every screen shares.
var (
	keyQuit   = bind([]string{"ctrl+c"}, "ctrl+c", "quit")
	keyBack   = bind([]string{"q", "esc"}, "q/esc", "back")
	keyHelp   = bind([]string{"?"}, "?", "all keys")
	keyFilter = bind([]string{"/"}, "/", "filter")
	keyUp     = bind([]string{"up", "k"}, "↑/k", "up")
	keyDown   = bind([]string{"down", "j"}, "↓/j", "down")
	keyPgUp   = bind([]string{"pgup", "ctrl+b"}, "pgup", "page up")
	keyPgDown = bind([]string{"pgdown", "ctrl+f", " "}, "pgdn", "page down")
	keyHome   = bind([]string{"home", "g"}, "g/home", "first")
	keyEnd    = bind([]string{"end", "G"}, "G/end", "last")
	keyEnter  = bind([]string{"enter"}, "enter", "open")
	keyReload = bind([]string{"r"}, "r", "reload")
	keyYes    = bind([]string{"y", "enter"}, "y", "yes")
	keyNo     = bind([]string{"n", "esc"}, "n/esc", "no")
	keyTab    = bind([]string{"tab"}, "tab", "next field")
	keySTab   = bind([]string{"shift+tab"}, "shift+tab", "previous field")
	keyCancel = bind([]string{"esc"}, "esc", "cancel")
)

// keyTypingHelp lists the screen's keys where ? is typed: the editor, a
// text field.
var keyTypingHelp = bind([]string{"ctrl+g", "f1"}, "ctrl+g", "all keys")

// shortHelp is the one-line help bar: the screen's keys that fit in w
// columns, then always the key that shows them all.
func shortHelp(st *styles, screen bindings, last key.Binding, w int) string {
	item := func(b key.Binding) string {
		return st.label.Render(b.Help().Key) + " " + st.faint.Render(b.Help().Desc)
	}
	sep := st.faint.Render(" • ")
	tail := item(last)
	out := ""
	for i, b := range screen {
		next := out
		if next != "" {
			next += sep
		}
		next += item(b)
		rest := sep + tail
		if i < len(screen)-1 {
			rest = sep + st.faint.Render("…") + rest
		}
		if ansi.StringWidth(next+rest) > w {
			if out != "" {
				out += sep + st.faint.Render("…")
			}
			break
		}
		out = next
	}
	if out == "" {
		return ansi.Truncate(tail, w, "…")
	}
	return ansi.Truncate(out+sep+tail, w, "…")
}

// fullHelp lists every key in columns, as many lines as needed for w
// columns.
func fullHelp(st *styles, all bindings, w int) string {
	keyW := 0
	for _, b := range all {
		keyW = max(keyW, ansi.StringWidth(b.Help().Key))
	}
	cells := make([]string, len(all))
	cellW := 0
	for i, b := range all {
		cells[i] = st.label.Render(pad(b.Help().Key, keyW)) + " " + st.faint.Render(b.Help().Desc)
		cellW = max(cellW, ansi.StringWidth(cells[i]))
	}
	cols := max(1, (w+2)/(cellW+3))
	rows := (len(cells) + cols - 1) / cols
	lines := make([]string, rows)
	for i, c := range cells {
		r := i % rows
		if lines[r] != "" {
			lines[r] += "   "
		}
		lines[r] += pad(c, cellW)
	}
	for i := range lines {
		lines[i] = ansi.Truncate(strings.TrimRight(lines[i], " "), w, "…")
	}
	return strings.Join(lines, "\n")
}
