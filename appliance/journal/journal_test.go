package journal

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/coreos/go-systemd/v22/journal"
)

type entry struct {
	msg    string
	pri    journal.Priority
	fields map[string]string
}

func TestRecordsBecomeFields(t *testing.T) {
	var got []entry
	h := NewHandler(slog.LevelDebug, slog.NewTextHandler(&bytes.Buffer{}, nil))
	h.send = func(m string, p journal.Priority, f map[string]string) error {
		got = append(got, entry{m, p, f})
		return nil
	}
	log := slog.New(h).With("component", "workers")
	log.Warn("executor worker ended", "worker", 1, "reason", "the worker ran out of memory", slog.Group("req", "id", "abc"))
	log.WithGroup("http").Debug("served", "status", 200)
	if len(got) != 2 {
		t.Fatalf("%d entries", len(got))
	}
	e := got[0]
	if e.pri != journal.PriWarning || e.fields["COMPONENT"] != "workers" || e.fields["WORKER"] != "1" ||
		e.fields["REASON"] != "the worker ran out of memory" || e.fields["REQ_ID"] != "abc" || e.fields["SYSLOG_IDENTIFIER"] != "picloud" {
		t.Errorf("first entry: %+v", e)
	}
	if e.msg != `executor worker ended component=workers worker=1 reason="the worker ran out of memory" req.id=abc` {
		t.Errorf("message %q", e.msg)
	}
	if got[1].pri != journal.PriDebug || got[1].fields["HTTP_STATUS"] != "200" || got[1].fields["COMPONENT"] != "workers" {
		t.Errorf("second entry: %+v", got[1])
	}
	// Below the level: nothing.
	h2 := NewHandler(slog.LevelInfo, slog.NewTextHandler(&bytes.Buffer{}, nil))
	if h2.Enabled(t.Context(), slog.LevelDebug) || !h2.Enabled(t.Context(), slog.LevelError) {
		t.Error("level filtering")
	}
}

func TestFallbackWhenTheJournalIsGone(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(slog.LevelInfo, slog.NewTextHandler(&buf, nil))
	h.send = func(string, journal.Priority, map[string]string) error { return errors.New("no socket") }
	log := slog.New(h)
	log.Info("one", "k", "v")
	log.Info("two")
	out := buf.String()
	if strings.Count(out, "cannot write to the journal") != 1 || !strings.Contains(out, "msg=one k=v") || !strings.Contains(out, "msg=two") {
		t.Errorf("fallback output:\n%s", out)
	}
}

func TestFieldName(t *testing.T) {
	for in, want := range map[string]string{
		"component": "COMPONENT", "script_id": "SCRIPT_ID", "req.id": "REQ_ID", "_hidden": "HIDDEN",
		"9lives": "F_9LIVES", "max-memory-mb": "MAX_MEMORY_MB", "é": "F_",
	} {
		if got := FieldName(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
