// Package tui is PiCloud's terminal UI, a Bubble Tea program. It is a
// client of the admin API only (through tui/client), so it is the same on
// the board, where it reaches the daemon over the local admin socket, and
// over SSH, where the daemon runs it for the user whose key signed in.
package tui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/picloud/picloud/tui/client"
)

// Options configure the program.
type Options struct {
	// Client reaches the admin API.
	Client *client.Client
	// Renderer draws the styles for the terminal the program runs in; nil
	// means the process's standard output.
	Renderer *lipgloss.Renderer
	// NoColor draws without colour (NO_COLOR), with bold, faint and
	// reverse only.
	NoColor bool
	// Via says how the user came in, for the header: "local", "ssh".
	Via string
	// SessionKey is the fingerprint of the SSH key the session signed in
	// with ("" on the board): deleting it is warned about.
	SessionKey string
}

// Model is the root model: a stack of screens, a status line and a help bar.
type Model struct {
	e       *env
	via     string
	stack   []screen
	w, h    int
	showAll bool
	spin    spinner.Model
	busy    int
	// running names the API calls still running, by number: the spinner
	// names the last started of them.
	running map[int]string
	status  string
	isErr   bool
	// quit asks before quitting throws away unsaved changes.
	quit confirm
	// errSeq is the number of API calls started when the error in the
	// status line came: a later call that succeeds clears it.
	errSeq int
	// signedOut is set once the API answered 401: the session's user may
	// do nothing more, so no key but quitting is offered.
	signedOut bool
	// ended is set once the program quits: keys after it are not handled.
	ended bool
	// whole shows the last error whole, on a key.
	whole errorView
}

// New returns the program's root model, opening on the list of apps.
func New(ctx context.Context, opt Options) *Model {
	r := opt.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	st := newStyles(r, opt.NoColor)
	e := &env{ctx: ctx, c: opt.Client, st: st, sessionKey: opt.SessionKey}
	sp := spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(st.focused))
	m := &Model{e: e, via: opt.Via, spin: sp, w: 80, h: 24, running: map[int]string{}}
	m.stack = []screen{newAppsScreen(e)}
	m.layout()
	return m
}

// meMsg tells who the program acts as.
type meMsg struct{ u client.User }

// Init loads who the user is and the first screen.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.top().init(), m.e.call("who am I", func(ctx context.Context) (tea.Msg, error) {
		u, err := m.e.c.Me(ctx)
		return meMsg{u}, err
	}))
}

func (m *Model) top() screen { return m.stack[len(m.stack)-1] }

// Update routes a message: keys to the top screen after the global ones,
// addressed messages to their screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.KeyMsg:
		return m, m.keys(msg)
	case busyMsg:
		m.running[msg.seq] = msg.what
		m.busy = len(m.running)
		if m.busy == 1 {
			return m, m.spin.Tick
		}
		return m, nil
	case doneMsg:
		delete(m.running, msg.seq)
		m.busy = len(m.running)
		if _, failed := msg.msg.(errMsg); !failed && m.isErr && msg.seq > m.errSeq {
			m.clearStatus()
		}
		return m.Update(msg.msg)
	case spinner.TickMsg:
		if m.busy == 0 {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case errMsg:
		if client.StatusOf(msg.err) == http.StatusUnauthorized {
			m.signedOut = true
			m.status = "session ended: the user was disabled or signed out; ctrl+c quits"
		} else if !m.signedOut {
			m.status = msg.what + ": " + oneLine(errText(msg.err))
			m.whole.set(msg.what + ": " + errText(msg.err))
		}
		m.isErr, m.errSeq = true, m.e.calls
		m.layout()
		return m, nil
	case infoMsg:
		m.status, m.isErr = string(msg), false
		return m, nil
	case meMsg:
		m.e.me = msg.u
		return m, nil
	case pushMsg:
		m.stack = append(m.stack, msg.s)
		m.layout()
		m.clearStatus()
		return m, msg.s.init()
	case popMsg:
		return m, m.back()
	case addressed:
		for _, s := range m.stack {
			if s.id() == msg.target() {
				return m, s.update(msg)
			}
		}
		if d, ok := msg.(interface{ discard() }); ok {
			d.discard()
		}
		return m, nil
	}
	return m, m.top().update(msg)
}

