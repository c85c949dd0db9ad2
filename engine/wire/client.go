package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/picloud/picloud/engine"
)

// ErrClosed is wrapped by the error of calls that the connection's end
// interrupted; Client.Err says why it ended.
var ErrClosed = errors.New("wire: connection closed")

// maxKnownVersions bounds the set of script versions whose code a Client
// remembers having sent; past it the set starts over (the worker asks again
// for what it lacks).
const maxKnownVersions = 4096

// Client is the daemon's side of one worker connection: it sends
// invocations and matches results to their callers by request id. It is
// safe for concurrent use.
type Client struct {
	out  *writer
	data engine.DataService // nil: data calls fail

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*call
	known   map[string]struct{} // script versions whose code was sent
	closed  chan struct{}
	err     error
}

// call is one Execute waiting for its result.
type call struct {
	inv *engine.Invocation
	ch  chan *engine.Result
	// ctx ends when Execute returns: the data calls the execution made
	// and that still run are canceled with it.
	ctx       context.Context
	dataCalls atomic.Int64
	// effects is set, under Client.mu and before it is served, by the
	// execution's first data call or notice of an outbound call: from
	// then on something of it may have left the worker.
	effects bool
}

// ClientOption changes a Client.
type ClientOption func(*Client)

// WithData makes the client answer its executions' data calls with ds, for
// the app of the invocation each belongs to.
func WithData(ds engine.DataService) ClientOption {
	return func(c *Client) { c.data = ds }
}

// NewClient starts reading results from r. When r fails or ends, onBroken
// is called with the error (for instance to find out why the worker died)
// and must eventually call Close; a nil onBroken closes the client at once.
func NewClient(r io.Reader, w io.Writer, onBroken func(error), opts ...ClientOption) *Client {
	c := &Client{
		out:     newWriter(w),
		pending: map[uint64]*call{},
		known:   map[string]struct{}{},
		closed:  make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	go c.readLoop(bufio.NewReaderSize(r, 64<<10), onBroken)
	return c
}

func (c *Client) readLoop(r *bufio.Reader, onBroken func(error)) {
	for {
		f, err := ReadFrame(r)
		if err == nil && f.Kind != KindResult && f.Kind != KindNeedCode && f.Kind != KindData {
			err = fmt.Errorf("wire: unexpected frame kind %d from worker", f.Kind)
		}
		if err != nil {
			if onBroken != nil {
				onBroken(err)
			} else {
				c.Close(err)
			}
			return
		}
		c.mu.Lock()
		cl := c.pending[f.ID]
		switch {
		case f.Kind == KindResult:
			delete(c.pending, f.ID)
		case f.Kind == KindData && cl != nil && c.err != nil:
			cl = nil // closed: its Execute has returned, saying it made none
		case f.Kind == KindData && cl != nil:
			cl.effects = true
		}
		c.mu.Unlock()
		if cl == nil {
			continue
		}
		if f.Kind == KindData {
			go c.serveData(cl, f.ID, f.Payload)
			continue
		}
		if f.Kind == KindNeedCode {
			// Not from this goroutine: it must keep reading.
			go func() {
				if err := c.out.exec(f.ID, cl.inv, true); err != nil {
					c.Close(fmt.Errorf("wire: resend with code: %w", err))
				}
			}()
			continue
		}
		res, err := DecodeResult(f.Payload)
		if err != nil {
			res = &engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: err.Error()}, Logs: []engine.LogLine{}}
		}
		cl.ch <- res
	}
}

// Close fails every pending and later call with an error wrapping ErrClosed
// and cause. It is idempotent; the first cause stays.
func (c *Client) Close(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed:
		return
	default:
	}
	if cause == nil {
		cause = io.EOF
	}
	c.err = cause
	close(c.closed)
	c.out.close(false) // the worker is gone: do not wait on its pipe
}

