package tui

import (
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
)

// styles are the program's looks, made by one renderer (the terminal's, or
// an SSH session's). Without colour (NO_COLOR) they use only bold, faint
// and reverse, and every state that colour shows is also in the text.
type styles struct {
	r        *lipgloss.Renderer
	noColor  bool
	title    lipgloss.Style
	crumb    lipgloss.Style
	who      lipgloss.Style
	header   lipgloss.Style
	selected lipgloss.Style
	faint    lipgloss.Style
	err      lipgloss.Style
	ok       lipgloss.Style
	warn     lipgloss.Style
	added    lipgloss.Style
	removed  lipgloss.Style
	label    lipgloss.Style
	focused  lipgloss.Style
	box      lipgloss.Style
	match    lipgloss.Style // the bracket that matches the one at the editor's cursor
}

func newStyles(r *lipgloss.Renderer, noColor bool) *styles {
	s := &styles{r: r, noColor: noColor}
	n := r.NewStyle
	color := func(st lipgloss.Style, c string) lipgloss.Style {
		if noColor {
			return st
		}
		return st.Foreground(lipgloss.Color(c))
	}
	s.title = color(n().Bold(true), "6")
	s.crumb = n().Bold(true)
	s.who = color(n(), "8")
	s.header = n().Bold(true).Underline(true)
	s.selected = n().Reverse(true)
	s.faint = n().Faint(true)
	s.err = color(n().Bold(true), "1")
	s.ok = color(n(), "2")
	s.warn = color(n(), "3")
	s.added = color(n(), "2")
	s.removed = color(n(), "1")
	s.label = n().Bold(true)
	s.focused = color(n().Bold(true), "6")
	s.match = color(n().Bold(true).Underline(true), "5")
	s.box = n().Border(lipgloss.NormalBorder())
	if !noColor {
		s.box = s.box.BorderForeground(lipgloss.Color("8"))
	}
	return s
}

// input returns a one-line text field drawn with these styles.
func (s *styles) input(prompt, placeholder string) textinput.Model {
	t := textinput.New()
	t.Prompt = prompt
	t.Placeholder = placeholder
	t.PromptStyle = s.label
	t.TextStyle = s.r.NewStyle()
	t.PlaceholderStyle = s.faint
	t.Cursor.Style = s.r.NewStyle().Reverse(true)
	t.Cursor.TextStyle = s.r.NewStyle()
	return t
}

// editor returns a multi-line text area with line numbers drawn with these
// styles.
func (s *styles) editor() textarea.Model {
	t := textarea.New()
	t.ShowLineNumbers = true
	t.CharLimit = 0
	t.MaxHeight = 0
	t.MaxWidth = 0
	t.Prompt = ""
	base := textarea.Style{
		Base: s.r.NewStyle(), Text: s.r.NewStyle(), CursorLine: s.r.NewStyle(),
		CursorLineNumber: s.r.NewStyle().Bold(true), LineNumber: s.faint,
		EndOfBuffer: s.faint, Placeholder: s.faint, Prompt: s.faint,
	}
	t.FocusedStyle, t.BlurredStyle = base, base
	t.Cursor.Style = s.r.NewStyle().Reverse(true)
	t.Cursor.TextStyle = s.r.NewStyle()
	return t
}
