package tui

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/tui/client"
)

// TestLogsMarkNewRowsAndCountFiltered turns following off: executions
// that arrive below are counted in a marker until the cursor reaches
// them, and the count says how many rows the text filter leaves.
func TestLogsMarkNewRowsAndCountFiltered(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			lg := open(m, newLogsScreen(m.e, shop, nil))
			ex := executions()
			feed(m, logsMsg{to{lg.id()}, nil, []client.Script{hello, orders, cron}, ex}, streamMsg{to{lg.id()}, client.NewStream(http.NoBody, nil), 0})
			m.Update(press("f"))
			m.Update(press("k"))
			for i := range 2 {
				e := ex[0]
				e.RequestID, e.CreatedAt = fmt.Sprintf("r-new-%d", i), at.Add(time.Duration(i+1)*time.Minute)
				feed(m, executionMsg{to{lg.id()}, e, 0})
			}
			if v := m.View(); !strings.Contains(v, "↓ 2 new below") {
				t.Fatalf("no marker for the rows that came below:\n%s", v)
			}
			golden(t, m, "logs_new_below")
			m.Update(press("G"))
			if v := m.View(); strings.Contains(v, "new below") {
				t.Errorf("the marker stayed after the cursor reached the last row:\n%s", v)
			}

			m.Update(press("/"))
			m.Update(press("orders"))
			m.Update(press("enter"))
			if v := m.View(); !strings.Contains(v, "1 of 5 shown") {
				t.Errorf("the count does not follow the text filter:\n%s", v)
			}
		})
	}
}