// Err is why the client was closed, nil while it is open.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Pending is the number of calls waiting for a result.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// Execute sends inv and waits for its result. When ctx ends first, the
// worker is told to cancel the execution and Execute keeps waiting for the
// (canceled) result: the worker answers every request. Only the end of the
// connection makes it return an error. The code of a script version is
// sent with its first invocation only.
func (c *Client) Execute(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	res, err := c.ExecuteTracked(ctx, inv)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// ClosedError is the error of an ExecuteTracked call that the end of the
// connection interrupted. It wraps ErrClosed and the connection's cause.
type ClosedError struct {
	Err error
	// Effects says whether the execution had made a data call or told of
	// an outbound call before the connection ended: something of it may
	// have left the worker. False means nothing did.
	Effects bool
}

func (e *ClosedError) Error() string { return e.Err.Error() }

func (e *ClosedError) Unwrap() error { return e.Err }

// ExecuteTracked is Execute, with the error of an interrupted call a
// *ClosedError saying whether the execution had effects outside the
// worker.
func (c *Client) ExecuteTracked(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	cctx, cancel := context.WithCancel(ctx)
	if inv.Replay {
		cctx = engine.WithReplay(cctx)
	}
	if sc, ok := c.data.(engine.DataScoper); ok {
		// The execution's data scope ends when Execute returns, however
		// the execution ended (answered, canceled, its worker dead): its
		// calls are canceled, then what it left open is rolled back.
		var end func()
		cctx, end = sc.OpenScope(cctx)
		defer end()
	}
	defer cancel()
	cl := &call{inv: inv, ch: make(chan *engine.Result, 1), ctx: cctx}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, &ClosedError{Err: fmt.Errorf("%w: %w", ErrClosed, err)}
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = cl
	withCode := true
	if inv.ScriptID != "" {
		key := inv.ScriptID + "@" + strconv.Itoa(inv.Version)
		if _, ok := c.known[key]; ok {
			withCode = false
		} else {
			if len(c.known) >= maxKnownVersions {
				clear(c.known)
			}
			c.known[key] = struct{}{}
		}
	}
	c.mu.Unlock()
	if err := c.out.exec(id, inv, withCode); err != nil {
		effects := c.forget(id, cl)
		return nil, &ClosedError{Err: fmt.Errorf("%w: write: %w", ErrClosed, err), Effects: effects}
	}
	done := ctx.Done()
	for {
		select {
		case res := <-cl.ch:
			return res, nil
		case <-c.closed:
			effects := c.forget(id, cl)
			return nil, &ClosedError{Err: fmt.Errorf("%w: %w", ErrClosed, c.Err()), Effects: effects}
		case <-done:
			done = nil
			_ = c.out.frame(KindCancel, id, nil)
		}
	}
}

// serveData answers one data call of the execution cl with the data
// service, for cl's app: the worker's frame names only the call.
func (c *Client) serveData(cl *call, id uint64, payload []byte) {
	seq, dc, err := DecodeDataCall(payload)
	if err != nil {
		c.Close(fmt.Errorf("wire: %w", err))
		return
	}
	var res engine.DataResult
	var xe *engine.DataError
	switch max := cl.inv.Limits.MaxDataCalls; {
	case dc.Op == opOutbound: // noted by readLoop: only the answer is left
	case c.data == nil:
		xe = &engine.DataError{Code: engine.CodeDataUnavailable, Message: "this daemon has no data service"}
	case max > 0 && cl.dataCalls.Add(1) > int64(max):
		xe = &engine.DataError{Code: engine.CodeDataCallsLimit, Message: fmt.Sprintf("the script made more than %d data calls", max)}
	default:
		res, err = c.data.Call(cl.ctx, cl.inv.AppID, *dc)
		if err != nil {
			if !errors.As(err, &xe) {
				xe = &engine.DataError{Code: engine.CodeDataUnavailable, Message: err.Error()}
			}
		}
	}
	_ = c.out.dataResult(id, seq, &res, xe) // a write error ends the connection's reads too
}

// forget drops the call id and says whether it had effects (cl.effects).
func (c *Client) forget(id uint64, cl *call) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, id)
	return cl.effects
}

var _ engine.Executor = (*Client)(nil)
