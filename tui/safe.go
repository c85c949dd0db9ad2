package tui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/picloud/picloud/tui/safetext"
)

// Every string that came from data (names, paths, headers, console output,
// errors, bodies, sources) is made safe before it is drawn, so that an
// escape sequence, a C1 control or a bidirectional override in it is shown
// rather than acted on by the terminal. Tables do it for their cells and
// the root for the header and status line; screens do it for what else
// they draw, before styling it (the styles' own escape sequences must
// stay).

// safe is one line of data made safe to draw (safetext.Line): control
// characters shown as escapes, \x1b, \n, \u202e.
func safe(s string) string { return safetext.Line(s) }

// safeText is data of several lines made safe to draw (safetext.Text):
// newlines kept, tabs as spaces, other control characters escaped.
func safeText(s string) string { return safetext.Text(s) }

// The editor and the text fields keep their text as it is, one character
// a cell, so they cannot show a control character as a wider escape.
// Instead the text area holds each character it would drop or change (the
// controls but newline, the replacement character U+FFFD) as a stand-in
// in Unicode's private use plane 16, U+100000 plus the character, which
// drawWidget shows as a one-column symbol and fromEditor turns back, so
// that saving keeps the source exactly.

// standInBase is where the stand-ins start.
const standInBase = 0x100000

// standsIn reports whether the editor keeps r as a stand-in.
func standsIn(r rune) bool {
	return (safetext.Unsafe(r) && r != '\n') || r == utf8.RuneError
}

// toEditor is src as the text area holds it: the characters it would drop
// or change as stand-ins. It fails for a source that holds characters of
// the stand-ins' own range, which could not be told apart from them.
func toEditor(src string) (string, error) {
	var b strings.Builder
	b.Grow(len(src))
	for _, r := range src {
		switch {
		case r >= standInBase && standsIn(r-standInBase):
			return "", fmt.Errorf("the source holds the character %U of Unicode's private use plane 16, which the editor uses to show control characters; change it through the API", r)
		case standsIn(r):
			b.WriteRune(standInBase + r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// fromEditor is the source the text area's value v stands for.
func fromEditor(v string) string {
	return strings.Map(func(r rune) rune {
		if r >= standInBase && standsIn(r-standInBase) {
			return r - standInBase
		}
		return r
	}, v)
}

// symbol is the one-column symbol that shows the control character r in
// the editor and the text fields: the Control Pictures ␛, ␉, ␍, ␇ for the
// C0 controls, ␡ for DEL and ␦ for the others (C1 controls, bidirectional
// controls); U+FFFD shows as itself.
func symbol(r rune) rune {
	switch {
	case r < 0x20:
		return 0x2400 + r
	case r == 0x7f:
		return '␡'
	case r == utf8.RuneError:
		return r
	}
	return '␦'
}

// drawWidget is the view of a text area or field made safe to draw: its
// stand-ins as symbols, and any C1 or bidirectional control that was typed
// or pasted into it as ␦. The widget's own escape sequences stay; it never
// holds a C0 control itself (it drops them when they are typed).
func drawWidget(view string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= standInBase && standsIn(r-standInBase):
			return symbol(r - standInBase)
		case r >= 0x80 && safetext.Unsafe(r):
			return symbol(r)
		}
		return r
	}, view)
}
