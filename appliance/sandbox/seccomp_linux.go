//go:build linux

package sandbox

import (
	"fmt"
	"os"
	"slices"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The filter is a deny list: a worker is a Go program whose system calls
// the Go runtime chooses, so the filter refuses what no worker does rather
// than listing everything one might. Refused calls fail with EPERM (ENOSYS
// for clone3 and openat2, so that callers fall back to the calls the
// filter can inspect); calls of another architecture's ABI (32-bit x86
// system calls from a 64-bit process) fail with ENOSYS.

// deniedSyscalls are refused whatever their arguments.
var deniedSyscalls = []string{
	// Other programs and processes.
	"execve", "execveat", "fork", "vfork", "uselib",
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
	"pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
	// Namespaces and mounts.
	"unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot",
	"open_tree", "open_tree_attr", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	// The kernel and the machine.
	"bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "quotactl_fd", "lookup_dcookie",
	"ioperm", "iopl", "vhangup", "personality", "fanotify_init", "open_by_handle_at", "name_to_handle_at",
	"settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex",
	"keyctl", "add_key", "request_key",
	// Unix sockets (the admin socket, PostgreSQL's): see socket below.
	"socketpair",
	// Changing the file system: a worker writes no file.
	"creat", "truncate", "truncate64", "rename", "renameat", "renameat2", "unlink", "unlinkat",
	"mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat", "mknod", "mknodat",
	"chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "lchown", "lchown32", "fchownat",
	"setxattr", "lsetxattr", "fsetxattr", "setxattrat", "removexattr", "lremovexattr", "fremovexattr", "removexattrat",
	"utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
}

// noSuchSyscalls answer ENOSYS: their arguments are structures a filter
// cannot read, and callers fall back to clone and openat.
var noSuchSyscalls = []string{"clone3", "openat2"}

const (
	nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET |
		unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME
	writeFlags = unix.O_WRONLY | unix.O_RDWR | unix.O_CREAT | unix.O_TRUNC
)

// deniedWith are refused when their arguments match; pid is this
// process's id, the only one it may signal.
func deniedWith(pid int) []seccomp.NameWithConditions {
	is := func(arg uint32, op seccomp.Operation, v uint64) seccomp.Condition {
		return seccomp.Condition{Argument: arg, Operation: op, Value: v}
	}
	notSelf := seccomp.ArgumentConditions{is(0, seccomp.NotEqual, uint64(pid))}
	return []seccomp.NameWithConditions{
		// Threads only: no new process, no namespace.
		{Name: "clone", Conditions: seccomp.ArgumentConditions{is(0, seccomp.BitsNotSet, unix.CLONE_THREAD)}},
		{Name: "clone", Conditions: seccomp.ArgumentConditions{is(0, seccomp.BitsSet, nsFlags)}},
		// Signals to itself only (the Go runtime preempts its threads
		// with tgkill, and a crash raises with kill).
		{Name: "kill", Conditions: notSelf},
		{Name: "tgkill", Conditions: notSelf},
		{Name: "rt_sigqueueinfo", Conditions: notSelf},
		{Name: "rt_tgsigqueueinfo", Conditions: notSelf},
		// Internet sockets for fetch and the route netlink socket that
		// lists this machine's addresses; no Unix, packet or other
		// sockets.
		{Name: "socket", Conditions: seccomp.ArgumentConditions{
			is(0, seccomp.NotEqual, unix.AF_INET), is(0, seccomp.NotEqual, unix.AF_INET6), is(0, seccomp.NotEqual, unix.AF_NETLINK)}},
		{Name: "socket", Conditions: seccomp.ArgumentConditions{is(0, seccomp.Equal, unix.AF_NETLINK), is(2, seccomp.NotEqual, unix.NETLINK_ROUTE)}},
		// Files open for reading only.
		{Name: "open", Conditions: seccomp.ArgumentConditions{is(1, seccomp.BitsSet, writeFlags)}},
		{Name: "openat", Conditions: seccomp.ArgumentConditions{is(2, seccomp.BitsSet, writeFlags)}},
		// No memory both writable and executable, nor made executable
		// later: a worker runs no machine code but its own.
		{Name: "mmap", Conditions: seccomp.ArgumentConditions{is(2, seccomp.BitsSet, unix.PROT_WRITE), is(2, seccomp.BitsSet, unix.PROT_EXEC)}},
		{Name: "mmap2", Conditions: seccomp.ArgumentConditions{is(2, seccomp.BitsSet, unix.PROT_WRITE), is(2, seccomp.BitsSet, unix.PROT_EXEC)}},
		{Name: "mprotect", Conditions: seccomp.ArgumentConditions{is(2, seccomp.BitsSet, unix.PROT_EXEC)}},
		{Name: "pkey_mprotect", Conditions: seccomp.ArgumentConditions{is(2, seccomp.BitsSet, unix.PROT_EXEC)}},
		// Typing into, or taking over, a terminal.
		{Name: "ioctl", Conditions: seccomp.ArgumentConditions{is(1, seccomp.Equal, unix.TIOCSTI)}},
		{Name: "ioctl", Conditions: seccomp.ArgumentConditions{is(1, seccomp.Equal, unix.TIOCLINUX)}},
	}
}

// policies are the filter's parts for this architecture, for process
// pid: the calls refused whatever their arguments, then one policy per
// call refused for some arguments. (The library compares the system-call
// number held in the accumulator after it has loaded an argument there,
// so a policy checks the arguments of one call at most: each part
// reloads the number.) Calls the architecture lacks are left out.
func policies(a *arch.Info, pid int) []seccomp.Policy {
	known := func(names []string) []string {
		var out []string
		for _, n := range names {
			if _, ok := a.SyscallNames[n]; ok {
				out = append(out, n)
			}
		}
		return out
	}
	out := []seccomp.Policy{{
		DefaultAction: seccomp.ActionAllow,
		Syscalls: []seccomp.SyscallGroup{
			{Action: seccomp.ActionErrno, Names: known(deniedSyscalls)},
			{Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS), Names: known(noSuchSyscalls)},
		},
	}}
	byName := map[string][]seccomp.NameWithConditions{}
	var order []string
	for _, c := range deniedWith(pid) {
		if _, ok := a.SyscallNames[c.Name]; !ok {
			continue
		}
		if byName[c.Name] == nil {
			order = append(order, c.Name)
		}
		byName[c.Name] = append(byName[c.Name], c)
	}
	for _, name := range order {
		out = append(out, seccomp.Policy{DefaultAction: seccomp.ActionAllow,
			Syscalls: []seccomp.SyscallGroup{{Action: seccomp.ActionErrno, NamesWithCondtions: byName[name]}}})
	}
	return out
}

