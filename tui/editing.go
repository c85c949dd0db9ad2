package tui

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// The editor's own keys, beyond the text area's: the keys of terminal
// editors such as micro (ctrl+f, ctrl+n, ctrl+z, ctrl+l), none of which
// types a character.
var (
	keyUndo     = bind([]string{"ctrl+z"}, "ctrl+z", "undo")
	keyRedo     = bind([]string{"ctrl+y"}, "ctrl+y", "redo")
	keyFind     = bind([]string{"ctrl+f"}, "ctrl+f", "find")
	keyFindNext = bind([]string{"ctrl+n"}, "ctrl+n", "find next")
	keyFindPrev = bind([]string{"ctrl+p"}, "ctrl+p", "find previous")
	keyGoto     = bind([]string{"ctrl+l"}, "ctrl+l", "go to line")
	keyIndent   = bind([]string{"tab"}, "tab", "indent")
	keyDedent   = bind([]string{"shift+tab"}, "shift+tab", "unindent")
)

// indentWidth is how many spaces tab indents by.
const indentWidth = 2

// maxUndo is how many changes the editor can undo.
const maxUndo = 500

// snapshot is the text and the cursor at one moment.
type snapshot struct {
	text      string
	line, col int // 0-based; col counts characters
}

// history keeps the changes to undo and to redo. Characters typed one
// after the other make one change, up to the next space, line or move.
type history struct {
	undo, redo []snapshot
	typing     bool // the last change was a character typed
}

// record notes a change from before, made by a key; typed says the key
// typed a character that continues a word.
func (h *history) record(before snapshot, changed, typed bool) {
	if !changed {
		h.typing = false
		return
	}
	if typed && h.typing {
		return
	}
	h.undo = append(h.undo, before)
	if len(h.undo) > maxUndo {
		h.undo = h.undo[len(h.undo)-maxUndo:]
	}
	h.redo = nil
	h.typing = typed
}

// reset forgets every change, for a text loaded anew.
func (h *history) reset() { *h = history{} }

// snap is the editor's text and cursor now.
func (s *editorScreen) snap() snapshot {
	li := s.ta.LineInfo()
	return snapshot{text: s.ta.Value(), line: s.ta.Line(), col: li.StartColumn + li.ColumnOffset}
}

// restore puts a snapshot's text and cursor back.
func (s *editorScreen) restore(sn snapshot) {
	s.ta.SetValue(sn.text)
	s.gotoLine(sn.line+1, sn.col+1)
}

// edit makes a change of the editor's own (an indent, a new line) as one
// step to undo.
func (s *editorScreen) edit(change func()) {
	before := s.snap()
	change()
	s.hist.record(before, s.ta.Value() != before.text, false)
}

// typeKey gives a key to the text area, noting the change it makes.
func (s *editorScreen) typeKey(msg tea.Msg) tea.Cmd {
	before := s.snap()
	var cmd tea.Cmd
	s.ta, cmd = s.ta.Update(msg)
	k, isKey := msg.(tea.KeyMsg)
	typed := isKey && k.Type == tea.KeyRunes && !k.Paste && len(k.Runes) == 1 && !unicode.IsSpace(k.Runes[0])
	s.hist.record(before, s.ta.Value() != before.text, typed)
	return cmd
}

// undoOrRedo takes back the last change (or, redo, the last taken back).
func (s *editorScreen) undoOrRedo(redo bool) tea.Cmd {
	from, to := &s.hist.undo, &s.hist.redo
	what := "undo"
	if redo {
		from, to, what = to, from, "redo"
	}
	if len(*from) == 0 {
		return info("nothing to " + what)
	}
	sn := (*from)[len(*from)-1]
	*from = (*from)[:len(*from)-1]
	*to = append(*to, s.snap())
	s.hist.typing = false
	s.restore(sn)
	return nil
}

// editKey handles the editor's own keys in edit mode; ok is false for a
// key that is the text area's.
func (s *editorScreen) editKey(k tea.KeyMsg) (cmd tea.Cmd, ok bool) {
	switch {
	case key.Matches(k, keyUndo):
		return s.undoOrRedo(false), true
	case key.Matches(k, keyRedo):
		return s.undoOrRedo(true), true
	case key.Matches(k, keyFind):
		return s.in.ask(s.e.st, "find", s.query, func(q string) tea.Cmd {
			s.query = q
			return s.find(1)
		}), true
	case key.Matches(k, keyFindNext):
		return s.find(1), true
	case key.Matches(k, keyFindPrev):
		return s.find(-1), true
	case key.Matches(k, keyGoto):
		return s.in.askHint(s.e.st, "go to line", "42 or 42:7", s.goTo), true
	case key.Matches(k, keyIndent):
		s.edit(s.indent)
		return nil, true
	case key.Matches(k, keyDedent):
		s.edit(s.dedent)
		return nil, true
	case k.Type == tea.KeyEnter:
		s.edit(s.newLine)
		return nil, true
	}
	return nil, false
}

