package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// column is one column of a table: a fixed width, or 0 to share what is
// left.
type column struct {
	title string
	width int // 0: flexible, a share of what the fixed columns leave
	// most caps a flexible column (0: no cap): what it cannot use goes to
	// the other flexible columns.
	most int
}

// table is a list of rows with a cursor, scrolling and a / filter. The
// selected row is marked with ">" as well as highlighted, so that it shows
// without colour.
type table struct {
	st      *styles
	cols    []column
	rows    [][]string
	shown   []int // indexes of rows that pass the filter
	cursor  int   // index into shown
	offset  int   // first shown row on screen
	w, h    int
	filter  textinput.Model
	editing bool // the filter field has the keys
	// searched is a filter the rows were found with elsewhere: while the
	// filter is that, every row passes.
	searched string
	empty    string // what an empty table says
	set      bool   // rows came: before, or when loading failed, it says nothing
	// follow keeps the cursor on the last row as rows are added.
	follow bool
}

func newTable(st *styles, empty string, cols ...column) table {
	return table{st: st, cols: cols, empty: empty, filter: st.input("/", "filter")}
}

// setRows replaces the rows, keeping the cursor on the same index.
func (t *table) setRows(rows [][]string) {
	t.rows, t.set = rows, true
	t.apply()
}

// apply recomputes the rows that pass the filter, which matches the rows
// as they are shown (control characters escaped).
func (t *table) apply() {
	q := strings.ToLower(strings.TrimSpace(t.filter.Value()))
	if t.searched != "" && strings.ToLower(t.searched) == q {
		q = ""
	}
	t.shown = t.shown[:0]
	for i, r := range t.rows {
		if q == "" || strings.Contains(strings.ToLower(safe(strings.Join(r, " "))), q) {
			t.shown = append(t.shown, i)
		}
	}
	if t.follow {
		t.cursor = len(t.shown) - 1
	}
	t.clamp()
}

func (t *table) clamp() {
	t.cursor = max(0, min(t.cursor, len(t.shown)-1))
	body := t.bodyHeight()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+body {
		t.offset = t.cursor - body + 1
	}
	t.offset = max(0, min(t.offset, len(t.shown)-body))
}

// selected is the index of the row under the cursor, -1 for none.
func (t *table) selected() int {
	if t.cursor < 0 || t.cursor >= len(t.shown) {
		return -1
	}
	return t.shown[t.cursor]
}

// selectRow puts the cursor on row i if it is shown.
func (t *table) selectRow(i int) {
	for n, r := range t.shown {
		if r == i {
			t.cursor = n
			t.clamp()
		}
	}
}

func (t *table) setSize(w, h int) {
	t.w, t.h = w, h
	t.filter.Width = max(10, w-4)
	t.clamp()
}

// bodyHeight is the number of rows on screen: the height less the header
// and the filter line.
func (t *table) bodyHeight() int {
	h := t.h - 1
	if t.editing || t.filter.Value() != "" {
		h--
	}
	return max(1, h)
}

// update handles movement and the filter; it reports whether it used msg.
func (t *table) update(msg tea.Msg) (bool, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return false, nil
	}
	if t.editing {
		switch k.String() {
		case "enter":
			t.editing = false
			t.filter.Blur()
		case "esc":
			t.editing = false
			t.filter.Blur()
			t.filter.SetValue("")
			t.apply()
		case "up", "down":
			t.move(map[string]int{"up": -1, "down": 1}[k.String()])
		default:
			var cmd tea.Cmd
			t.filter, cmd = t.filter.Update(msg)
			t.apply()
			return true, cmd
		}
		return true, nil
	}
	switch {
	case key.Matches(k, keyFilter):
		t.editing = true
		t.clamp()
		return true, t.filter.Focus()
	case k.String() == "esc" && t.filter.Value() != "":
		t.filter.SetValue("")
		t.apply()
	case key.Matches(k, keyUp):
		t.move(-1)
	case key.Matches(k, keyDown):
		t.move(1)
	case key.Matches(k, keyPgUp):
		t.move(-t.bodyHeight())
	case key.Matches(k, keyPgDown):
		t.move(t.bodyHeight())
	case key.Matches(k, keyHome):
		t.move(-len(t.shown))
	case key.Matches(k, keyEnd):
		t.move(len(t.shown))
	default:
		return false, nil
	}
	return true, nil
}

func (t *table) move(n int) {
	t.cursor += n
	t.clamp()
	t.follow = t.follow && t.cursor == len(t.shown)-1
}

// widths shares the width among the columns: fixed ones first, the rest
// to the flexible ones.
func (t *table) widths() []int {
	ws := make([]int, len(t.cols))
	left, flex := t.w-2-len(t.cols)+1, 0
	for i, c := range t.cols {
		if c.width > 0 {
			ws[i] = c.width
			left -= c.width
		} else {
			flex++
		}
	}
	// Capped columns whose share passes their cap take the cap; the rest
	// is shared again among the others, until no share passes a cap.
	capped := make([]bool, len(t.cols))
	for changed := true; changed && flex > 0; {
		changed = false
		for i, c := range t.cols {
			if c.width == 0 && !capped[i] && c.most > 0 && left/flex > c.most {
				capped[i], ws[i] = true, c.most
				left -= c.most
				flex--
				changed = true
			}
		}
	}
	for i, c := range t.cols {
		if c.width == 0 && !capped[i] && flex > 0 {
			ws[i] = max(4, left/flex)
		}
	}
	return ws
}

// cells lays out one row in the column widths, each cell on one line and
// safe to draw: cells hold data.
func (t *table) cells(row []string, ws []int) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		v := ""
		if i < len(row) {
			v = safe(strings.ReplaceAll(row[i], "\n", " "))
		}
		parts[i] = pad(ansi.Truncate(v, w, "…"), w)
	}
	return strings.Join(parts, " ")
}

func (t *table) view() string {
	var b strings.Builder
	ws := t.widths()
	heads := make([]string, len(t.cols))
	for i, c := range t.cols {
		heads[i] = c.title
	}
	b.WriteString("  " + t.st.header.Render(pad(t.cells(heads, ws), t.w-2)))
	lines := 1
	if len(t.shown) == 0 && t.set {
		msg := t.empty
		if len(t.rows) > 0 {
			msg = "nothing matches the filter"
		}
		b.WriteString("\n  " + t.st.faint.Render(msg))
		lines++
	}
	body := t.bodyHeight()
	for n := t.offset; n < len(t.shown) && n < t.offset+body; n++ {
		line := t.cells(t.rows[t.shown[n]], ws)
		if n == t.cursor {
			line = "> " + t.st.selected.Render(line)
		} else {
			line = "  " + line
		}
		b.WriteString("\n" + line)
		lines++
	}
	if t.editing || t.filter.Value() != "" {
		for ; lines < t.h-1; lines++ {
			b.WriteString("\n")
		}
		b.WriteString("\n" + drawWidget(t.filter.View()))
	}
	return b.String()
}

// pad fills s with spaces to width w.
func pad(s string, w int) string {
	if n := w - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}
