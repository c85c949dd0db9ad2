package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/picloud/picloud/tui/client"
)

// longSource is 41 lines: the third longer than any terminal, so that it
// wraps, and the 38th the one that does not compile.
func longSource() string {
	lines := []string{"export default {", "  async fetch(request, env, ctx) {",
		"    const note = '" + strings.Repeat("a long line that wraps ", 12) + "'"}
	for i := 4; i <= 41; i++ {
		lines = append(lines, fmt.Sprintf("    const v%d = %d // line %d", i, i, i))
	}
	lines[37] = "    return )"
	return strings.Join(lines, "\n")
}

// TestCompileErrorInALongFile saves a 41-line script whose line 38 does
// not compile: the view scrolls to that line as the error arrives, the ✗
// is on it although line 3 wraps, and the code does not shift at line 10.
func TestCompileErrorInALongFile(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			sc := hello
			sc.Source = longSource()
			ed := open(m, newEditorScreen(m.e, shop, sc)).(*editorScreen)
			feed(m, scriptLoadedMsg{to{ed.id()}, sc})
			v := m.View()
			if !strings.Contains(v, "   9     const v9 = 9 // line 9") || (h > 30 && !strings.Contains(v, "  10     const v10 = 10 // line 10")) {
				t.Errorf("the line numbers are not right-aligned in one width:\n%s", v)
			}
			golden(t, m, "editor_long")
			feed(m, saveFailedMsg{to{ed.id()}, &client.Error{Status: 422, Message: "Unexpected token )", Line: 38, Column: 12}})
			v = m.View()
			if !strings.Contains(v, "✗ 38     return )") {
				t.Errorf("the error's line is not shown marked as the error arrives:\n%s", v)
			}
			if n := strings.Count(v, "✗"); n != 2 {
				t.Errorf("%d ✗ on the screen, want the gutter's and the status line's:\n%s", n, v)
			}
			golden(t, m, "editor_long_compile_error")
		})
	}
}
