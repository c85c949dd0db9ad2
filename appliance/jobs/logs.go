package jobs

import (
	"context"
	"log/slog"
)

// quietHandler passes on records at min or above: River reports each
// maintenance pass at info level, every few seconds, which would fill the
// journal of a board that runs for months.
type quietHandler struct {
	slog.Handler
	min slog.Level
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(attrs), h.min}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name), h.min}
}

// riverLogger is River's logger: its warnings and errors, in the daemon's
// log.
func riverLogger(logger *slog.Logger) *slog.Logger {
	return slog.New(quietHandler{logger.Handler(), slog.LevelWarn}).With("component", "river")
}
