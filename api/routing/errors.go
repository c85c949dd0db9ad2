package routing

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid is wrapped by every error about a malformed route pattern
	// or method.
	ErrInvalid = errors.New("invalid route")
	// ErrReserved is wrapped by the error for a pattern under a path the
	// daemon serves itself (/api, /admin, /healthz, /version).
	ErrReserved = errors.New("reserved route path")
	// ErrConflict is wrapped by the error NewTable returns for two routes
	// with the same method and shape.
	ErrConflict = errors.New("conflicting routes")
)

// PatternError describes why a route path was rejected. Its message is meant
// to be shown to the person who wrote the path. It unwraps to ErrInvalid or
// ErrReserved.
type PatternError struct {
	Path   string // the path as given
	Reason string // what is wrong, in words
	Err    error  // ErrInvalid or ErrReserved
}

// Error implements error.
func (e *PatternError) Error() string {
	return fmt.Sprintf("route path %q: %s", e.Path, e.Reason)
}

// Unwrap returns ErrInvalid or ErrReserved.
func (e *PatternError) Unwrap() error { return e.Err }

func invalid(path, format string, args ...any) error {
	return &PatternError{Path: path, Reason: fmt.Sprintf(format, args...), Err: ErrInvalid}
}
