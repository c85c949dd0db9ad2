package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// confirm asks a yes/no question in a screen's last line.
type confirm struct {
	question string
	yes      func() tea.Cmd
}

func (c *confirm) active() bool { return c.yes != nil }

func (c *confirm) ask(question string, yes func() tea.Cmd) {
	c.question, c.yes = question, yes
}

// update answers the question with y or n.
func (c *confirm) update(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, keyYes):
		yes := c.yes
		c.yes = nil
		return yes()
	case key.Matches(k, keyNo):
		c.yes = nil
	}
	return nil
}

func (c *confirm) view(st *styles) string {
	return st.warn.Render(safe(c.question)) + " " + st.faint.Render("[y/n]")
}

// prompt asks for one line of text in a screen's last line.
type prompt struct {
	in   textinput.Model
	done func(v string) tea.Cmd
}

func (p *prompt) active() bool { return p.done != nil }

func (p *prompt) ask(st *styles, label, value string, done func(string) tea.Cmd) tea.Cmd {
	p.in = st.input(safe(label)+": ", "")
	p.in.SetValue(value)
	p.done = done
	return p.in.Focus()
}

// askHint asks for one line of text starting empty, with an example shown
// faint until the first key.
func (p *prompt) askHint(st *styles, label, example string, done func(string) tea.Cmd) tea.Cmd {
	cmd := p.ask(st, label, "", done)
	p.in.Placeholder = safe(example)
	return cmd
}

// askSecret asks for a password: what is typed shows as *.
func (p *prompt) askSecret(st *styles, label string, done func(string) tea.Cmd) tea.Cmd {
	cmd := p.ask(st, label, "", done)
	p.in.EchoMode = textinput.EchoPassword
	p.in.EchoCharacter = '*'
	return cmd
}

// update edits the text; enter gives it to done, esc cancels.
func (p *prompt) update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch k.String() {
		case "enter":
			// done may ask the next question, which sets p.done anew.
			done := p.done
			p.done = nil
			return done(p.in.Value())
		case "esc":
			p.done = nil
			return nil
		}
	}
	var cmd tea.Cmd
	p.in, cmd = p.in.Update(msg)
	return cmd
}

func (p *prompt) view() string { return drawWidget(p.in.View()) }
