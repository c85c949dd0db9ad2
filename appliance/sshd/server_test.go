package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/picloud/picloud/appliance/testkit"
	"go.uber.org/goleak"
	"golang.org/x/crypto/ssh"
)

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

// adminAPI answers the few calls the terminal UI makes on its first
// screen: who the user is, and no apps.
func adminAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api/v1/admin/auth/me":
		_ = json.NewEncoder(w).Encode(map[string]string{"id": "u1", "username": "alice", "role": "owner"})
	case "/api/v1/admin/apps":
		_, _ = io.WriteString(w, "[]")
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"not found"}`)
	}
}

// testServer is a running Server that knows one user key, alice's.
type testServer struct {
	t     *testing.T
	srv   *Server
	host  ssh.PublicKey
	alice ssh.Signer
}

func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	host, alice := newSigner(t), newSigner(t)
	fp := ssh.FingerprintSHA256(alice.PublicKey())
	cfg.Addr = "127.0.0.1:0"
	cfg.HostKey = host
	cfg.Handler = http.HandlerFunc(adminAPI)
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.UserOfKey = func(_ context.Context, f string) (string, string, error) {
		if f != fp {
			return "", "", errors.New("unknown key")
		}
		return "u1", "alice", nil
	}
	srv, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testServer{t: t, srv: srv, host: host.PublicKey(), alice: alice}
}

func (ts *testServer) dial(signer ssh.Signer) (*ssh.Client, error) {
	return ssh.Dial("tcp", ts.srv.Addr().String(), &ssh.ClientConfig{
		User:            "anyone",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(ts.host),
		Timeout:         10 * time.Second,
	})
}

// screen is a session with a terminal, and what the server drew on it.
type screen struct {
	t    *testing.T
	sess *ssh.Session
	in   io.WriteCloser
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ansi.Strip(s.out.String())
}

func (s *screen) waitFor(want string) {
	s.t.Helper()
	testkit.Eventually(s.t, 20*time.Second, "the session shows "+want, func() error {
		if txt := s.text(); !strings.Contains(txt, want) {
			return fmt.Errorf("it showed:\n%s", txt)
		}
		return nil
	})
}

// ended waits for the session to end.
func (s *screen) ended() {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.t.Fatalf("the session did not end; it showed:\n%s", s.text())
	}
}

// shell opens a session with an 80×24 terminal and asks for the shell.
func shell(t *testing.T, c *ssh.Client) *screen {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s := &screen{t: t, sess: sess, done: make(chan error, 1)}
	sess.Stdout = s
	if s.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- sess.Wait() }()
	return s
}

// noLeaks waits until no goroutine is left but those in before, and fails
// naming those that are left when it gives up.
func noLeaks(t *testing.T, before goleak.Option) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, "no goroutine outlives its connection", func() error { return goleak.Find(before) })
}

// TestConnectionsLeaveNoGoroutines ends connections in every way a client
// can and checks that nothing of them stays behind in the running server:
// no goroutine waits for the server's end on a connection's behalf.
func TestConnectionsLeaveNoGoroutines(t *testing.T) {
	ts := startServer(t, Config{})
	before := goleak.IgnoreCurrent()

	// The terminal UI, left with q.
	c, err := ts.dial(ts.alice)
	if err != nil {
		t.Fatal(err)
	}
	s := shell(t, c)
	s.waitFor("alice (owner)")
	if _, err := io.WriteString(s.in, "q"); err != nil {
		t.Fatal(err)
	}
	s.ended()
	c.Close()

	// The terminal UI, the connection dropped under it.
	c, err = ts.dial(ts.alice)
	if err != nil {
		t.Fatal(err)
	}
	s = shell(t, c)
	s.waitFor("alice (owner)")
	c.Close()
	s.ended()

	// Signed in, no session.
	c, err = ts.dial(ts.alice)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	// A key nobody registered.
	if c, err := ts.dial(newSigner(t)); err == nil {
		c.Close()
		t.Fatal("an unknown key signed in")
	}

	// A connection that leaves in the middle of the handshake.
	nc, err := net.Dial("tcp", ts.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(nc, "SSH-2.0-leaving\r\n"); err != nil {
		t.Fatal(err)
	}
	nc.Close()

	noLeaks(t, before)
}

// sizes is a program that records the window sizes it is sent.
type sizes chan tea.WindowSizeMsg

func (sizes) Init() tea.Cmd { return nil }
func (s sizes) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m, ok := msg.(tea.WindowSizeMsg); ok {
		s <- m
	}
	return s, nil
}
func (sizes) View() string { return "" }

// TestWindowSizesArriveInOrder resizes the terminal many times in a row:
// the program gets the last size last, and never an older size after a
// newer one. Sizes it has not taken yet give way to newer ones (the
// resizer's design), the pty request's own among them when the resizes
// come before the program has started.
func TestWindowSizesArriveInOrder(t *testing.T) {
	got := make(sizes, 1000)
	ts := startServer(t, Config{newProgram: func(ctx context.Context, in io.Reader, out io.Writer) *tea.Program {
		return tea.NewProgram(got, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithoutSignalHandler())
	}})
	c, err := ts.dial(ts.alice)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := shell(t, c)
	const last = 80 + 300
	for w := 81; w <= last; w++ {
		if err := s.sess.WindowChange(24, w); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int
	timeout := time.After(20 * time.Second)
	for len(seen) == 0 || seen[len(seen)-1] != last {
		select {
		case m := <-got:
			seen = append(seen, m.Width)
		case <-timeout:
			t.Fatalf("the program never got the last size, %d; it got %v", last, seen)
		}
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("the program got width %d after %d: sizes out of order: %v", seen[i], seen[i-1], seen)
		}
	}
}

// TestResizerKeepsOrder hands over sizes faster than the program takes
// them: what it gets is in order, and ends with the last size.
func TestResizerKeepsOrder(t *testing.T) {
	r := newResizer()
	done := make(chan struct{})
	got := make(chan int, 10000)
	go r.run(done, func(m tea.Msg) { got <- m.(tea.WindowSizeMsg).Width })
	defer close(done)
	const last = 5000
	for w := 1; w <= last; w++ {
		r.set(w, 24)
	}
	prev := 0
	for prev != last {
		select {
		case w := <-got:
			if w <= prev {
				t.Fatalf("width %d after %d", w, prev)
			}
			prev = w
		case <-time.After(20 * time.Second):
			t.Fatalf("the last size never came; the last was %d", prev)
		}
	}
}

func TestGate(t *testing.T) {
	g := newGate(3, 2)
	addr := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	leaveA1, err := g.enter(addr("192.0.2.1:1000"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter(addr("192.0.2.1:1001")); err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter(addr("192.0.2.1:1002")); !errors.Is(err, errAddressFull) {
		t.Fatalf("a third connection from one address: %v, want %v", err, errAddressFull)
	}
	// The same address written as IPv4-mapped IPv6 is the same address.
	if _, err := g.enter(addr("[::ffff:192.0.2.1]:1003")); !errors.Is(err, errAddressFull) {
		t.Fatalf("the address mapped to IPv6: %v, want %v", err, errAddressFull)
	}
	if _, err := g.enter(addr("[2001:db8:1:2::7]:1000")); err != nil {
		t.Fatalf("another address: %v", err)
	}
	if _, err := g.enter(addr("192.0.2.9:1000")); !errors.Is(err, errHandshakesFull) {
		t.Fatalf("past the cap of all: %v, want %v", err, errHandshakesFull)
	}
	// Leaving twice gives back one slot.
	leaveA1()
	leaveA1()
	if _, err := g.enter(addr("192.0.2.9:1000")); err != nil {
		t.Fatalf("after one left: %v", err)
	}
	if _, err := g.enter(addr("192.0.2.10:1000")); !errors.Is(err, errHandshakesFull) {
		t.Fatalf("leaving twice freed two slots: %v", err)
	}
	// One IPv6 /64 is one address.
	g = newGate(10, 1)
	if _, err := g.enter(addr("[2001:db8:1:2::7]:1000")); err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter(addr("[2001:db8:1:2:ffff::1]:1000")); !errors.Is(err, errAddressFull) {
		t.Fatalf("another address of the same /64: %v, want %v", err, errAddressFull)
	}
	if _, err := g.enter(addr("[2001:db8:1:3::7]:1000")); err != nil {
		t.Fatalf("another /64: %v", err)
	}
}

// TestIdleConnectionEnds leaves a session without input: the server ends
// it, telling the user why, and closes the connection.
func TestIdleConnectionEnds(t *testing.T) {
	ts := startServer(t, Config{IdleTimeout: 2 * time.Second})
	before := goleak.IgnoreCurrent()
	c, err := ts.dial(ts.alice)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := shell(t, c)
	s.ended()
	s.waitFor("PiCloud: signed out after 2 seconds without input.")
	if err := c.Wait(); err == nil {
		t.Error("the connection ended without an error")
	}
	noLeaks(t, before)
}

// TestConnectionLifetimeEnds keeps typing: the connection still ends at
// its maximum lifetime.
func TestConnectionLifetimeEnds(t *testing.T) {
	ts := startServer(t, Config{MaxSessionTime: 3 * time.Second})
	c, err := ts.dial(ts.alice)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := shell(t, c)
	go func() {
		// Input all along: moving in the empty list changes nothing.
		for {
			if _, err := io.WriteString(s.in, "j"); err != nil {
				return
			}
			// The behaviour under test: a client typing all along.
			time.Sleep(50 * time.Millisecond)
		}
	}()
	s.ended()
	s.waitFor("PiCloud: signed out: a connection lasts at most 3 seconds.")
}

// TestSignedInCap fills the signed-in connections: one more signs in but
// gets no session, and is told why; once a slot is free, it gets one.
func TestSignedInCap(t *testing.T) {
	ts := startServer(t, Config{MaxConnections: 1})
	first, err := ts.dial(ts.alice)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// The first connection holds its slot once it has a session.
	shell(t, first).waitFor("alice (owner)")

	second, err := ts.dial(ts.alice)
	if err != nil {
		t.Fatalf("sign in past the cap: %v", err)
	}
	defer second.Close()
	_, err = second.NewSession()
	if err == nil || !strings.Contains(err.Error(), "at most 1 SSH connections") {
		t.Fatalf("a session past the cap: %v, want it refused with the reason", err)
	}
	first.Close()
	testkit.Eventually(t, 20*time.Second, "a session once the first connection left", func() error {
		c, err := ts.dial(ts.alice)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.NewSession()
		return err
	})
}

// TestKeysInOneWrite sends keys the way a laggy link delivers them, several
// in one write, and checks the terminal UI takes each, in order: / opens
// the filter, and the x and q after it are typed into it rather than q
// quitting.
func TestKeysInOneWrite(t *testing.T) {
	ts := startServer(t, Config{})
	c, err := ts.dial(ts.alice)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := shell(t, c)
	s.waitFor("alice (owner)")
	if _, err := io.WriteString(s.in, "/xq"); err != nil {
		t.Fatal(err)
	}
	s.waitFor("/xq")
	// ctrl+c quits from the filter too.
	if _, err := io.WriteString(s.in, "\x03"); err != nil {
		t.Fatal(err)
	}
	s.ended()
}
