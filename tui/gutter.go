package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/textarea"
)

// gutter draws the editor's margin: a mark column (✗ on the line of a
// compile error) and the line numbers, right-aligned in a width that does
// not change at line 10 or 100, so that the code never shifts. A line that
// wraps onto several rows is numbered on its first row only; the gutter
// learns which rows those are from the text area itself, so that the
// numbers and the mark stay on their lines whatever wraps before them.
type gutter struct {
	digits int
	// first holds, for each row of the text area's content, the 1-based
	// line that begins on it, or 0 for a row that continues a line.
	first []int
	// mark is the 1-based line marked ✗, 0 for none.
	mark int
}

// minDigits is the narrowest the line numbers are: up to 999 lines the
// gutter keeps one width.
const minDigits = 3

// digitsFor is how many digits the numbers of n lines take.
func digitsFor(n int) int { return max(minDigits, len(strconv.Itoa(n))) }

// width is the gutter's width: the mark, the number, a space.
func (g *gutter) width() int { return g.digits + 2 }

// prompt is the gutter of content row row, the text area's prompt.
func (g *gutter) prompt(row int) string {
	line := 0
	if row >= 0 && row < len(g.first) {
		line = g.first[row]
	}
	mark := " "
	if line > 0 && line == g.mark {
		mark = "✗"
	}
	if line == 0 {
		return mark + strings.Repeat(" ", g.digits+1)
	}
	return fmt.Sprintf("%s%*d ", mark, g.digits, line)
}

// rowOf is the content row on which the 1-based line begins, -1 when not
// known.
func (g *gutter) rowOf(line int) int {
	for i, l := range g.first {
		if l == line {
			return i
		}
	}
	return -1
}

// measure learns on which rows the lines of ta begin, from ta's own
// wrapping: it walks a copy of ta's cursor through the lines, reading
// how many rows each takes.
func (g *gutter) measure(ta textarea.Model) {
	g.first = g.first[:0]
	c := ta // a copy: moving its cursor moves nothing of ta's
	for c.Line() > 0 {
		c.CursorUp()
	}
	for line := 0; ; line++ {
		c.SetCursor(0)
		g.first = append(g.first, line+1)
		for range c.LineInfo().Height - 1 {
			g.first = append(g.first, 0)
		}
		if line >= c.LineCount()-1 {
			return
		}
		c.CursorEnd()
		for range c.LineInfo().Height {
			if c.Line() != line {
				break
			}
			c.CursorDown()
		}
		if c.Line() != line+1 {
			return // the cursor did not reach the next line; leave the rest unnumbered
		}
	}
}
