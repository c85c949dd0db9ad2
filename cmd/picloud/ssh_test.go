package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/picloud/picloud/appliance/testkit"
	"golang.org/x/crypto/ssh"
)

// newSigner makes a fresh ed25519 key.
func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func authorizedKey(s ssh.Signer) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey()))) + " test@laptop"
}

// offerOneSignAnother offers one public key but signs with another key's
// private half, as a client would that knows someone's public key only.
type offerOneSignAnother struct {
	offered ssh.PublicKey
	signer  ssh.Signer
}

func (o offerOneSignAnother) PublicKey() ssh.PublicKey { return o.offered }
func (o offerOneSignAnother) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	return o.signer.Sign(r, data)
}

// offerOnly offers a public key without being able to sign with it, as a
// client does that holds someone's public key but not its private half: the
// server is asked about the key, and no signature follows.
type offerOnly struct{ pub ssh.PublicKey }

func (o offerOnly) PublicKey() ssh.PublicKey { return o.pub }
func (o offerOnly) Sign(io.Reader, []byte) (*ssh.Signature, error) {
	return nil, errors.New("no private key")
}

// dialOffering offers each key of offered without signing, in order, then
// signs in with signer.
func dialOffering(t *testing.T, addr string, hostKey ssh.PublicKey, signer ssh.Signer, offered ...ssh.PublicKey) (*ssh.Client, error) {
	t.Helper()
	var next []ssh.AuthMethod
	for _, pub := range offered[1:] {
		next = append(next, ssh.PublicKeys(offerOnly{pub}))
	}
	next = append(next, ssh.PublicKeys(signer))
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "anyone",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(offerOnly{offered[0]})},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
		Timeout:         10 * time.Second,
		// After each failed attempt, the next method, whatever was tried.
		AuthCallback: func(*ssh.ClientAuthContext) (ssh.AuthMethod, error) {
			if len(next) == 0 {
				return nil, errors.New("no more keys")
			}
			m := next[0]
			next = next[1:]
			return m, nil
		},
	})
}

// sshScreen is an SSH session running the terminal UI in an 80×24 pty.
type sshScreen struct {
	t    *testing.T
	sess *ssh.Session
	in   io.WriteCloser
	mu   sync.Mutex
	out  bytes.Buffer
	mark int // waitFor looks at what came after the last keys
	done chan error
}

func (s *sshScreen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ansi.Strip(s.out.String())
}

// waitFor waits until the session shows want after the last keys sent.
func (s *sshScreen) waitFor(want string) {
	s.t.Helper()
	testkit.Eventually(s.t, 20*time.Second, "the SSH session shows "+want, func() error {
		txt := s.text()
		if strings.Contains(txt[min(s.mark, len(txt)):], want) {
			return nil
		}
		return fmt.Errorf("it showed:\n%s", txt)
	})
}

// send types keys; waitFor then looks at what comes after them.
func (s *sshScreen) send(keys string) {
	s.t.Helper()
	s.mark = len(s.text())
	if _, err := io.WriteString(s.in, keys); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sshScreen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

// dialSSH signs in with the given keys; the host key must be the one in
// the daemon's data directory.
func dialSSH(t *testing.T, addr string, hostKey ssh.PublicKey, signers ...ssh.Signer) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "anyone",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
		Timeout:         10 * time.Second,
	})
}

// openTUI opens a session with a terminal and starts the terminal UI.
func openTUI(t *testing.T, c *ssh.Client) *sshScreen {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s := &sshScreen{t: t, sess: sess, done: make(chan error, 1)}
	sess.Stdout = s
	if s.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Setenv("NO_COLOR", "1"); err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- sess.Wait() }()
	t.Cleanup(func() { sess.Close() })
	return s
}

