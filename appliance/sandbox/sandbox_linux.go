//go:build linux

package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/cap"
	"kernel.org/pub/linux/libs/security/libcap/psx"
)

// Confine restricts this process, every thread of it, for good: it sets
// no_new_privs, drops every capability (the ambient, inheritable,
// permitted and effective sets), then restricts the file system view and
// IPC with Landlock and installs the system-call filter, each where the
// kernel offers it. Call it before the process handles any untrusted
// input, and only in a process meant to live confined.
func Confine() (Report, error) {
	if _, _, errno := psx.Syscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); errno != 0 {
		return Report{}, fmt.Errorf("set no_new_privs: %w", errno)
	}
	if err := dropCapabilities(); err != nil {
		return Report{}, fmt.Errorf("drop capabilities: %w", err)
	}
	var r Report
	var err error
	if r.Landlock, r.LandlockNote, err = restrictFiles(); err != nil {
		return r, fmt.Errorf("restrict the file system view with Landlock: %w", err)
	}
	if r.Seccomp, r.SeccompNote, err = filterSyscalls(); err != nil {
		return r, fmt.Errorf("install the system-call filter: %w", err)
	}
	return r, nil
}

// Probe says what Confine would put in force in a process of the same
// kernel and service manager, without confining this one.
func Probe() Report {
	var r Report
	r.Landlock, r.LandlockNote = landlockABI()
	r.Seccomp, r.SeccompNote = seccompSupported()
	return r
}

// dropCapabilities empties the ambient set, then every other set, of all
// the threads. A worker started by an unprivileged daemon may have
// inherited ambient capabilities (AmbientCapabilities= in a unit); one
// started by root as another user has none left, and one without any
// changes nothing: a service's system-call filter may refuse capset(2)
// (systemd's @privileged holds it).
func dropCapabilities() error {
	cur, err := cap.GetPID(0)
	if err != nil {
		return fmt.Errorf("read the capabilities: %w", err)
	}
	if diff, err := cur.Cf(cap.NewSet()); err == nil && diff == 0 {
		return nil // none: the ambient set is a subset of the permitted one
	}
	if err := cap.ResetAmbient(); err != nil {
		return fmt.Errorf("clear the ambient capabilities: %w", err)
	}
	return cap.NewSet().SetProc()
}
