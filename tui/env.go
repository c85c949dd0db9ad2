package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/tui/client"
)

// env is what every screen shares: the API client and the looks.
type env struct {
	ctx    context.Context
	c      *client.Client
	st     *styles
	me     client.User
	nextID int
	calls  int // API calls started so far, which numbers them
	// tries keeps, by script id, what try it sent and left unsent in
	// this session.
	tries map[string]*tried
	// sessionKey is the fingerprint of the SSH key the session signed in
	// with, "" for none.
	sessionKey string
}

// can reports whether the user may do c (on the app appID, "" for the
// whole instance), by the rules the API applies: a key the user may not use
// is not offered. Before the program knows who the user is, nothing is.
func (e *env) can(c access.Capability, appID string) bool {
	return access.Can(model.Principal{User: e.me}, c, appID)
}

// callTimeout bounds one API call.
const callTimeout = 30 * time.Second

// newID gives a screen its address for messages.
func (e *env) newID() int {
	e.nextID++
	return e.nextID
}

// busyMsg says the API call numbered seq started: the spinner runs until
// its doneMsg.
type busyMsg struct {
	what string
	seq  int
}

// doneMsg ends an API call; msg goes on to the screen that made it. seq
// numbers the call in the order the calls started.
type doneMsg struct {
	msg tea.Msg
	seq int
}

// errMsg is a failed operation, shown in the status line.
type errMsg struct {
	what string
	err  error
}

// infoMsg is news for the status line.
type infoMsg string

// info puts news in the status line; it does nothing when news is "".
func info(news string) tea.Cmd {
	if news == "" {
		return nil
	}
	return func() tea.Msg { return infoMsg(news) }
}

// addressed messages go to the screen with that id, wherever it is in the
// stack, and are dropped when it is gone.
type addressed interface{ target() int }

// to addresses a message to a screen.
type to struct{ id int }

func (t to) target() int { return t.id }

// call runs fn as an API call: the spinner shows what while it runs, and
// its message (or an errMsg) comes back through the root.
func (e *env) call(what string, fn func(ctx context.Context) (tea.Msg, error)) tea.Cmd {
	ctx := e.ctx
	e.calls++
	seq := e.calls
	return tea.Sequence(
		func() tea.Msg { return busyMsg{what, seq} },
		func() tea.Msg {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			msg, err := fn(cctx)
			if err != nil {
				return doneMsg{errMsg{what, err}, seq}
			}
			return doneMsg{msg, seq}
		})
}

// change runs fn as the API call what and then fetch, whose message shows
// what fn changed: the screen's list read again.
func (e *env) change(what string, fn func(ctx context.Context) error, fetch func(ctx context.Context) (tea.Msg, error)) tea.Cmd {
	return e.call(what, func(ctx context.Context) (tea.Msg, error) {
		if err := fn(ctx); err != nil {
			return nil, err
		}
		return fetch(ctx)
	})
}

// pushMsg opens a screen on top; popMsg closes the top one.
type (
	pushMsg struct{ s screen }
	popMsg  struct{}
)

func push(s screen) tea.Cmd { return func() tea.Msg { return pushMsg{s} } }
func pop() tea.Msg          { return popMsg{} }

// screen is one page of the program; the root keeps a stack of them.
type screen interface {
	// id is the screen's address for messages.
	id() int
	// title is the screen's part of the breadcrumb.
	title() string
	// init starts the screen's loading.
	init() tea.Cmd
	// update handles a message meant for the screen.
	update(msg tea.Msg) tea.Cmd
	// view draws the screen in its size.
	view() string
	// setSize gives the screen its size.
	setSize(w, h int)
	// keys are the screen's keys for the help bar, in its current state.
	keys() bindings
	// typing reports whether a text field has the keys, so that q, ? and
	// esc go to it rather than to the root.
	typing() bool
	// close releases what the screen holds (a log stream).
	close()
}

// base is the part every screen has.
type base struct {
	e      *env
	sid    int
	w, h   int
	loaded bool
}

func newBase(e *env) base { return base{e: e, sid: e.newID()} }

func (b *base) id() int          { return b.sid }
func (b *base) setSize(w, h int) { b.w, b.h = w, h }
func (b *base) typing() bool     { return false }
func (b *base) close()           {}
func (b *base) to() to           { return to{b.sid} }
