package tui

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/tui/client"
)

// A body as a script sends it: indented JSON, runs of spaces inside a
// string and a line longer than any terminal.
var faithfulBody = "{\n  \"greeting\": \"two  spaces\",\n  \"nested\": {\n    \"deep\": true\n  },\n  \"long\": \"" +
	strings.Repeat("0123456789", 15) + "END\"\n}"

// TestTryShowsTheBodyAsItCame shows a response in try it: indentation and
// runs of spaces stay, a long line is reached by scrolling sideways (and
// marked where it is cut) or by wrapping, and a flat JSON body can be
// shown indented.
func TestTryShowsTheBodyAsItCame(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			tr := open(m, newTryScreen(m.e, shop, hello, nil)).(*tryScreen)
			feed(m, responseMsg{to{tr.id()}, client.Response{Status: 200, Duration: 3 * time.Millisecond,
				Header: http.Header{"Content-Type": {"application/json"}}, Body: faithfulBody}})
			v := m.View()
			for _, want := range []string{`  "greeting": "two  spaces",`, `    "deep": true`, "›"} {
				if !strings.Contains(v, want) {
					t.Errorf("the response lost %q:\n%s", want, v)
				}
			}
			golden(t, m, "try_faithful")
			m.Update(press("right"))
			m.Update(press("l"))
			m.Update(press("l"))
			if v := m.View(); !strings.Contains(v, "END\"") {
				t.Errorf("scrolled right, the end of the long line is not shown:\n%s", v)
			}
			golden(t, m, "try_faithful_right")
			m.Update(press("w"))
			if v := strings.ReplaceAll(m.View(), "↩\n", ""); !strings.Contains(v, strings.Repeat("0123456789", 3)) || !strings.Contains(v, "END\"") {
				t.Errorf("wrapped, the long line is not whole:\n%s", m.View())
			}
			golden(t, m, "try_faithful_wrapped")

			// A flat body, indented on request and back.
			feed(m, responseMsg{to{tr.id()}, client.Response{Status: 200, Duration: time.Millisecond,
				Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"a":[1,2],"b":{"c":"x  y"}}`}})
			m.Update(press("p"))
			if v := m.View(); !strings.Contains(v, "\n    1,") || !strings.Contains(v, `"c": "x  y"`) {
				t.Errorf("p did not indent the JSON body:\n%s", v)
			}
			golden(t, m, "try_pretty")
			m.Update(press("p"))
			if v := m.View(); !strings.Contains(v, `{"a":[1,2],"b":{"c":"x  y"}}`) {
				t.Errorf("p again did not show the body as it came:\n%s", v)
			}
		})
	}
}

// TestExecutionShowsLinesWhole opens an execution whose console output is
// indented JSON and whose error is longer than the terminal: nothing is
// squeezed, and the end of the error is reached by scrolling sideways.
func TestExecutionShowsLinesWhole(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			ex := executions()[1]
			ex.Error = "TypeError: Cannot read property 'id' of undefined (reading order.customer.address.lines[2].postcode from the webhook's payload)  END"
			ex.Console = []byte(`[{"time":"2026-03-14T09:26:53Z","level":"info","message":"{\n  \"order\": {\n    \"id\": 7\n  },\n  \"note\": \"two  spaces\"\n}"}]`)
			open(m, newExecutionScreen(m.e, ex, "orders.ts"))
			v := m.View()
			for _, want := range []string{`    "id": 7`, `"note": "two  spaces"`, "›"} {
				if !strings.Contains(v, want) {
					t.Errorf("the execution lost %q:\n%s", want, v)
				}
			}
			golden(t, m, "execution_faithful")
			for range 6 {
				m.Update(press("l"))
			}
			if v := m.View(); !strings.Contains(v, "payload)  END") {
				t.Errorf("scrolled right, the end of the error is not shown:\n%s", v)
			}
		})
	}
}
