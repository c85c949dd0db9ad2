package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// TestSocketActivation runs the real binary as systemd would under
// picloud.socket: a listening TCP socket as fd 3, LISTEN_FDS=1 and
// LISTEN_PID set to the daemon's pid. PICLOUD_LISTEN names an address that
// is already taken, so the daemon starts only if it serves on the passed
// socket instead of binding its own; requests are served there, and no child
// process (PostgreSQL, executor workers) holds the socket or sees LISTEN_*.
func TestSocketActivation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)

	// The address PICLOUD_LISTEN names, kept busy.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	d := newDaemon(t, bin, "PICLOUD_LISTEN="+busy.Addr().String())

	// The socket systemd would hold.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()

	// systemd sets LISTEN_PID in the child after fork; a shell that execs
	// the daemon keeps its pid.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0" serve`, d.bin)
	cmd.Env = append(d.env, "LISTEN_FDS=1", "LISTEN_FDNAMES=picloud.socket")
	cmd.ExtraFiles = []*os.File{f} // fd 3
	d.launch(cmd)
	f.Close()

	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string, error) {
		res, err := client.Get(url + path)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), nil
	}
	testkit.Eventually(t, 2*time.Minute, "a healthy answer on the passed socket", func() error {
		select {
		case err := <-exited:
			t.Fatalf("daemon exited (%v) instead of serving on the passed socket", err)
		default:
		}
		code, body, err := get("/healthz")
		if err != nil {
			return err
		}
		if code != 200 || strings.TrimSpace(body) != "ok" {
			return fmt.Errorf("/healthz answers %d %q", code, body)
		}
		return nil
	})
	if code, body, err := get("/version"); err != nil || code != 200 || !strings.Contains(body, `"api":"v1"`) {
		t.Fatalf("/version on the passed socket: %d %q %v", code, body, err)
	}
	if !strings.Contains(d.output.String(), "using the socket passed by systemd") {
		t.Error("no log line saying the passed socket is used")
	}

	// Neither the socket nor LISTEN_* reach the children.
	inode := socketInode(t, d.cmd.Process.Pid, ln.Addr().(*net.TCPAddr).Port)
	children := childPids(t, d.cmd.Process.Pid)
	for _, pid := range children {
		env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, []byte("LISTEN_")) {
				t.Errorf("child %d inherited %s", pid, kv)
			}
		}
		if holdsSocket(pid, inode) {
			t.Errorf("child %d holds the passed socket", pid)
		}
	}
	if len(children) < 2 {
		t.Errorf("expected PostgreSQL and executor workers as children, found %v", children)
	}
	// Stop it: the goroutine above is the one waiting for the process.
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("daemon exited with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not stop on SIGTERM")
	}
}

// socketInode finds, among pid's descriptors, the listening socket on port
// (in /proc/net/tcp), and returns its inode.
func socketInode(t *testing.T, pid, port int) string {
	t.Helper()
	tcp, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	// sl local_address rem_address st ... inode: state 0A is LISTEN.
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(tcp), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && f[3] == "0A" && strings.HasSuffix(f[1], want) && holdsSocket(pid, f[9]) {
			return f[9]
		}
	}
	t.Fatalf("pid %d has no listening socket on port %d", pid, port)
	return ""
}

// holdsSocket tells whether one of pid's descriptors is socket:[inode].
func holdsSocket(pid int, inode string) bool {
	fds, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/fd/*")
	for _, fd := range fds {
		if target, err := os.Readlink(fd); err == nil && target == "socket:["+inode+"]" {
			return true
		}
	}
	return false
}
