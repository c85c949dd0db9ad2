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
	// ErrStorageFull: the disk holding the database is full; nothing was
	// written.
	ErrStorageFull = errors.New("storage full")
	// ErrQuotaExceeded: the write would take an app's data past its
	// storage quota; nothing was written.
	ErrQuotaExceeded = errors.New("storage quota exceeded")
	// ErrTxConflict is a transaction that concurrent ones made impossible
	// (a serialization failure or a deadlock): it is rolled back, and
	// running it again may succeed.
	ErrTxConflict = errors.New("transaction conflict")
	// ErrTxAborted is a call in a transaction that an earlier failed
	// statement aborted: it can only roll back.
	ErrTxAborted = errors.New("transaction aborted")
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
