//go:build linux

package sandbox

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"github.com/picloud/picloud/appliance/testkit"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

const (
	envChild = "PICLOUD_SANDBOX_TEST_CHILD" // a directory of files to try
	envTCP   = "PICLOUD_SANDBOX_TEST_TCP"   // a listener to connect to
	envUnix  = "PICLOUD_SANDBOX_TEST_UNIX"  // a Unix socket to connect to
	envUnder = "PICLOUD_SANDBOX_TEST_UNDER" // run under a service manager's filter first
)

// TestMain turns the test binary into a confined child when a test
// re-executes it.
func TestMain(m *testing.M) {
	if os.Getenv(envUnder) != "" {
		os.Exit(underServiceFilter())
	}
	if dir := os.Getenv(envChild); dir != "" {
		os.Exit(confinedChild(dir))
	}
	os.Exit(m.Run())
}

// outcome is what the confined child saw.
type outcome struct {
	Report Report
	Tries  map[string]string // what it tried: "" for success, else the error
}

// confinedChild confines itself, then tries what a worker may and may not
// do, prints what happened and waits for its input to end, so that the
// test can read its /proc/PID/status (which Landlock hides from it).
func confinedChild(dir string) int {
	r, err := Confine()
	if err != nil {
		fmt.Fprintln(os.Stderr, "confine:", err)
		return 1
	}
	o := outcome{Report: r, Tries: map[string]string{}}
	try := func(name string, err error) {
		o.Tries[name] = ""
		if err != nil {
			o.Tries[name] = err.Error()
		}
	}
	read := func(p string) error { _, err := os.ReadFile(p); return err }
	try("read /etc/hosts", read("/etc/hosts"))
	try("read /usr/share", func() error { _, err := os.ReadDir("/usr/share"); return err }())
	try("read /etc/passwd", read("/etc/passwd"))
	try("read a private file", read(filepath.Join(dir, "secret")))
	try("list a private directory", func() error { _, err := os.ReadDir(dir); return err }())
	try("create a file", os.WriteFile(filepath.Join(dir, "new"), []byte("x"), 0o644))
	try("append to a file", func() error {
		f, err := os.OpenFile(filepath.Join(dir, "secret"), os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			f.Close()
		}
		return err
	}())
	try("make a directory", os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	try("remove a file", os.Remove(filepath.Join(dir, "secret")))
	try("chmod a file", os.Chmod(filepath.Join(dir, "secret"), 0o777))
	try("run a program", func() error {
		cmd := exec.Command("/bin/true")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr, os.Stderr // not /dev/null, which Landlock hides
		return cmd.Run()
	}())
	try("signal itself", unix.Kill(os.Getpid(), 0))
	try("signal its parent", unix.Kill(os.Getppid(), 0))
	try("unshare a user namespace", unix.Unshare(unix.CLONE_NEWUSER))
	try("clone3", errnoOf(unix.Syscall(unix.SYS_CLONE3, 0, 0, 0)))
	try("ptrace its parent", unix.PtraceAttach(os.Getppid()))
	try("mmap writable and executable", func() error {
		b, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err == nil {
			unix.Munmap(b)
		}
		return err
	}())
	try("mprotect executable", func() error {
		b, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			return err
		}
		defer unix.Munmap(b)
		return unix.Mprotect(b, unix.PROT_READ|unix.PROT_EXEC)
	}())
	try("a Unix socket", func() error {
		c, err := net.Dial("unix", os.Getenv(envUnix))
		if err == nil {
			c.Close()
		}
		return err
	}())
	try("a packet socket", func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	}())
	try("connect over TCP", func() error {
		c, err := net.Dial("tcp", os.Getenv(envTCP))
		if err == nil {
			c.Close()
		}
		return err
	}())
	try("resolve localhost", func() error { _, err := net.LookupHost("localhost"); return err }())
	try("list interface addresses", func() error { _, err := net.InterfaceAddrs(); return err }())
	try("read its own /proc/self/status", read("/proc/self/status"))
	if err := json.NewEncoder(os.Stdout).Encode(o); err != nil {
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// serviceFilter refuses, as systemd's SystemCallFilter=@system-service
// with ~@privileged does, capset and the Landlock calls.
var serviceFilter = seccomp.Filter{NoNewPrivs: true, Flag: seccomp.FilterFlagTSync, Policy: seccomp.Policy{
	DefaultAction: seccomp.ActionAllow,
	Syscalls: []seccomp.SyscallGroup{{Action: seccomp.ActionErrno,
		Names: []string{"capset", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"}}},
}}

// underServiceFilter is a worker without capabilities started by a service
// whose filter refuses capset and Landlock: it confines itself with what
// is left and says what that is.
func underServiceFilter() int {
	if err := seccomp.LoadFilter(serviceFilter); err != nil {
		fmt.Fprintln(os.Stderr, "the service's filter:", err)
		return 1
	}
	r, err := Confine()
	if err != nil {
		fmt.Fprintln(os.Stderr, "confine:", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return 1
	}
	return 0
}

// TestConfineUnderAServiceFilter: a worker that has no capabilities to
// drop and whose service refuses capset and Landlock still confines
// itself with the rest, and says Landlock is missing and why.
func TestConfineUnderAServiceFilter(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("starts the child as another user")
	}
	if ok, note := seccompSupported(); !ok {
		t.Skip(note)
	}
	// Through /proc/self/exe, which only the binary's mode restricts,
	// not the go tool's private directory.
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), envUnder+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	var r Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Landlock != 0 || !strings.Contains(r.LandlockNote, "operation not permitted") || !r.Seccomp {
		t.Fatalf("under the service's filter: %s", r)
	}
	t.Logf("under the service's filter: %s", r)
}

func errnoOf(_, _ uintptr, e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// TestConfine runs a child that confines itself, then checks from both
// sides what it can still do: read the resolver's files and the system's
// libraries, connect over TCP and resolve names; not read, write or list
// anything else, run programs, signal, trace or share a namespace with
// other processes, make writable code, or use Unix sockets.
func TestConfine(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("key"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	sock := filepath.Join(dir, "admin.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+dir, envTCP+"="+ln.Addr().String(), envUnix+"="+sock)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var o outcome
	decodeErr := json.NewDecoder(out).Decode(&o)
	st := testkit.ProcStatus(t, cmd.Process.Pid)
	in.Close()
	if err := cmd.Wait(); err != nil || decodeErr != nil {
		t.Fatalf("confined child: %v, %v\n%s", err, decodeErr, stderr.String())
	}
	t.Logf("confined with %s", o.Report)

	landlock, seccomp := o.Report.Landlock > 0, o.Report.Seccomp
	if probe := Probe(); landlock != (probe.Landlock > 0) || seccomp != probe.Seccomp {
		t.Errorf("Probe says %s, Confine did %s", probe, o.Report)
	}
	allowed := []string{"read /etc/hosts", "read /usr/share", "signal itself", "connect over TCP", "resolve localhost", "list interface addresses"}
	for _, name := range allowed {
		if e, ok := o.Tries[name]; !ok || e != "" {
			t.Errorf("%s: %q, want success", name, e)
		}
	}
	// What must fail, and which mechanism refuses it: a kernel without one
	// lets its part through.
	const byLandlock, bySeccomp, byEither = 1, 2, 3
	denied := map[string]int{
		"read /etc/passwd": byLandlock, "read a private file": byLandlock, "list a private directory": byLandlock,
		"read its own /proc/self/status": byLandlock,
		"create a file":                  byEither, "append to a file": byEither, "make a directory": byEither, "remove a file": byEither,
		"run a program": byEither, "signal its parent": bySeccomp, "ptrace its parent": bySeccomp,
		"chmod a file": bySeccomp, "unshare a user namespace": bySeccomp, "clone3": bySeccomp,
		"mmap writable and executable": bySeccomp, "mprotect executable": bySeccomp,
		"a Unix socket": bySeccomp, "a packet socket": bySeccomp,
	}
	inForce := 0
	if landlock {
		inForce |= byLandlock
	}
	if seccomp {
		inForce |= bySeccomp
	}
	for name, by := range denied {
		e, ok := o.Tries[name]
		switch {
		case !ok:
			t.Errorf("%s: not tried", name)
		case e == "" && by&inForce != 0:
			t.Errorf("%s: succeeded in the confined process", name)
		case e != "":
			t.Logf("%s: %s", name, e)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "secret")); err != nil || string(b) != "key" {
		t.Errorf("the private file changed: %q %v", b, err)
	}

	if st["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs %q, want 1", st["NoNewPrivs"])
	}
	for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
		if v, err := strconv.ParseUint(st[f], 16, 64); err != nil || v != 0 {
			t.Errorf("%s %q, want no capabilities", f, st[f])
		}
	}
	if seccomp && st["Seccomp"] != "2" {
		t.Errorf("Seccomp %q, want 2", st["Seccomp"])
	}
	if !landlock || !seccomp {
		t.Logf("this kernel does not offer everything: %s", o.Report)
	}
}

// seccompData is the kernel's struct seccomp_data in the byte order the
// BPF interpreter below reads (big-endian words), laid out as the
// little-endian machines PiCloud runs on store it.
func seccompData(nr int, auditArch uint32, args ...uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[0:], uint32(nr))
	binary.BigEndian.PutUint32(b[4:], auditArch)
	for i, v := range args {
		off := 16 + 8*i
		binary.BigEndian.PutUint32(b[off:], uint32(v))       // low word first
		binary.BigEndian.PutUint32(b[off+4:], uint32(v>>32)) // then the high word
	}
	return b
}

// TestFilterDecisions runs this machine's filter through a BPF
// interpreter: what the Go runtime and fetch need is allowed, the rest
// refused with the right errno.
func TestFilterDecisions(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the layout below is little-endian")
	}
	const pid = 4242
	const allow = 0x7fff0000 // SECCOMP_RET_ALLOW
	eperm, enosys := 0x00050000|int(unix.EPERM), 0x00050000|int(unix.ENOSYS)
	goThread := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_SYSVSEM | unix.CLONE_THREAD)
	cases := []struct {
		name string
		args []uint64
		want int
	}{
		{"read", nil, allow},
		{"write", nil, allow},
		{"futex", nil, allow},
		{"clone", []uint64{goThread}, allow},
		{"clone", []uint64{unix.CLONE_VM | unix.CLONE_VFORK | uint64(unix.SIGCHLD)}, eperm},
		{"clone", []uint64{goThread | unix.CLONE_NEWUSER}, eperm},
		{"clone3", nil, enosys},
		{"execve", nil, eperm},
		{"ptrace", nil, eperm},
		{"kill", []uint64{pid, 0}, allow},
		{"kill", []uint64{1, 9}, eperm},
		{"kill", []uint64{1<<32 | pid, 9}, eperm},
		{"tgkill", []uint64{pid, 7, 23}, allow},
		{"tgkill", []uint64{1, 1, 9}, eperm},
		{"socket", []uint64{unix.AF_INET, unix.SOCK_STREAM, 0}, allow},
		{"socket", []uint64{unix.AF_INET6, unix.SOCK_DGRAM, 0}, allow},
		{"socket", []uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE}, allow},
		{"socket", []uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT}, eperm},
		{"socket", []uint64{unix.AF_UNIX, unix.SOCK_STREAM, 0}, eperm},
		{"socket", []uint64{unix.AF_PACKET, unix.SOCK_RAW, 0}, eperm},
		{"openat", []uint64{0, 0, unix.O_RDONLY | unix.O_CLOEXEC}, allow},
		{"openat", []uint64{0, 0, unix.O_WRONLY}, eperm},
		{"openat", []uint64{0, 0, unix.O_RDWR | unix.O_CLOEXEC}, eperm},
		{"openat", []uint64{0, 0, unix.O_CREAT | unix.O_EXCL}, eperm},
		{"openat2", nil, enosys},
		{"mmap", []uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE}, allow},
		{"mmap", []uint64{0, 4096, unix.PROT_READ | unix.PROT_EXEC}, allow},
		{"mmap", []uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC}, eperm},
		{"mprotect", []uint64{0, 4096, unix.PROT_NONE}, allow},
		{"mprotect", []uint64{0, 4096, unix.PROT_READ | unix.PROT_EXEC}, eperm},
		{"ioctl", []uint64{0, unix.TIOCINQ}, allow},
		{"ioctl", []uint64{0, unix.TIOCSTI}, eperm},
		{"bpf", nil, eperm},
		{"unshare", nil, eperm},
		{"mount", nil, eperm},
		{"keyctl", nil, eperm},
		{"io_uring_setup", nil, eperm},
		{"unlinkat", nil, eperm},
		{"fchmodat", nil, eperm},
	}
	a, err := arch.GetInfo("")
	if err != nil {
		t.Skipf("this machine's architecture: %v", err)
	}
	prog, err := instructions(pid)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	run := func(nr int, auditArch uint32, args ...uint64) int {
		got, err := vm.Run(seccompData(nr, auditArch, args...))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, c := range cases {
		name := c.name
		if name == "mmap" && a.Name == "arm" {
			name = "mmap2"
		}
		nr, ok := a.SyscallNames[name]
		if !ok {
			continue
		}
		if got := run(nr|a.SeccompMask, uint32(a.ID), c.args...); got != c.want {
			t.Errorf("%s%v: %#x, want %#x", name, c.args, got, c.want)
		}
	}
	// A system call of another ABI (int 0x80 from a 64-bit process).
	if got := run(1, uint32(a.ID)^0x80000000); got != enosys {
		t.Errorf("a foreign ABI's call: %#x, want ENOSYS", got)
	}
	t.Logf("%s: %d instructions", a.Name, len(prog))
}

// TestReadPathsFollowNetworkManagers keeps the directory a network manager
// replaces /etc/resolv.conf in readable when the file links there.
func TestReadPathsFollowNetworkManagers(t *testing.T) {
	paths := readPaths()
	for _, want := range []string{"/etc/resolv.conf", "/etc/hosts", "/usr"} {
		if !contains(paths, want) {
			t.Errorf("readPaths lacks %s", want)
		}
	}
	if target, err := filepath.EvalSymlinks("/etc/resolv.conf"); err == nil && strings.HasPrefix(target, "/run/") && !contains(paths, filepath.Dir(target)) {
		t.Errorf("readPaths lacks %s, where /etc/resolv.conf leads", filepath.Dir(target))
	}
	t.Setenv("SSL_CERT_DIR", "/opt/certs:relative")
	if paths := readPaths(); !contains(paths, "/opt/certs") || contains(paths, "relative") {
		t.Errorf("SSL_CERT_DIR: %v", paths)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
