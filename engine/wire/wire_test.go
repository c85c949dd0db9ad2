package wire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
	"github.com/picloud/picloud/engine"
)

// pair connects a Client to Serve over in-memory pipes.
func pair(t *testing.T, exec engine.Executor) *Client {
	t.Helper()
	reqR, reqW := io.Pipe()
	resR, resW := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- Serve(context.Background(), reqR, resW, exec); resW.Close() }()
	c := NewClient(resR, reqW, nil)
	t.Cleanup(func() {
		reqW.Close()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	return c
}

// barrier holds each execution until n are in Execute at once, then runs
// them all on next: executions served one at a time never get through.
type barrier struct {
	next    engine.Executor
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (b *barrier) Execute(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	b.mu.Lock()
	if b.arrived++; b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		return b.next.Execute(ctx, inv)
	case <-time.After(10 * time.Second):
		b.mu.Lock()
		defer b.mu.Unlock()
		return nil, fmt.Errorf("only %d of %d executions at once", b.arrived, b.n)
	}
}

// TestManyInFlight runs 20 executions on one connection: they run at once
// (the barrier lets none through until all 20 are in), and each gets its
// own answer.
func TestManyInFlight(t *testing.T) {
	x := &barrier{next: engine.NewInProcess(engine.Options{}), n: 20, all: make(chan struct{})}
	code, err := engine.Transpile(`export default { async fetch(req, env, ctx) {
		await new Promise(r => setTimeout(r, 50))
		return Response.json({ n: ctx.params.n, body: await req.text() })
	} }`, engine.JavaScript)
	if err != nil {
		t.Fatal(err)
	}
	c := pair(t, x)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Execute(context.Background(), &engine.Invocation{ScriptID: "s", Version: 1, Code: code,
				Params:  map[string]string{"n": fmt.Sprint(i)},
				Request: engine.Request{Method: "POST", URL: "http://pi/", Body: []byte{0, 1, 2, 'x'}}})
			if err != nil || res.Error != nil {
				t.Errorf("%d: %v %+v", i, err, res)
				return
			}
			want := fmt.Sprintf(`{"n":"%d","body":"\u0000\u0001\u0002x"}`, i)
			if string(res.Response.Body) != want {
				t.Errorf("%d: %s, want %s", i, res.Response.Body, want)
			}
		}()
	}
	wg.Wait()
}

func TestCancelAndClose(t *testing.T) {
	x := engine.NewInProcess(engine.Options{})
	code, _ := engine.Transpile(`export default { async fetch() { await new Promise(() => {}) } }`, engine.JavaScript)
	c := pair(t, x)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := c.Execute(ctx, &engine.Invocation{Code: code, Limits: engine.Limits{WallTime: 5 * time.Second}})
	if err != nil || res.Error == nil || res.Error.Code != engine.CodeCanceled {
		t.Fatalf("%v %+v", err, res)
	}
	c.Close(io.ErrClosedPipe)
	if _, err := c.Execute(context.Background(), &engine.Invocation{Code: code}); err == nil {
		t.Fatal("a closed client executed")
	}
}

func TestFrameLimits(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	// The pipe stays open: the client's error must come from the frame,
	// not from the end of its input.
	header := make([]byte, headerLen) // length, kind, id
	binary.BigEndian.PutUint32(header, MaxFrame+1)
	header[4] = byte(KindResult)
	go func() { _, _ = w.Write(header) }()
	c := NewClient(r, io.Discard, nil)
	testkit.Eventually(t, 10*time.Second, "the oversized frame is refused", func() error {
		if err := c.Err(); !errors.Is(err, ErrFrameTooLarge) {
			return fmt.Errorf("the client's error is %v", err)
		}
		return nil
	})
}

// codeCounter counts the invocations that arrive with their code.
type codeCounter struct {
	engine.Executor
	mu       sync.Mutex
	withCode map[string]int
}

func (c *codeCounter) Execute(ctx context.Context, inv *engine.Invocation) (*engine.Result, error) {
	if inv.Code != "" {
		c.mu.Lock()
		c.withCode[inv.ScriptID]++
		c.mu.Unlock()
	}
	return c.Executor.Execute(ctx, inv)
}

func TestCodeCrossesOncePerVersion(t *testing.T) {
	// A cache of one program: alternating scripts evict each other, and
	// the worker must ask for the code again.
	counter := &codeCounter{Executor: engine.NewInProcess(engine.Options{CacheSize: 1}), withCode: map[string]int{}}
	c := pair(t, counter)
	codes := map[string]string{}
	for _, id := range []string{"a", "b"} {
		code, err := engine.Transpile(`export default { fetch() { return new Response("`+id+`") } }`, engine.JavaScript)
		if err != nil {
			t.Fatal(err)
		}
		codes[id] = code
	}
	call := func(id string) {
		t.Helper()
		res, err := c.Execute(context.Background(), &engine.Invocation{ScriptID: id, Version: 1, Code: codes[id],
			Request: engine.Request{Method: "GET", URL: "http://pi/"}})
		if err != nil || res.Error != nil || string(res.Response.Body) != id {
			t.Fatalf("%s: %v %+v", id, err, res)
		}
	}
	for range 5 {
		call("a")
	}
	if counter.withCode["a"] != 1 {
		t.Errorf("five calls of one version sent its code %d times, want 1", counter.withCode["a"])
	}
	for range 3 {
		call("b")
		call("a")
	}
	if counter.withCode["a"] != 4 || counter.withCode["b"] != 3 {
		t.Errorf("after evictions the code was sent %v times, want a:4 b:3", counter.withCode)
	}
}

// countingWriter counts the Write calls that reach it.
type countingWriter struct {
	mu     sync.Mutex
	writes int
	buf    bytes.Buffer
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.buf.Write(p)
}

// Frames written in one burst share a write, and close(true) writes out
// what is still buffered before it returns.
func TestWriterFlushesOncePerBurst(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // the flusher runs only once the burst yields
	var cw countingWriter
	w := newWriter(&cw)
	for i := range 100 {
		if err := w.frame(KindCancel, uint64(i), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	w.close(true)
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.writes > 2 {
		t.Errorf("100 frames of one burst took %d writes", cw.writes)
	}
	r := bufio.NewReader(&cw.buf)
	for i := range 100 {
		f, err := ReadFrame(r)
		if err != nil || f.ID != uint64(i) || string(f.Payload) != "x" {
			t.Fatalf("frame %d: %+v %v", i, f, err)
		}
	}
	if err := w.frame(KindCancel, 1, nil); err != nil {
		// Frames after close stay buffered; only a write error fails them.
		t.Fatalf("a frame after close: %v", err)
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// A failed write fails the frames after it.
func TestWriterKeepsItsError(t *testing.T) {
	w := newWriter(errWriter{})
	_ = w.frame(KindCancel, 1, nil)
	w.close(true)
	if err := w.frame(KindCancel, 2, nil); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("after a failed flush: %v", err)
	}
}

// A frame over MaxFrame is refused without spoiling the stream.
func TestWriterRefusesTooLargeFrame(t *testing.T) {
	var cw countingWriter
	w := newWriter(&cw)
	if err := w.frame(KindCancel, 1, make([]byte, MaxFrame)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("a frame over MaxFrame: %v", err)
	}
	if err := w.frame(KindCancel, 2, nil); err != nil {
		t.Fatalf("the next frame: %v", err)
	}
	w.close(true)
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if f, err := ReadFrame(bufio.NewReader(&cw.buf)); err != nil || f.ID != 2 {
		t.Fatalf("what was written: %+v %v", f, err)
	}
}