// find moves the cursor to the next (dir 1) or previous (dir -1)
// occurrence of the query, round the end of the text. The search ignores
// case unless the query has a capital letter.
func (s *editorScreen) find(dir int) tea.Cmd {
	if s.query == "" {
		return s.in.ask(s.e.st, "find", "", func(q string) tea.Cmd {
			s.query = q
			return s.find(dir)
		})
	}
	lines := strings.Split(s.ta.Value(), "\n")
	at := s.snap()
	line, col, wrapped, found := findIn(lines, s.query, at.line, at.col, dir)
	if !found {
		return info(fmt.Sprintf("%q is not in the text", s.query))
	}
	s.gotoLine(line+1, col+1)
	news := fmt.Sprintf("%q on line %d", s.query, line+1)
	if wrapped {
		news += " (from the top again)"
		if dir < 0 {
			news = fmt.Sprintf("%q on line %d (from the bottom again)", s.query, line+1)
		}
	}
	return info(news)
}

// findIn looks for q in lines after (dir 1) or before (dir -1) the
// character col of line, round the end; it returns where q begins
// (0-based, in characters) and whether the search went round.
func findIn(lines []string, q string, line, col, dir int) (int, int, bool, bool) {
	fold := strings.ToLower(q) == q
	norm := func(s string) []rune {
		if fold {
			return []rune(strings.ToLower(s))
		}
		return []rune(s)
	}
	needle := norm(q)
	n := len(lines)
	for step := 0; step <= n; step++ {
		i := ((line+dir*step)%n + n) % n
		hay := norm(lines[i])
		var hits []int
		for c := 0; c+len(needle) <= len(hay); c++ {
			if string(hay[c:c+len(needle)]) == string(needle) {
				hits = append(hits, c)
			}
		}
		wrapped := (dir > 0 && line+step >= n) || (dir < 0 && line-step < 0)
		for j := range hits {
			c := hits[j]
			if dir < 0 {
				c = hits[len(hits)-1-j]
			}
			switch {
			case step == 0 && dir > 0 && c <= col, step == 0 && dir < 0 && c >= col:
				continue
			case step == n && ((dir > 0 && c > col) || (dir < 0 && c < col)):
				continue // back on the first line, past where the search began
			}
			return i, c, wrapped || step == n, true
		}
	}
	return 0, 0, false, false
}

// goTo moves the cursor to "LINE" or "LINE:COLUMN" (1-based).
func (s *editorScreen) goTo(v string) tea.Cmd {
	line, col, err := parseLineCol(v, s.ta.LineCount())
	if err != nil {
		return func() tea.Msg { return errMsg{"go to line", err} }
	}
	s.gotoLine(line, col)
	return nil
}

// parseLineCol reads "LINE" or "LINE:COLUMN" of a text of n lines.
func parseLineCol(v string, n int) (int, int, error) {
	ls, cs, hasCol := strings.Cut(strings.TrimSpace(v), ":")
	line, err := strconv.Atoi(ls)
	if err != nil || line < 1 {
		return 0, 0, fmt.Errorf("%q is not a line number (1 to %d, or LINE:COLUMN)", v, n)
	}
	if line > n {
		return 0, 0, fmt.Errorf("line %d is past the end: the text has %d lines", line, n)
	}
	col := 1
	if hasCol {
		if col, err = strconv.Atoi(cs); err != nil || col < 1 {
			return 0, 0, fmt.Errorf("%q is not a column number", cs)
		}
	}
	return line, col, nil
}

// currentLine is the line under the cursor and the cursor's column in it.
func (s *editorScreen) currentLine() ([]rune, int) {
	sn := s.snap()
	lines := strings.Split(sn.text, "\n")
	return []rune(lines[sn.line]), sn.col
}

// indent puts spaces at the cursor up to the next multiple of the indent
// width.
func (s *editorScreen) indent() {
	_, col := s.currentLine()
	s.ta.InsertString(strings.Repeat(" ", indentWidth-col%indentWidth))
}

// dedent takes up to one indent width of spaces off the start of the line.
func (s *editorScreen) dedent() {
	sn := s.snap()
	lines := strings.Split(sn.text, "\n")
	cut := 0
	for cut < indentWidth && cut < len(lines[sn.line]) && lines[sn.line][cut] == ' ' {
		cut++
	}
	if cut == 0 {
		return
	}
	lines[sn.line] = lines[sn.line][cut:]
	s.ta.SetValue(strings.Join(lines, "\n"))
	s.gotoLine(sn.line+1, max(1, sn.col-cut+1))
}

// openers are the brackets after which a new line is indented once more.
var openers = map[rune]rune{'{': '}', '[': ']', '(': ')'}

// newLine breaks the line at the cursor, the new line indented as this
// one, once more after an opening bracket; between a bracket and its
// closer, the closer goes on a line of its own.
func (s *editorScreen) newLine() {
	line, col := s.currentLine()
	col = min(col, len(line))
	base := leadingSpace(line)
	before := strings.TrimRightFunc(string(line[:col]), unicode.IsSpace)
	extra := ""
	var opener rune
	if r := []rune(before); len(r) > 0 {
		if _, ok := openers[r[len(r)-1]]; ok {
			opener, extra = r[len(r)-1], strings.Repeat(" ", indentWidth)
		}
	}
	after := strings.TrimLeftFunc(string(line[col:]), unicode.IsSpace)
	if opener != 0 && strings.HasPrefix(after, string(openers[opener])) {
		at := s.ta.Line()
		s.ta.InsertString("\n" + base + extra + "\n" + base)
		s.gotoLine(at+2, len([]rune(base+extra))+1)
		return
	}
	s.ta.InsertString("\n" + base + extra)
}

