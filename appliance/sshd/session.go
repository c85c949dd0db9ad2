package sshd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"golang.org/x/crypto/ssh"

	"github.com/picloud/picloud/tui"
	"github.com/picloud/picloud/tui/client"
)

// session is one SSH session: a terminal, and the program drawn on it.
type session struct {
	srv  *Server
	conn *signedInConn
	ch   ssh.Channel
	// ctx ends with the session, and with its connection.
	ctx context.Context

	term          string
	width, height int
	env           map[string]string

	prog *tea.Program
	// exited is closed when the program has ended; nil before it runs.
	exited chan struct{}
	sizes  *resizer
}

// session serves one SSH session: it waits for the terminal (pty-req) and
// the shell request, then runs the terminal UI until the user quits, the
// client leaves or the connection ends. Whatever ends it, the program has
// ended when it returns.
func (s *Server) session(c *signedInConn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	// Requests the client still sends are refused until the channel is
	// gone: the connection reads nothing more while one waits.
	defer drain(reqs)
	defer ch.Close()
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	ss := &session{srv: s, conn: c, ch: ch, ctx: ctx, width: 80, height: 24, env: map[string]string{}, sizes: newResizer()}
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				// The client closed the session, or left.
				cancel()
				ss.wait()
				return
			}
			if ss.request(req) {
				return
			}
		case <-ss.exited:
			ss.end()
			return
		case <-ctx.Done():
			ss.wait()
			ss.end()
			return
		}
	}
}

// request answers one request of the session; done says the session is
// over.
func (ss *session) request(req *ssh.Request) (done bool) {
	switch req.Type {
	case "pty-req":
		ss.term, ss.width, ss.height = parsePty(req.Payload)
		_ = req.Reply(true, nil)
	case "env":
		var kv struct{ Name, Value string }
		if ssh.Unmarshal(req.Payload, &kv) == nil {
			ss.env[kv.Name] = kv.Value
		}
		_ = req.Reply(true, nil)
	case "window-change":
		if len(req.Payload) >= 8 {
			ss.width, ss.height = clampSize(int(binary.BigEndian.Uint32(req.Payload)), int(binary.BigEndian.Uint32(req.Payload[4:])))
			if ss.prog != nil {
				ss.sizes.set(ss.width, ss.height)
			}
			ss.conn.touch()
		}
		_ = req.Reply(false, nil)
	case "shell":
		return ss.shell(req)
	default:
		// exec, subsystem (sftp), x11, agent forwarding: not served.
		_ = req.Reply(false, nil)
	}
	return false
}

// shell starts the terminal UI, once, on a session with a terminal.
func (ss *session) shell(req *ssh.Request) (done bool) {
	if ss.prog != nil {
		_ = req.Reply(false, nil)
		return false
	}
	_ = req.Reply(true, nil)
	if ss.term == "" {
		fmt.Fprint(ss.ch, "PiCloud serves its terminal UI here, which needs a terminal: connect with ssh -t.\r\n")
		_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{1}))
		return true
	}
	in := activity{Reader: ss.ch, touch: ss.conn.touch}
	ss.prog = ss.srv.program(ss.ctx, in, ss.ch, ss.conn, ss.term, ss.env)
	exited, prog, log := make(chan struct{}), ss.prog, ss.srv.log
	ss.exited = exited
	go func() {
		defer close(exited)
		if _, err := prog.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			log.Warn("terminal UI ended with an error", "err", err)
		}
	}()
	ss.sizes.set(ss.width, ss.height)
	go ss.sizes.run(exited, prog.Send)
	return false
}

// wait waits for the program to end, if it runs; the session's context
// has ended, which kills it.
func (ss *session) wait() {
	if ss.exited != nil {
		<-ss.exited
	}
}

// end tells the client how the session ended: why, when the server ended
// its connection, and an exit status.
func (ss *session) end() {
	status := uint32(0)
	if ss.ctx.Err() != nil {
		fmt.Fprintf(ss.ch, "\r\nPiCloud: %v.\r\n", context.Cause(ss.ctx))
		status = 1
	}
	_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
}

// drain refuses the requests of a session that is over until its channel
// is gone.
func drain(reqs <-chan *ssh.Request) {
	for req := range reqs {
		_ = req.Reply(false, nil)
	}
}

// activity is a session's input, which tells the connection each time
// the user typed something.
type activity struct {
	io.Reader
	touch func()
}

func (a activity) Read(p []byte) (int, error) {
	n, err := a.Reader.Read(p)
	if n > 0 {
		a.touch()
	}
	return n, err
}

// resizer hands a session's terminal sizes to its program from one
// goroutine, in the order the client sent them. A size the program has not
// taken yet gives way to a newer one, so that a client resizing fast never
// holds up its session, and the program always ends up with the last size.
type resizer struct {
	mu      sync.Mutex
	pending tea.WindowSizeMsg
	has     bool
	wake    chan struct{}
}

func newResizer() *resizer { return &resizer{wake: make(chan struct{}, 1)} }

// set makes w×h the size to hand over next.
func (r *resizer) set(w, h int) {
	r.mu.Lock()
	r.pending, r.has = tea.WindowSizeMsg{Width: w, Height: h}, true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run hands each size over with send until done is closed.
func (r *resizer) run(done <-chan struct{}, send func(tea.Msg)) {
	for {
		select {
		case <-done:
			return
		case <-r.wake:
		}
		r.mu.Lock()
		msg, has := r.pending, r.has
		r.has = false
		r.mu.Unlock()
		if has {
			send(msg)
		}
	}
}

// program is the terminal UI for one session of the connection c, acting
// as its user, until ctx ends.
func (s *Server) program(ctx context.Context, in io.Reader, out io.Writer, c *signedInConn, term string, env map[string]string) *tea.Program {
	if s.cfg.newProgram != nil {
		return s.cfg.newProgram(ctx, in, out)
	}
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return s.pipe.Dial(ctx, c.id) },
		// One in-process connection per request, closed after it: none
		// stays in an idle pool once the session is over.
		DisableKeepAlives: true,
	}}
	r := lipgloss.NewRenderer(out)
	r.SetColorProfile(colorProfile(term, env))
	_, noColor := env["NO_COLOR"]
	opt := tui.Options{Client: client.New("http://localhost", hc, ""), Renderer: r, NoColor: noColor, Via: "ssh", SessionKey: c.key}
	return tui.NewProgram(ctx, in, out, opt, tea.WithoutSignalHandler())
}

// colorProfile guesses what the client's terminal draws from its TERM and
// COLORTERM.
func colorProfile(term string, env map[string]string) termenv.Profile {
	switch {
	case term == "dumb":
		return termenv.Ascii
	case env["COLORTERM"] == "truecolor" || env["COLORTERM"] == "24bit":
		return termenv.TrueColor
	case strings.Contains(term, "256color"):
		return termenv.ANSI256
	}
	return termenv.ANSI
}

// parsePty reads a pty-req: the terminal type and its size in characters.
func parsePty(p []byte) (term string, w, h int) {
	var req struct {
		Term          string
		Width, Height uint32
		PxW, PxH      uint32
		Modes         string
	}
	if ssh.Unmarshal(p, &req) != nil {
		return "xterm", 80, 24
	}
	w, h = clampSize(int(req.Width), int(req.Height))
	return req.Term, w, h
}

// clampSize keeps a terminal size within reason: 80×24 when unknown, at
// most maxWidth×maxHeight.
func clampSize(w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return 80, 24
	}
	return min(w, maxWidth), min(h, maxHeight)
}