// keys handles one key, or each of the keys that came in one read.
// Bubble Tea hands printable characters read together as one message
// ("kj" when both arrive in one write, as a laggy SSH link does), which no
// binding matches; each is its own key press, in the order typed. A paste
// stays one message: it is text, not keys.
func (m *Model) keys(k tea.KeyMsg) tea.Cmd {
	if k.Type != tea.KeyRunes || k.Paste || len(k.Runes) < 2 {
		return m.key(k)
	}
	cmds := make([]tea.Cmd, 0, len(k.Runes))
	for _, r := range k.Runes {
		if m.ended {
			break
		}
		cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
	}
	return tea.Batch(cmds...)
}

// key handles the global keys, and gives the rest to the top screen.
func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	if m.quit.active() {
		if key.Matches(k, keyQuit) {
			return m.quitNow()
		}
		return m.quit.update(k)
	}
	if m.signedOut && !key.Matches(k, keyQuit) {
		return nil
	}
	if key.Matches(k, keyQuit) {
		if what := m.unsaved(); what != "" {
			m.quit.ask("quit and throw away "+what+"?", m.quitNow)
			return nil
		}
		return m.quitNow()
	}
	if m.whole.open {
		m.whole.update(k)
		return nil
	}
	if key.Matches(k, keyWholeError) && m.isErr && m.whole.cut(m.w) {
		m.whole.show(m.w, m.h-4)
		return nil
	}
	if m.top().typing() && key.Matches(k, keyTypingHelp) {
		m.showAll = !m.showAll
		m.layout()
		return nil
	}
	if !m.top().typing() {
		switch {
		case key.Matches(k, keyHelp):
			m.showAll = !m.showAll
			m.layout()
			return nil
		case key.Matches(k, keyBack):
			if k.String() == "q" || len(m.stack) > 1 {
				return m.back()
			}
		}
	}
	return m.top().update(k)
}

// quitNow closes every screen and ends the program.
func (m *Model) quitNow() tea.Cmd {
	m.ended = true
	for _, s := range m.stack {
		s.close()
	}
	return tea.Quit
}

// saver is a screen with changes of the person's that leaving it would
// throw away; unsaved names them, "" when there are none.
type saver interface{ unsaved() string }

// unsaved names the first unsaved changes of the open screens, "" for none.
func (m *Model) unsaved() string {
	for _, s := range m.stack {
		if sv, ok := s.(saver); ok {
			if what := sv.unsaved(); what != "" {
				return what
			}
		}
	}
	return ""
}

// back closes the top screen; on the first screen it quits.
func (m *Model) back() tea.Cmd {
	if len(m.stack) == 1 {
		m.top().close()
		m.ended = true
		return tea.Quit
	}
	m.top().close()
	m.stack = m.stack[:len(m.stack)-1]
	m.clearStatus()
	m.layout()
	if r, ok := m.top().(resumer); ok {
		return r.resume()
	}
	return nil
}

// clearStatus empties the status line, an error's too.
func (m *Model) clearStatus() {
	if !m.signedOut {
		m.status, m.isErr = "", false
		m.whole = errorView{}
	}
}

// resumer is a screen that reloads when it is on top again, since the
// screens above it may have changed what it shows.
type resumer interface{ resume() tea.Cmd }

