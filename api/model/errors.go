package model

import (
	"errors"
	"fmt"
)

// Errors shared by the store, the services and the API, which maps each to
// one HTTP status.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrInvalid      = errors.New("invalid input")
	ErrUnauthorized = errors.New("unauthorized")
)

// VersionConflictError refuses a script save whose edit started from a
// version that is no longer the script's latest: saving it would drop the
// versions saved since. It is an ErrConflict.
type VersionConflictError struct {
	BaseVersion   int // the version the edit started from
	LatestVersion int // the script's latest version now
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("version %d was saved after version %d, which this edit started from; "+
		"merge your change into version %d, or save again with base_version %d to overwrite it",
		e.LatestVersion, e.BaseVersion, e.LatestVersion, e.LatestVersion)
}

// Is makes a VersionConflictError an ErrConflict.
func (e *VersionConflictError) Is(target error) bool { return target == ErrConflict }
