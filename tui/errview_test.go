package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

// TestErrorsInWords shows an API error by its message, never by its
// HTTP status number, wrapped or not.
func TestErrorsInWords(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&client.Error{Status: 400, Message: "bad route"}, "bad route"},
		{&client.Error{Status: 403, Message: "owners only"}, "needs another role: owners only"},
		{&client.Error{Status: 422, Message: "Unexpected token", Line: 3, Column: 7}, "line 3, column 7: Unexpected token"},
		{fmt.Errorf("nothing saved: %w", &client.Error{Status: 409, Message: "version 4 is newer"}), "nothing saved: version 4 is newer"},
		{errors.New("dial unix: no such file"), "dial unix: no such file"},
	} {
		if got := errText(c.err); got != c.want {
			t.Errorf("errText(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestWholeError has an error longer than the status line: ctrl+r shows
// it whole, its lines as they came, and esc goes back to the screen.
func TestWholeError(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m, ed := openEditor(t, w, h, helloSrc)
			long := "the script's limits are past the board's ceilings:\n" +
				"  wall_time_ms 90000 is over PICLOUD_SANDBOX_MAX_WALL_TIME_MS (30000)\n" +
				"  response_bytes 99999999 is over PICLOUD_SANDBOX_MAX_RESPONSE_BYTES (10485760)\n" +
				"  and the console limit " + strings.Repeat("is long ", 20) + "END"
			feed(m, errMsg{"save hello.js", &client.Error{Status: 400, Message: long}})
			if v := m.View(); !strings.Contains(v, "ctrl+r whole error") || strings.Contains(v, "400") {
				t.Fatalf("a cut error offers no ctrl+r, or shows its status number:\n%s", v)
			}
			golden(t, m, "error_cut")
			m.Update(tea.KeyMsg{Type: tea.KeyCtrlR})
			v := m.View()
			for _, want := range []string{"  wall_time_ms 90000 is over", "  response_bytes 99999999", "END"} {
				if !strings.Contains(strings.ReplaceAll(v, "↩\n", ""), want) {
					t.Errorf("the whole error lacks %q:\n%s", want, v)
				}
			}
			golden(t, m, "error_whole")
			m.Update(press("esc"))
			if v := m.View(); !strings.Contains(v, "export default {") || !strings.Contains(v, "✗ save hello.js") {
				t.Errorf("esc did not go back to the editor with the error below:\n%s", v)
			}
			if ed.dirty() {
				t.Error("the keys typed into the editor")
			}
			m.Update(tea.KeyMsg{Type: tea.KeyCtrlR})
			if _, cmd := m.Update(press("ctrl+c")); !quits(cmd) {
				t.Error("ctrl+c does not quit from the whole error")
			}
		})
	}
}