// instructions are the filter's program for this machine's architecture:
// a first check that sends system calls of a foreign ABI (32-bit x86 calls
// from a 64-bit process) to ENOSYS, since the library's own check lets
// them through, then each policy, falling through to the next where the
// policy would allow the call, and finally allowing it.
func instructions(pid int) ([]bpf.Instruction, error) {
	a, err := arch.GetInfo("")
	if err != nil {
		return nil, err
	}
	allow := bpf.RetConstant{Val: uint32(seccomp.ActionAllow)}
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(a.ID), SkipTrue: 1},
		bpf.RetConstant{Val: uint32(seccomp.ActionErrno) | uint32(unix.ENOSYS)},
	}
	for _, p := range policies(a, pid) {
		part, err := p.Assemble()
		if err != nil {
			return nil, err
		}
		// Every way out of a part that allows the call jumps to its
		// last instruction, the default action: without it they reach
		// the next part's first. (The library copies a return that is
		// too far for a jump; there must be none of allow.)
		body, last := part[:len(part)-1], part[len(part)-1]
		if last != allow || slices.Contains(body, bpf.Instruction(allow)) {
			return nil, fmt.Errorf("a part of the filter allows calls before its end: %v", part)
		}
		prog = append(prog, body...)
	}
	return append(prog, allow), nil
}

// program is the filter in the kernel's form.
func program(pid int) ([]unix.SockFilter, error) {
	prog, err := instructions(pid)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, err
	}
	out := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out, nil
}

// seccompSupported reports whether a filter can be installed, or why not.
func seccompSupported() (bool, string) {
	if _, err := arch.GetInfo(""); err != nil {
		return false, err.Error()
	}
	// Strict mode with a flag is invalid: EINVAL means the call exists
	// and is allowed; a service manager's filter answers EPERM.
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_STRICT, 1, 0)
	switch errno {
	case unix.EINVAL:
		return true, ""
	case unix.ENOSYS:
		return false, "not available in the kernel"
	case unix.EPERM, unix.EACCES:
		return false, "refused by a system-call filter already in force (the service's SystemCallFilter=)"
	}
	return false, errno.Error()
}

// filterSyscalls installs the filter on every thread of the process.
func filterSyscalls() (bool, string, error) {
	if ok, note := seccompSupported(); !ok {
		return false, note, nil
	}
	filter, err := program(os.Getpid())
	if err != nil {
		return false, "", err
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	switch {
	case errno != 0:
		return false, "", fmt.Errorf("seccomp: %w", errno)
	case r != 0:
		return false, "", fmt.Errorf("seccomp: thread %d could not take the filter", r)
	}
	return true, "", nil
}
