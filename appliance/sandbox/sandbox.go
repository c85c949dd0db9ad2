// Package sandbox confines the process that calls it to what an executor
// worker needs: no new privileges, no capabilities, a read-only view of the
// few files Go's resolver, TLS and time zones read (Landlock), and a
// system-call filter that refuses what a worker never does (seccomp).
//
// Confine is best effort where the kernel lacks a mechanism (an older
// kernel, a kernel without Landlock, a service manager's filter that
// refuses the calls): the Report says what is in force and why the rest is
// not. A mechanism the kernel offers that then fails to apply is an error.
package sandbox

import (
	"fmt"
	"strings"
)

// Report says what Confine put in force.
type Report struct {
	// Landlock is the Landlock ABI version the file system view and IPC
	// scopes are restricted with; 0 when none.
	Landlock int
	// LandlockNote says why Landlock is not in force, when it is not.
	LandlockNote string
	// Seccomp reports whether the system-call filter is in force.
	Seccomp bool
	// SeccompNote says why the filter is not in force, when it is not.
	SeccompNote string
}

// String is the report in a few words, for a log line.
func (r Report) String() string {
	var parts []string
	if r.Landlock > 0 {
		parts = append(parts, fmt.Sprintf("landlock ABI %d", r.Landlock))
	} else {
		parts = append(parts, "no landlock ("+r.LandlockNote+")")
	}
	if r.Seccomp {
		parts = append(parts, "seccomp filter")
	} else {
		parts = append(parts, "no seccomp filter ("+r.SeccompNote+")")
	}
	return strings.Join(parts, ", ")
}

// Complete reports whether every mechanism is in force.
func (r Report) Complete() bool { return r.Landlock > 0 && r.Seccomp }
