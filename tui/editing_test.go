package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/picloud/picloud/tui/client"
)

// ctrl is the key ctrl+c for c in a-z.
func ctrl(c byte) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyCtrlA + tea.KeyType(c-'a')} }

// typeText types s a character at a time, as a person would.
func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// openEditor is the editor on a script of source src, loaded.
func openEditor(t *testing.T, w, h int, src string) (*Model, *editorScreen) {
	t.Helper()
	m := newTestModel(t, w, h)
	sc := hello
	sc.Source = src
	ed := open(m, newEditorScreen(m.e, shop, sc)).(*editorScreen)
	feed(m, scriptLoadedMsg{to{ed.id()}, sc})
	return m, ed
}

// answer gives the editor a key whose answer is news for the status line
// (the tests' feed drops the commands that carry it) and shows the news.
func answer(m *Model, ed *editorScreen, k tea.KeyMsg) {
	if cmd := ed.update(k); cmd != nil {
		if msg := cmd(); msg != nil {
			feed(m, msg)
		}
	}
}

// at is the 1-based line and column of the editor's cursor.
func (s *editorScreen) at() string {
	sn := s.snap()
	return fmt.Sprintf("%d:%d", sn.line+1, sn.col+1)
}

func TestEditorUndoRedo(t *testing.T) {
	m, ed := openEditor(t, 80, 24, "let a\n")
	m.Update(ctrl('e')) // end of the line
	typeText(m, " = 42")
	if ed.source() != "let a = 42\n" {
		t.Fatalf("typed: %q", ed.source())
	}
	m.Update(ctrl('z'))
	if got := ed.source(); got != "let a = \n" {
		t.Errorf("one undo took back %q, want the word 42 only", got)
	}
	m.Update(ctrl('z'))
	m.Update(ctrl('z'))
	m.Update(ctrl('z'))
	if got := ed.source(); got != "let a\n" {
		t.Errorf("undone to the start: %q", got)
	}
	answer(m, ed, ctrl('z'))
	if !strings.Contains(m.View(), "nothing to undo") {
		t.Errorf("an undo past the first change does not say so:\n%s", m.View())
	}
	for range 4 {
		m.Update(ctrl('y'))
	}
	if got := ed.source(); got != "let a = 42\n" || ed.at() != "1:11" {
		t.Errorf("redone: %q, cursor at %s", got, ed.at())
	}
	// A new change after an undo leaves nothing to redo.
	m.Update(ctrl('z'))
	typeText(m, "7")
	m.Update(ctrl('y'))
	if got := ed.source(); got != "let a = 7\n" {
		t.Errorf("redo after a new change: %q", got)
	}
}

func TestEditorFind(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m, ed := openEditor(t, w, h, helloSrc)
			m.Update(ctrl('f'))
			typeText(m, "PARAMS")
			golden(t, m, "editor_find")
			answer(m, ed, press("enter"))
			if !strings.Contains(m.View(), `"PARAMS" is not in the text`) || ed.at() != "1:1" {
				t.Errorf("a query with capitals matches case: cursor at %s\n%s", ed.at(), m.View())
			}
			m.Update(ctrl('f'))
			m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
			typeText(m, "params")
			answer(m, ed, press("enter"))
			if ed.at() != "3:30" {
				t.Errorf("find params: cursor at %s, want 3:30", ed.at())
			}
			answer(m, ed, ctrl('n'))
			if ed.at() != "4:25" {
				t.Errorf("find next: cursor at %s, want 4:25", ed.at())
			}
			answer(m, ed, ctrl('n'))
			if ed.at() != "3:30" || !strings.Contains(m.View(), "from the top again") {
				t.Errorf("find next round the end: cursor at %s\n%s", ed.at(), m.View())
			}
			answer(m, ed, ctrl('p'))
			if ed.at() != "4:25" || !strings.Contains(m.View(), "from the bottom again") {
				t.Errorf("find previous round the start: cursor at %s\n%s", ed.at(), m.View())
			}
		})
	}
}

func TestEditorGoToLine(t *testing.T) {
	m, ed := openEditor(t, 80, 24, longSource())
	m.Update(ctrl('l'))
	typeText(m, "38:5")
	m.Update(press("enter"))
	if ed.at() != "38:5" || !strings.Contains(m.View(), " 38     return )") {
		t.Errorf("go to 38:5: cursor at %s\n%s", ed.at(), m.View())
	}
	for bad, why := range map[string]string{"abc": `"abc" is not a line number`, "0": `"0" is not a line number`,
		"99": "line 99 is past the end: the text has 41 lines", "3:x": `"x" is not a column number`} {
		m.Update(ctrl('l'))
		typeText(m, bad)
		answer(m, ed, press("enter"))
		if ed.at() != "38:5" || !strings.Contains(m.View(), "✗ go to line: "+why) {
			t.Errorf("go to %q: cursor at %s, want 38:5 and %q:\n%s", bad, ed.at(), why, m.View())
		}
	}
}

