// Package journal is a slog handler that writes to the systemd journal with
// structured fields, for when the daemon's standard error is the journal
// (JOURNAL_STREAM): each record's attributes become fields (COMPONENT,
// SCRIPT_ID, REQUEST_ID, ...) that `journalctl -o json` shows and that
// `journalctl COMPONENT=workers` filters on, and its level becomes the
// entry's PRIORITY, so `journalctl -p warning` works.
package journal

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/coreos/go-systemd/v22/journal"
)

// UseJournal reports whether standard error is connected to the journal.
func UseJournal() bool {
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok && journal.Enabled()
}

// sender writes one entry; journal.Send in production.
type sender func(message string, priority journal.Priority, fields map[string]string) error

// Handler sends records to the journal. The message keeps the attributes
// as key=value too, so that plain `journalctl` output reads like the text
// format. When the journal cannot be written, records go to fallback.
type Handler struct {
	level    slog.Leveler
	fallback slog.Handler
	send     sender
	attrs    []slog.Attr // from WithAttrs, already prefixed by their groups
	group    string      // from WithGroup, "" or "a.b."
	mu       *sync.Mutex // guards fallback's first-use warning
	warned   *bool
}

// NewHandler returns a journal handler at level, with fallback for when the
// journal is unreachable.
func NewHandler(level slog.Leveler, fallback slog.Handler) *Handler {
	return &Handler{level: level, fallback: fallback, send: journal.Send, mu: &sync.Mutex{}, warned: new(bool)}
}

// Enabled reports whether records at l are written.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs returns a handler that adds attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), prefixed(h.group, attrs)...)
	c.fallback = h.fallback.WithAttrs(attrs)
	return &c
}

// WithGroup returns a handler that puts later attributes in a group.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	c.fallback = h.fallback.WithGroup(name)
	return &c
}

func prefixed(group string, attrs []slog.Attr) []slog.Attr {
	if group == "" {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: group + a.Key, Value: a.Value}
	}
	return out
}

// Handle sends one record.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	fields := map[string]string{"SYSLOG_IDENTIFIER": "picloud"}
	var msg strings.Builder
	msg.WriteString(r.Message)
	add := func(a slog.Attr) {
		var walk func(prefix string, a slog.Attr)
		walk = func(prefix string, a slog.Attr) {
			v := a.Value.Resolve()
			if v.Kind() == slog.KindGroup {
				for _, g := range v.Group() {
					walk(prefix+a.Key+".", g)
				}
				return
			}
			key := prefix + a.Key
			s := v.String()
			fields[FieldName(key)] = s
			msg.WriteString(" " + key + "=")
			if strings.ContainsAny(s, " \"=") || s == "" {
				msg.WriteString(`"` + strings.ReplaceAll(s, `"`, `\"`) + `"`)
			} else {
				msg.WriteString(s)
			}
		}
		walk("", a)
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(slog.Attr{Key: h.group + a.Key, Value: a.Value})
		return true
	})
	if err := h.send(msg.String(), priority(r.Level), fields); err != nil {
		h.mu.Lock()
		first := !*h.warned
		*h.warned = true
		h.mu.Unlock()
		if first {
			_ = h.fallback.Handle(ctx, slog.NewRecord(r.Time, slog.LevelWarn, "cannot write to the journal; logging to standard error", 0))
		}
		return h.fallback.Handle(ctx, r)
	}
	return nil
}

// priority maps slog levels to syslog priorities.
func priority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}

// FieldName turns an attribute key into a journal field name: upper case
// letters, digits and underscores, not starting with an underscore (those
// are the journal's own) or a digit.
func FieldName(key string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(key) {
		if c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	name := strings.TrimLeft(b.String(), "_")
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		name = "F_" + name
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}
