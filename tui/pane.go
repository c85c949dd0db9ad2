package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

var (
	keyScrollSide = bind([]string{"left", "right", "h", "l"}, "←/→", "scroll sideways")
	keyWrap       = bind([]string{"w"}, "w", "wrap lines")
)

// The pane's marks, in the column it keeps at its right edge.
const (
	markMoreRight = "›" // the row goes on past the right edge
	markMoreLeft  = "‹" // the row begins before the left edge
	markWrapped   = "↩" // the line goes on on the next row
)

// pane shows text as it is, space for space: a long line is not cut but
// reached by scrolling sideways, or wrapped onto the next rows whole (w
// switches). The column at its right edge marks the rows that go on past
// an edge. The text must be safe to draw already (safeText).
type pane struct {
	vp    viewport.Model
	lines []string
	wrap  bool
	x     int // the first column shown, when not wrapping
	w, h  int
}

// setSize fits the pane in w columns, one of them for the marks, and h
// rows.
func (p *pane) setSize(w, h int) {
	p.w, p.h = max(2, w), max(1, h)
	p.layout()
}

// setText shows text, from its first line and column.
func (p *pane) setText(text string) {
	p.lines = strings.Split(text, "\n")
	p.x = 0
	p.layout()
	p.vp.GotoTop()
}

// layout fills the viewport with the rows of the lines, wrapped or not.
func (p *pane) layout() {
	y := p.vp.YOffset
	p.vp = viewport.New(p.w, p.h)
	if p.wrap {
		var rows []string
		for _, l := range p.lines {
			parts := strings.Split(ansi.Hardwrap(l, p.w-1, true), "\n")
			for i, part := range parts {
				if i < len(parts)-1 {
					part = padCut(part, p.w-1) + markWrapped
				}
				rows = append(rows, part)
			}
		}
		p.vp.SetContent(strings.Join(rows, "\n"))
	} else {
		p.vp.Width = p.w - 1
		p.vp.SetContent(strings.Join(p.lines, "\n"))
		p.x = min(p.x, max(0, p.longest()-(p.w-1)))
		p.vp.SetXOffset(p.x)
	}
	p.vp.SetYOffset(y)
}

// longest is the width of the widest line.
func (p *pane) longest() int {
	n := 0
	for _, l := range p.lines {
		n = max(n, ansi.StringWidth(l))
	}
	return n
}

// keys are the pane's keys that are not always there: sideways when a line
// is wider than the pane.
func (p *pane) keys() bindings {
	if !p.wrap && p.longest() > p.w-1 {
		return bindings{keyScrollSide, keyWrap}
	}
	return bindings{keyWrap}
}

// update scrolls or switches wrapping; it reports whether the key was the
// pane's.
func (p *pane) update(k tea.KeyMsg) bool {
	step := max(1, (p.w-1)/2)
	switch {
	case key.Matches(k, keyWrap):
		p.wrap = !p.wrap
		p.x = 0
		p.layout()
		p.vp.GotoTop()
	case k.String() == "left" || k.String() == "h":
		p.x = max(0, p.x-step)
		p.layout()
	case k.String() == "right" || k.String() == "l":
		p.x += step
		p.layout()
	case k.String() == "g" || k.String() == "home":
		p.vp.GotoTop()
	case k.String() == "G" || k.String() == "end":
		p.vp.GotoBottom()
	default:
		before := p.vp.YOffset
		p.vp, _ = p.vp.Update(k)
		return p.vp.YOffset != before || isScrollKey(k)
	}
	return true
}

// isScrollKey reports whether k is one of the viewport's keys up and down.
func isScrollKey(k tea.KeyMsg) bool {
	km := viewport.DefaultKeyMap()
	return key.Matches(k, km.Up, km.Down, km.PageUp, km.PageDown, km.HalfPageUp, km.HalfPageDown)
}

// position says where the pane is in a text wider than it: "columns
// 41-119 of 300", "" when every line fits or wraps.
func (p *pane) position() string {
	n := p.longest()
	if p.wrap || n <= p.w-1 {
		return ""
	}
	return fmt.Sprintf("columns %d-%d of %d", p.x+1, min(n, p.x+p.w-1), n)
}

func (p *pane) view() string {
	rows := strings.Split(p.vp.View(), "\n")
	if p.wrap {
		return strings.Join(rows, "\n")
	}
	for i := range rows {
		mark := " "
		if j := p.vp.YOffset + i; j < len(p.lines) {
			switch n := ansi.StringWidth(p.lines[j]); {
			case n > p.x+p.w-1:
				mark = markMoreRight
			case p.x > 0 && n > 0:
				mark = markMoreLeft
			}
		}
		rows[i] = padCut(rows[i], p.w-1) + mark
	}
	return strings.Join(rows, "\n")
}

// padCut is l cut or padded with spaces to exactly w columns.
func padCut(l string, w int) string {
	l = ansi.Truncate(l, w, "")
	return l + strings.Repeat(" ", max(0, w-ansi.StringWidth(l)))
}