// helpView is the help bar of the top screen: one line, or every key
// after ?.
func (m *Model) helpView() string {
	screen := m.top().keys()
	if m.quit.active() {
		return shortHelp(m.e.st, bindings{keyYes, keyNo}, keyQuit, m.w)
	}
	if m.signedOut {
		return shortHelp(m.e.st, nil, keyQuit, m.w)
	}
	if m.whole.open {
		return shortHelp(m.e.st, m.whole.keys(), keyQuit, m.w)
	}
	if m.isErr && m.whole.cut(m.w) {
		screen = append(bindings{keyWholeError}, screen...)
	}
	if m.showAll {
		all := append(append(bindings{}, screen...), keyHelp, keyBack, keyQuit)
		if m.top().typing() {
			all = append(append(bindings{}, screen...), keyTypingHelp, keyQuit)
		}
		return fullHelp(m.e.st, all, m.w)
	}
	last := keyHelp
	if m.top().typing() {
		last = keyTypingHelp
	}
	return shortHelp(m.e.st, screen, last, m.w)
}

// layout gives every screen the space between the header and the status
// line and help bar.
func (m *Model) layout() {
	helpLines := lipgloss.Height(m.helpView())
	body := max(3, m.h-2-helpLines)
	for _, s := range m.stack {
		s.setSize(m.w, body)
	}
	if m.whole.open {
		m.whole.p.setSize(m.w, body-1)
	}
}

// View draws the header, the top screen, the status line and the help bar,
// exactly the terminal's size.
func (m *Model) View() string {
	st := m.e.st
	crumbs := make([]string, len(m.stack))
	for i, s := range m.stack {
		crumbs[i] = safe(s.title())
	}
	left := st.title.Render("PiCloud") + " " + st.crumb.Render(strings.Join(crumbs, " › "))
	right := ""
	if m.e.me.Username != "" {
		right = st.who.Render(safe(fmt.Sprintf("%s (%s)", m.e.me.Username, m.e.me.Role)))
		if m.via != "" {
			right = st.who.Render(m.via+" · ") + right
		}
	}
	header := fitLine(left, right, m.w)

	var status string
	switch {
	case m.quit.active():
		status = m.quit.view(st)
	case m.busy > 0:
		status = m.spin.View() + " " + safe(m.busyWhat()) + "…"
	case m.isErr:
		status = st.err.Render("✗ " + safe(m.status))
	case m.status != "":
		status = st.ok.Render(safe(m.status))
	}
	status = ansi.Truncate(status, m.w, "…")

	helpView := m.helpView()
	view := m.top().view()
	if m.whole.open {
		view = st.err.Render("✗ the whole error") + "\n" + m.whole.p.view()
	}
	body := fitBlock(view, m.w, m.h-2-lipgloss.Height(helpView))
	return strings.Join([]string{header, body, status, helpView}, "\n")
}

// busyWhat names the last started of the calls still running.
func (m *Model) busyWhat() string {
	last := -1
	for seq := range m.running {
		last = max(last, seq)
	}
	return m.running[last]
}

// fitLine puts left and right on one line of width w.
func fitLine(left, right string, w int) string {
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return ansi.Truncate(left, w, "…")
	}
	return left + strings.Repeat(" ", gap) + right
}

// fitBlock cuts or pads s to h lines, each cut to w columns.
func fitBlock(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:max(0, h)]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "")
	}
	return strings.Join(lines, "\n")
}

// oneLine joins a message's lines, for the status line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// NewProgram returns the program reading keys from in and drawing on out,
// in the alternate screen, until the user quits or ctx ends. extra adds
// options, such as tea.WithoutSignalHandler for a program that is not the
// process's own.
func NewProgram(ctx context.Context, in io.Reader, out io.Writer, opt Options, extra ...tea.ProgramOption) *tea.Program {
	opts := append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen()}, extra...)
	return tea.NewProgram(New(ctx, opt), opts...)
}

// Run runs the program on in and out until the user quits or ctx ends.
func Run(ctx context.Context, in io.Reader, out io.Writer, opt Options, extra ...tea.ProgramOption) error {
	_, err := NewProgram(ctx, in, out, opt, extra...).Run()
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}
