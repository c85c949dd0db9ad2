package jobs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRiverLoggerKeepsWarnings(t *testing.T) {
	var buf bytes.Buffer
	l := riverLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))).With("queue", "cron")
	l.Info("maintenance pass")
	l.Warn("job stuck")
	out := buf.String()
	if strings.Contains(out, "maintenance pass") || !strings.Contains(out, "job stuck") || !strings.Contains(out, "component=river queue=cron") {
		t.Errorf("River's log: %q", out)
	}
}
