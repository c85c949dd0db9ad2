package tui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/picloud/picloud/tui/client"
)

// keyWholeError opens the error of the status line whole, when the line
// cannot hold it; a control key, so that it works where letters are typed.
var keyWholeError = bind([]string{"ctrl+r"}, "ctrl+r", "whole error")

// errorView shows the last error whole, over the top screen, its lines
// and spaces as they are.
type errorView struct {
	text string // the error as it came, several lines maybe
	open bool
	p    pane
}

// set keeps the text of a new error and closes the view of an old one.
func (v *errorView) set(text string) { v.text, v.open = text, false }

// cut reports whether the status line, w columns wide, cannot show the
// error whole.
func (v *errorView) cut(w int) bool {
	return strings.Contains(v.text, "\n") || ansi.StringWidth("✗ "+safe(v.text)) > w
}

// show opens the view at w×h.
func (v *errorView) show(w, h int) {
	v.open = true
	v.p.wrap = true
	v.p.setSize(w, h)
	v.p.setText(safeText(v.text))
}

// update scrolls the view, or closes it on esc, q, enter or ctrl+r.
func (v *errorView) update(k tea.KeyMsg) {
	switch {
	case k.String() == "esc" || k.String() == "q" || k.String() == "enter" || key.Matches(k, keyWholeError):
		v.open = false
	default:
		v.p.update(k)
	}
}

// keys are the view's keys, for the help bar.
func (v *errorView) keys() bindings {
	return append(bindings{keyScroll}, append(v.p.keys(), keyCloseError)...)
}

var keyCloseError = bind([]string{"esc", "enter"}, "esc", "close")

// errText says what went wrong in words: an API error by its message
// (with its line and column for a compile error), without the HTTP status
// number, and a refusal for the user's role as such.
func errText(err error) string {
	var ae *client.Error
	if !errors.As(err, &ae) {
		return err.Error()
	}
	words := ae.Message
	switch {
	case ae.Status == http.StatusForbidden:
		words = "needs another role: " + ae.Message
	case ae.Line > 0:
		c := *ae
		c.Status = 0
		words = strings.TrimPrefix(c.Error(), "0: ")
	}
	return strings.Replace(err.Error(), ae.Error(), words, 1)
}