func TestEditorIndent(t *testing.T) {
	m, ed := openEditor(t, 80, 24, "function f() {}\n")
	m.Update(ctrl('e'))
	m.Update(tea.KeyMsg{Type: tea.KeyLeft}) // between { and }
	m.Update(press("enter"))
	if got := ed.source(); got != "function f() {\n  \n}\n" || ed.at() != "2:3" {
		t.Fatalf("enter between braces: %q, cursor at %s", got, ed.at())
	}
	typeText(m, "if (x) {")
	m.Update(press("enter"))
	typeText(m, "y()")
	m.Update(press("enter"))
	if got := ed.source(); got != "function f() {\n  if (x) {\n    y()\n    \n}\n" {
		t.Fatalf("auto-indent: %q", got)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyShiftTab})
	if got := ed.source(); got != "function f() {\n  if (x) {\n    y()\n  \n}\n" || ed.at() != "4:3" {
		t.Fatalf("shift+tab: %q, cursor at %s", got, ed.at())
	}
	typeText(m, "z")
	m.Update(tea.KeyMsg{Type: tea.KeyTab})
	if got := ed.source(); got != "function f() {\n  if (x) {\n    y()\n  z \n}\n" {
		t.Fatalf("tab after z: %q", got)
	}
	// ? is a character of JavaScript: it is typed.
	typeText(m, "?")
	if !strings.Contains(ed.source(), "z ?") {
		t.Errorf("? was not typed: %q", ed.source())
	}
	// The editor's own changes are undone as one step each.
	m.Update(ctrl('z'))
	m.Update(ctrl('z'))
	if got := ed.source(); got != "function f() {\n  if (x) {\n    y()\n  z\n}\n" {
		t.Errorf("undo of ? and the tab: %q", got)
	}
}

// TestEditorKeysListed shows every key of the editor on ctrl+g, which
// types nothing.
func TestEditorKeysListed(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m, ed := openEditor(t, w, h, helloSrc)
			m.Update(ctrl('g'))
			v := m.View()
			for _, k := range []string{"ctrl+z", "ctrl+y", "ctrl+f", "ctrl+n", "ctrl+l", "shift+tab", "ctrl+c"} {
				if !strings.Contains(v, k) {
					t.Errorf("ctrl+g does not list %s:\n%s", k, v)
				}
			}
			if ed.dirty() {
				t.Error("ctrl+g changed the text")
			}
			golden(t, m, "editor_keys")
		})
	}
}

// TestEditorMatchesBrackets puts the cursor on a bracket: the status line
// names its match, and the match is drawn in the match style.
func TestEditorMatchesBrackets(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m, ed := openEditor(t, w, h, helloSrc)
			m.Update(ctrl('e')) // after the { of line 1
			if v := m.View(); !strings.Contains(v, "{ matches } at line 6, column 1") {
				t.Errorf("the match of line 1's { is not named:\n%s", v)
			}
			golden(t, m, "editor_bracket")
			ed.gotoLine(3, 16) // the ( of console.log(
			if v := m.View(); !strings.Contains(v, "( matches ) at line 3, column 41") {
				t.Errorf("the match of console.log( is not named:\n%s", v)
			}
			ed.gotoLine(2, 3)
			if v := m.View(); strings.Contains(v, "matches") {
				t.Errorf("a match is named away from any bracket:\n%s", v)
			}
		})
	}

	// In colour, the match itself is drawn in the match style.
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI)
	m := New(context.Background(), Options{Client: client.New("http://picloud.invalid", nil, ""), Renderer: r, Via: "local"})
	feed(m, tea.WindowSizeMsg{Width: 80, Height: 24}, meMsg{client.User{ID: "u1", Username: "alice", Role: "owner"}})
	sc := hello
	sc.Source = "f(a, [b])\nx\n"
	ed := open(m, newEditorScreen(m.e, shop, sc)).(*editorScreen)
	feed(m, scriptLoadedMsg{to{ed.id()}, sc})
	ed.gotoLine(1, 2) // on the (
	want := m.e.st.match.Render(")")
	if v := m.View(); !strings.Contains(v, want) {
		t.Errorf("the ) that matches is not drawn as %q:\n%q", want, v)
	}
	ed.gotoLine(2, 1)
	if v := m.View(); strings.Contains(v, want) {
		t.Errorf("a ) is drawn as a match away from any bracket:\n%q", v)
	}
}