// leadingSpace is the spaces and tabs (as the editor holds them) that
// begin line.
func leadingSpace(line []rune) string {
	n := 0
	for n < len(line) && (line[n] == ' ' || line[n] == standInBase+'\t') {
		n++
	}
	return string(line[:n])
}

// pairs are the brackets and their matches.
var pairs = map[rune]struct {
	match rune
	dir   int
}{'{': {'}', 1}, '[': {']', 1}, '(': {')', 1}, '}': {'{', -1}, ']': {'[', -1}, ')': {'(', -1}}

// matchBracket finds the bracket that matches the one at (line, col) of
// text, or else the one just before it, as the cursor stands after a
// bracket just typed. It returns where the bracket is and where its match
// is, as 0-based lines and characters; on is false when there is no
// bracket there, found when there is but it has no match. Brackets are
// counted as they come, in strings and comments too.
func matchBracket(text string, line, col int) (at, match [2]int, on, found bool) {
	runes := []rune(text)
	starts := []int{0} // where each line begins in runes
	for i, r := range runes {
		if r == '\n' {
			starts = append(starts, i+1)
		}
	}
	pos := func(i int) [2]int {
		l := len(starts) - 1
		for starts[l] > i {
			l--
		}
		return [2]int{l, i - starts[l]}
	}
	if line < 0 || line >= len(starts) {
		return at, match, false, false
	}
	end := len(runes)
	if line+1 < len(starts) {
		end = starts[line+1] - 1
	}
	for _, c := range []int{col, col - 1} {
		i := starts[line] + c
		if c < 0 || i >= end {
			continue
		}
		p, ok := pairs[runes[i]]
		if !ok {
			continue
		}
		depth := 0
		for j := i; j >= 0 && j < len(runes); j += p.dir {
			switch runes[j] {
			case runes[i]:
				depth++
			case p.match:
				if depth--; depth == 0 {
					return pos(i), pos(j), true, true
				}
			}
		}
		return pos(i), match, true, false
	}
	return at, match, false, false
}

// bracketMatch is matchBracket at the editor's cursor.
func (s *editorScreen) bracketMatch() (at, match [2]int, on, found bool) {
	sn := s.snap()
	return matchBracket(sn.text, sn.line, sn.col)
}

// bracketNote says where the match of the bracket at the cursor is, for
// the status line: " · } of line 9 matches", "" at no bracket.
func (s *editorScreen) bracketNote() string {
	at, match, on, found := s.bracketMatch()
	if !on {
		return ""
	}
	lines := strings.Split(s.ta.Value(), "\n")
	r := string([]rune(lines[at[0]])[at[1]])
	if !found {
		return " · " + r + " has no match"
	}
	return fmt.Sprintf(" · %s matches %s at line %d, column %d", r, string([]rune(lines[match[0]])[match[1]]), match[0]+1, match[1]+1)
}

// highlightMatch draws, in the text area's view, the bracket that matches
// the one at the cursor in the match style, when it is on the screen.
func (s *editorScreen) highlightMatch(view string) string {
	_, match, _, found := s.bracketMatch()
	if !found {
		return view
	}
	rows := strings.Split(view, "\n")
	top, ok := s.topRow(rows)
	if !ok {
		return view
	}
	c := s.ta // a copy, to find the match's row and column as wrapped
	moveTo(&c, match[0], match[1])
	li := c.LineInfo()
	first := s.gutter.rowOf(match[0] + 1)
	if first < 0 {
		return view
	}
	r, x := first+li.RowOffset-top, s.gutter.width()+li.CharOffset
	if r < 0 || r >= len(rows) {
		return view
	}
	row := rows[r]
	cell := ansi.Strip(ansi.Cut(row, x, x+1))
	rows[r] = ansi.Truncate(row, x, "") + s.e.st.match.Render(cell) + ansi.TruncateLeft(row, x+1, "")
	return strings.Join(rows, "\n")
}

// topRow is the row of the text area's content shown first, found from
// the first line number on the screen.
func (s *editorScreen) topRow(rows []string) (int, bool) {
	for i, row := range rows {
		g := ansi.Strip(ansi.Cut(row, 1, s.gutter.width()))
		if n, err := strconv.Atoi(strings.TrimSpace(g)); err == nil {
			if first := s.gutter.rowOf(n); first >= 0 {
				return first - i, true
			}
		}
	}
	return 0, false
}

// moveTo puts ta's cursor at a 0-based line and character.
func moveTo(ta *textarea.Model, line, col int) {
	for ta.Line() > line {
		ta.CursorUp()
	}
	for ta.Line() < line && ta.Line() < ta.LineCount()-1 {
		ta.CursorDown()
	}
	ta.SetCursor(max(0, col))
}