// TestSSHEndToEnd signs in to the real daemon's SSH server: a registered
// key gets the terminal UI as its user; an unregistered key, or a
// registered one offered and signed with another key, gets nothing; a
// client that offers one user's key and signs with another user's is the
// other user.
func TestSSHEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	addr := freePort(t)
	d := newDaemon(t, bin, "PICLOUD_SSH_BIND="+addr)
	alice, carol, stranger := newSigner(t), newSigner(t), newSigner(t)
	if out, err := d.picloud("alice's long password", "user", "add", "alice", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := d.picloud(authorizedKey(alice)+"\n", "user", "add-key", "alice"); err != nil || !strings.Contains(out, "added ssh-ed25519 key SHA256:") {
		t.Fatalf("user add-key: %v\n%s", err, out)
	}
	// The same key again: refused, naming its fingerprint.
	if out, err := d.picloud(authorizedKey(alice)+"\n", "user", "add-key", "alice"); err == nil ||
		!strings.Contains(out, "this key ("+ssh.FingerprintSHA256(alice.PublicKey())+") is already registered") {
		t.Fatalf("user add-key with a registered key: %v\n%s", err, out)
	}
	if out, err := d.picloud("not a key", "user", "add-key", "alice"); err == nil || !strings.Contains(out, "authorized_keys") {
		t.Fatalf("user add-key with a bad key: %v\n%s", err, out)
	}
	d.start()

	// The host key was made on the first start, for the daemon's user only.
	raw, err := os.ReadFile(filepath.Join(d.dataDir, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(d.dataDir, "ssh_host_ed25519_key")); st.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %v, want 0600", st.Mode().Perm())
	}
	host, err := ssh.ParsePrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	hostKey := host.PublicKey()

	// Carol, a member, registers her key through the API.
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"alice","password":"alice's long password"}`)
	d.token = login.field(t, "token").(string)
	created := d.call("POST", "/api/v1/admin/users", `{"username":"carol","password":"carol's long password"}`)
	d.expect(created, 201)
	carolID := created.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/users/"+carolID+"/keys", mustJSON(map[string]string{"public_key": authorizedKey(carol)})), 201, `"fingerprint":"SHA256:`)

	// A registered key: the terminal UI, as alice.
	c, err := dialSSH(t, addr, hostKey, alice)
	if err != nil {
		t.Fatalf("sign in with alice's key: %v", err)
	}
	s := openTUI(t, c)
	s.waitFor("ssh · alice (owner)")
	s.waitFor("default")
	// Other requests than the terminal UI are refused.
	if sess, err := c.NewSession(); err == nil {
		if out, err := sess.CombinedOutput("cat /etc/passwd"); err == nil {
			t.Errorf("exec over SSH succeeded: %s", out)
		}
	}
	if _, err := io.WriteString(s.in, "q"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("session after q: %v, want exit status 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end on q")
	}
	c.Close()

	// Unregistered: refused.
	if c, err := dialSSH(t, addr, hostKey, stranger); err == nil {
		c.Close()
		t.Fatal("an unregistered key signed in")
	}
	// Alice's public key offered, signed with the stranger's private key:
	// nothing.
	if c, err := dialSSH(t, addr, hostKey, offerOneSignAnother{alice.PublicKey(), stranger}); err == nil {
		c.Close()
		t.Fatal("a registered key offered without its private key signed in")
	}
	// Alice's key offered and signed with carol's, then carol's own: the
	// bad signature ends the connection, so the client is nobody rather
	// than alice.
	if c, err := dialSSH(t, addr, hostKey, offerOneSignAnother{alice.PublicKey(), carol}, carol); err == nil {
		c.Close()
		t.Fatal("a client that signed alice's offered key with carol's signed in")
	}
	// Alice's key offered, never signed, then the stranger's signed:
	// nothing.
	if c, err := dialOffering(t, addr, hostKey, stranger, alice.PublicKey()); err == nil {
		c.Close()
		t.Fatal("offering alice's key and signing with an unregistered one signed in")
	}
	// Alice's key offered, never signed, then carol's signed — and carol's
	// offered first too, so that the server was last asked about alice:
	// each time the session is carol's, with a member's rights.
	c, err = dialOffering(t, addr, hostKey, carol, carol.PublicKey(), alice.PublicKey())
	if err != nil {
		t.Fatalf("sign in offering carol's and alice's keys, signing with carol's: %v", err)
	}
	s = openTUI(t, c)
	s.waitFor("ssh · carol (member)")
	if strings.Contains(s.text(), "alice (owner)") {
		t.Fatal("the session shows alice, whose key was only offered")
	}
	c.Close()
	c, err = dialOffering(t, addr, hostKey, carol, alice.PublicKey())
	if err != nil {
		t.Fatalf("sign in offering alice's key, signing with carol's: %v", err)
	}
	defer c.Close()
	s = openTUI(t, c)
	s.waitFor("ssh · carol (member)")
	if strings.Contains(s.text(), "alice (owner)") {
		t.Fatal("the session shows alice, whose key was only offered")
	}
	// Of the apps carol may read none, and users are not hers to manage:
	// every key is listed (?), users not among them, and u opens nothing.
	s.waitFor("no apps you may read")
	s.send("?")
	s.waitFor("your SSH keys")
	if strings.Contains(s.text()[s.mark:], "users") {
		t.Fatal("a member's session offers the users screen")
	}
	s.send("?")
	s.send("u")
	// Her own keys she may see: the one she signed in with.
	s.send("s")
	s.waitFor(ssh.FingerprintSHA256(carol.PublicKey()))

	// The audit log has each sign-in, with the key that signed it; the
	// key's last use is recorded, and a key only offered was not used.
	audit := d.call("GET", "/api/v1/admin/audit?limit=100", "")
	d.expect(audit, 200, `"action":"session.ssh"`, `"username":"carol"`, `"remote":"ssh 127.0.0.1:`, ssh.FingerprintSHA256(carol.PublicKey()))
	if n := strings.Count(audit.body, `"action":"session.ssh"`); n != 3 {
		t.Errorf("%d SSH sign-ins in the audit log, want 3 (alice once, carol twice)", n)
	}
	keys := d.call("GET", "/api/v1/admin/users/"+carolID+"/keys", "")
	d.expect(keys, 200, `"last_used_at":"`)

	// The daemon's log names who signed in with which key.
	d.stop()
	if !strings.Contains(d.output.String(), "SSH sign-in") || !strings.Contains(d.output.String(), "user=carol") {
		t.Errorf("no sign-in in the daemon's log:\n%s", d.output)
	}
}
