package pgcluster

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// forward logs each line PostgreSQL writes (component=postgres) and keeps the
// last ones for error messages. It closes done at end of output.
func (c *Cluster) forward(r io.ReadCloser, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	log := c.cfg.Logger.With("component", "postgres")
	br := bufio.NewReaderSize(r, 64<<10)
	level := slog.LevelInfo
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line != "" {
			c.output.add(line)
			var msg string
			level, msg = classify(line, level)
			log.Log(context.Background(), level, msg)
		}
		if err != nil {
			return
		}
	}
}

// expected are FATAL messages that are part of normal operation: our own
// readiness polling during start-up, and fast shutdown ending sessions.
var expected = map[string]slog.Level{
	"the database system is starting up":                   slog.LevelDebug,
	"the database system is not yet accepting connections": slog.LevelDebug,
	"the database system is shutting down":                 slog.LevelDebug,
	"terminating connection due to administrator command":  slog.LevelInfo,
}

// classify maps a line of PostgreSQL's stderr (log_line_prefix is empty, so it
// starts with the severity) to a slog level and message. DETAIL, HINT and
// other continuation lines take the level of the line they belong to (prev).
func classify(line string, prev slog.Level) (slog.Level, string) {
	sev, msg, ok := strings.Cut(line, ":  ")
	if !ok {
		return prev, line
	}
	switch sev {
	case "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5":
		return slog.LevelDebug, msg
	case "LOG", "INFO", "NOTICE":
		return slog.LevelInfo, msg
	case "WARNING":
		return slog.LevelWarn, msg
	case "ERROR":
		// Mostly a statement that failed, which its client sees and handles
		// (a unique violation is normal control flow for the store).
		return slog.LevelWarn, sev + ": " + msg
	case "FATAL", "PANIC":
		if l, ok := expected[msg]; ok {
			return l, msg
		}
		return slog.LevelError, sev + ": " + msg
	}
	return prev, line
}

// tail keeps the last lines of output.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// suffix is "; last PostgreSQL output:\n..." for error messages, or "".
func (t *tail) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return ""
	}
	return "; last PostgreSQL output:\n" + strings.Join(t.lines, "\n")
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
