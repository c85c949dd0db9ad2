package wire

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/picloud/picloud/engine"
)

// ErrClosed is wrapped by the error of calls that the connection's end
// interrupted; Client.Err says why it ended.
var ErrClosed = errors.New("wire: connection closed")

// Client is the daemon's side of one worker connection: it sends
// invocations and matches results to their callers by request id. It is
// safe for concurrent use.
type Client struct {
	out *writer

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan *engine.Result
	closed  chan struct{}
	err     error
}

// NewClient starts reading results from r. When r fails or ends, onBroken
// is called with the error (for instance to find out why the worker died)
// and must eventually call Close; a nil onBroken closes the client at once.
func NewClient(r io.Reader, w io.Writer, onBroken func(error)) *Client {
	c := &Client{
		out:     &writer{bw: bufio.NewWriterSize(w, 64<<10)},
		pending: map[uint64]chan *engine.Result{},
		closed:  make(chan struct{}),
	}
	go c.readLoop(bufio.NewReaderSize(r, 64<<10), onBroken)
	return c
}

func (c *Client) readLoop(r *bufio.Reader, onBroken func(error)) {
	for {
		f, err := ReadFrame(r)
		if err == nil && f.Kind != KindResult {
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
		res := new(engine.Result)
		if err := json.Unmarshal(f.Payload, res); err != nil {
			res = &engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: "wire: bad result: " + err.Error()}}
		}
		c.mu.Lock()
		ch := c.pending[f.ID]
		delete(c.pending, f.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- res
		}
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
// connection makes it return an error.
func (c *Client) Execute(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	payload, err := json.Marshal(inv)
	if err != nil {
		return nil, fmt.Errorf("wire: encode invocation: %w", err)
	}
	ch := make(chan *engine.Result, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.out.frame(KindExec, id, payload); err != nil {
		c.forget(id)
		return nil, fmt.Errorf("%w: write: %w", ErrClosed, err)
	}
	done := ctx.Done()
	for {
		select {
		case res := <-ch:
			return res, nil
		case <-c.closed:
			c.forget(id)
			return nil, fmt.Errorf("%w: %w", ErrClosed, c.Err())
		case <-done:
			done = nil
			_ = c.out.frame(KindCancel, id, nil)
		}
	}
}

func (c *Client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

var _ engine.Executor = (*Client)(nil)
