package tui

import (
	"fmt"
	"strings"

	"github.com/picloud/picloud/tui/client"
)

// replayText is a replay's report as the versions list shows it: a
// summary, then what differs for each request that does.
func replayText(r client.ReplayReport, st *styles) string {
	if !r.CaptureEnabled {
		return st.faint.Render("request capture is off for this script: nothing to replay.\n" +
			"An owner or admin turns it on (PUT /api/v1/admin/scripts/{id}/capture).")
	}
	var b strings.Builder
	sum := r.Summary
	line := fmt.Sprintf("%d captured request(s): %d same, %d different, %d failed", sum.Total, sum.Same, sum.Different, sum.Failed)
	if sum.Different+sum.Failed == 0 {
		b.WriteString(st.ok.Render(line))
	} else {
		b.WriteString(st.warn.Render(line))
	}
	b.WriteString("\n")
	for _, q := range r.Requests {
		if q.Same {
			continue
		}
		b.WriteString("\n" + st.label.Render(safe(q.Method+" "+q.URL)) + "\n")
		if e := q.Error; e != nil {
			b.WriteString(st.err.Render(safe(fmt.Sprintf("  error %s: %s", e.Code, e.Message))) + "\n")
		}
		if s := q.Status; s != nil {
			fmt.Fprintf(&b, "  status %d → %d\n", s.Captured, s.Replayed)
		}
		for _, h := range q.Headers {
			b.WriteString(safe(fmt.Sprintf("  header %s: %s → %s", h.Name, headerValues(h.Captured), headerValues(h.Replayed))) + "\n")
		}
		if body := q.Body; body != nil {
			switch body.Kind {
			case "json":
				for _, c := range body.Changes {
					b.WriteString(safe("  body "+c) + "\n")
				}
			case "text":
				for _, l := range strings.Split(strings.TrimRight(body.Diff, "\n"), "\n") {
					b.WriteString(safe("  "+l) + "\n")
				}
			default:
				fmt.Fprintf(&b, "  body differs (%d bytes → %d bytes)\n", body.CapturedBytes, body.ReplayedBytes)
			}
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func headerValues(v []string) string {
	if v == nil {
		return "(absent)"
	}
	return strings.Join(v, ", ")
}
