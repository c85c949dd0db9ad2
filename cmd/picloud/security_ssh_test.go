package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// dialSSHFrom signs in from the local address src (127.0.0.0/8 is all
// loopback, so each 127.x.y.z is another client address to the server).
func dialSSHFrom(t *testing.T, src, addr string, hostKey ssh.PublicKey, signer ssh.Signer) (*ssh.Client, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:            "anyone",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
		Timeout:         10 * time.Second,
	}
	_ = nc.SetDeadline(time.Now().Add(15 * time.Second))
	c, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// serverGreets reads what the server sends first on a connection that sends
// nothing: its version line when it serves the connection, or nothing at
// all when it closed the connection at once.
func serverGreets(t *testing.T, c net.Conn) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	switch {
	case strings.HasPrefix(line, "SSH-2.0-"):
		return true
	case err != nil && !isTimeout(err):
		return false
	}
	t.Fatalf("the server neither greeted nor closed a connection: %q, %v", line, err)
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// closedByServer waits for the server to close c, reading whatever it
// sends; within is longer than the deadline the server should keep.
func closedByServer(t *testing.T, c net.Conn, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(within))
	_, err := io.Copy(io.Discard, c)
	if isTimeout(err) {
		t.Fatalf("the server still held a connection that never finished its handshake after %v", within)
	}
	return time.Since(start)
}

// TestSSHPreAuthentication drives the real daemon's SSH server as an
// attacker would before signing in, and as a user who does not type:
//   - a flood of idle TCP connections from one address takes a few slots
//     for that address, is refused at once past them, and does not lock
//     out a registered key from another address;
//   - a connection whose handshake never completes is closed at the
//     handshake deadline (PICLOUD_SSH_HANDSHAKE_TIMEOUT_SECONDS);
//   - a signed-in session without input ends after
//     PICLOUD_SSH_IDLE_TIMEOUT_SECONDS, telling the user why.
func TestSSHPreAuthentication(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	const handshake, idle = 5 * time.Second, 6 * time.Second
	bin := buildBinary(t)
	addr := freePort(t)
	d := newDaemon(t, bin, "PICLOUD_SSH_BIND="+addr,
		"PICLOUD_SSH_HANDSHAKE_TIMEOUT_SECONDS=5", "PICLOUD_SSH_IDLE_TIMEOUT_SECONDS=6")
	alice := newSigner(t)
	if out, err := d.picloud("alice's long password", "user", "add", "alice", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := d.picloud(authorizedKey(alice)+"\n", "user", "add-key", "alice"); err != nil {
		t.Fatalf("user add-key: %v\n%s", err, out)
	}
	d.start()
	raw, err := os.ReadFile(filepath.Join(d.dataDir, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatal(err)
	}
	host, err := ssh.ParsePrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	hostKey := host.PublicKey()

	t.Run("a flood of idle connections locks nobody out", func(t *testing.T) {
		// More idle connections from 127.0.0.1 than the 16 slots that
		// once were all the server had.
		const flood = 40
		var conns []net.Conn
		for range flood {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("connection %d of the flood: %v", len(conns)+1, err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		start := time.Now()
		var held []net.Conn
		for _, c := range conns {
			if serverGreets(t, c) {
				held = append(held, c)
			}
		}
		if len(held) > 4 {
			t.Errorf("the server holds %d idle connections from one address, want at most 4 (PICLOUD_SSH_MAX_UNAUTHENTICATED_PER_ADDRESS)", len(held))
		}
		if len(held) == 0 {
			t.Errorf("the server refused every connection from the address")
		}

		// A registered key from another address signs in and gets the
		// terminal UI while the flood holds its slots.
		c, err := dialSSHFrom(t, "127.0.0.2", addr, hostKey, alice)
		if err != nil {
			t.Fatalf("alice's key from 127.0.0.2 during a flood from 127.0.0.1: %v", err)
		}
		defer c.Close()
		s := openTUI(t, c)
		s.waitFor("ssh · alice (owner)")
		if since := time.Since(start); since >= handshake {
			t.Logf("signing in took %v, past the handshake deadline: the flood may have been gone", since)
		}
		c.Close()

		// The flood's connections end at the handshake deadline, and the
		// address may sign in again.
		for _, h := range held {
			closedByServer(t, h, handshake+15*time.Second)
		}
		c, err = dialSSHFrom(t, "127.0.0.1", addr, hostKey, alice)
		if err != nil {
			t.Fatalf("alice's key from 127.0.0.1 once the flood's connections ended: %v", err)
		}
		c.Close()
	})

	t.Run("a handshake that never completes is closed at the deadline", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !serverGreets(t, c) {
			t.Fatal("the server refused a lone connection")
		}
		// The client's version, then nothing: no key exchange.
		if _, err := io.WriteString(c, "SSH-2.0-stalled\r\n"); err != nil {
			t.Fatal(err)
		}
		took := closedByServer(t, c, handshake+15*time.Second)
		t.Logf("closed after %v (deadline %v)", took, handshake)
	})

	t.Run("a session without input ends after the idle timeout", func(t *testing.T) {
		c, err := dialSSHFrom(t, "127.0.0.3", addr, hostKey, alice)
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		defer c.Close()
		s := openTUI(t, c)
		s.waitFor("ssh · alice (owner)")
		select {
		case <-s.done:
		case <-time.After(idle + 30*time.Second):
			t.Fatalf("the session was still open %v after its last input (idle timeout %v)", idle+30*time.Second, idle)
		}
		s.waitFor("without input")
		// The connection is closed too, not only the session.
		if _, err := c.NewSession(); err == nil {
			t.Error("the idle connection still opens sessions")
		}
	})
}
