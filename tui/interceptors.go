package tui

import (
	"strings"

	"github.com/picloud/picloud/tui/client"
)

// chainNote names the interceptors a matched request passes first, a line
// of the routes screen's note; "" without any.
func chainNote(chain []client.MatchInterceptor) string {
	if len(chain) == 0 {
		return ""
	}
	names := make([]string, len(chain))
	for i, ic := range chain {
		names[i] = ic.ScriptName
		if names[i] == "" {
			names[i] = ic.ScriptID + " (no active version)"
		}
	}
	return "  interceptors first: " + strings.Join(names, ", ")
}
