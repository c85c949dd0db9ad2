package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/picloud/picloud/engine"
)

// idleRunner is how long a finished execution's goroutine waits for the
// next one before it ends. Reusing goroutines keeps their stacks, which
// goja grows on every execution, warm.
const idleRunner = 30 * time.Second

// Serve is the worker's side: it reads Exec and Cancel frames from r, runs
// each invocation on exec in its own goroutine and writes each Result to w.
// It returns when r ends (the daemon closed the pipe or died) or ctx ends,
// after the running executions have been canceled and have answered.
func Serve(ctx context.Context, r io.Reader, w io.Writer, exec engine.Executor) error {
	ctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	br := bufio.NewReaderSize(r, 64<<10)
	out := newWriter(w)
	defer out.close(true) // after the executions below have answered

	var mu sync.Mutex
	running := map[uint64]context.CancelFunc{}
	conns := map[uint64]*execConn{} // by Exec id, for their data calls
	var wg sync.WaitGroup
	defer wg.Wait()
	jobs := make(chan func())

	go func() {
		<-ctx.Done()
		// Unblock a pending read when the context ends first.
		if c, ok := r.(io.Closer); ok {
			_ = c.Close()
		}
	}()
	for {
		f, err := ReadFrame(br)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("wire: read: %w", err)
		}
		switch f.Kind {
		case KindExec:
			inv, err := DecodeInvocation(f.Payload)
			if err != nil {
				res := &engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: err.Error()}, Logs: []engine.LogLine{}}
				if err := out.result(f.ID, res); err != nil {
					return err
				}
				continue
			}
			conn := &execConn{out: out, id: f.ID, pending: map[uint64]chan dataReply{}}
			ectx, cancel := context.WithCancelCause(context.WithValue(ctx, execKey{}, conn))
			mu.Lock()
			running[f.ID] = func() { cancel(context.Canceled) }
			conns[f.ID] = conn
			mu.Unlock()
			wg.Add(1)
			id := f.ID
			job := func() {
				defer wg.Done()
				res, err := exec.Execute(ectx, inv)
				cancel(nil)
				mu.Lock()
				delete(running, id)
				delete(conns, id)
				mu.Unlock()
				if errors.Is(err, engine.ErrCodeNeeded) {
					_ = out.frame(KindNeedCode, id, nil)
					return
				}
				if err != nil {
					res = &engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: err.Error()}, Logs: []engine.LogLine{}}
				}
				_ = out.result(id, res) // a write error ends the read loop too
			}
			select {
			case jobs <- job: // an idle runner took it
			default:
				go runner(ctx, jobs, job)
			}
		case KindDataResult:
			mu.Lock()
			conn := conns[f.ID]
			mu.Unlock()
			if conn != nil {
				if err := conn.deliver(f.Payload); err != nil {
					return fmt.Errorf("wire: %w", err)
				}
			}
		case KindCancel:
			mu.Lock()
			if c := running[f.ID]; c != nil {
				c()
			}
			mu.Unlock()
		default:
			return fmt.Errorf("wire: unexpected frame kind %d", f.Kind)
		}
	}
}

// runner runs job, then the jobs it receives while it stays busy enough.
func runner(ctx context.Context, jobs <-chan func(), job func()) {
	idle := time.NewTimer(idleRunner)
	defer idle.Stop()
	for {
		job()
		idle.Reset(idleRunner)
		select {
		case job = <-jobs:
		case <-idle.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// writer serialises frames from concurrent goroutines into one buffer and
// flushes it from a goroutine of its own, which first yields to the
// goroutines ready to run: the frames they write meanwhile (other results
// of a burst, other requests) share its one system call. A write error
// fails the frames written after it.
type writer struct {
	mu      sync.Mutex
	bw      *bufio.Writer
	buf     []byte // encoding scratch, guarded by mu
	err     error  // the first write error, guarded by mu
	dirty   bool   // frames wait for the flusher, guarded by mu
	kick    chan struct{}
	done    chan struct{} // closed by close
	stopped chan struct{} // closed by the flusher as it ends
	once    sync.Once
}

func newWriter(w io.Writer) *writer {
	wr := &writer{bw: bufio.NewWriterSize(w, 64<<10), kick: make(chan struct{}, 1), done: make(chan struct{}),
		stopped: make(chan struct{})}
	go wr.flusher()
	return wr
}

func (w *writer) result(id uint64, res *engine.Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = AppendResult(w.buf[:0], res)
	if len(w.buf) > MaxFrame-9 {
		w.buf = AppendResult(w.buf[:0], &engine.Result{Logs: []engine.LogLine{}, Duration: res.Duration,
			Error: &engine.ExecError{Code: engine.CodeOutputLimit, Message: fmt.Sprintf(
				"the result is larger than the %d MiB an executor can send", MaxFrame>>20)}})
	}
	return w.put(KindResult, id, w.buf)
}

func (w *writer) exec(id uint64, inv *engine.Invocation, withCode bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = appendInvocation(w.buf[:0], inv, withCode)
	return w.put(KindExec, id, w.buf)
}

func (w *writer) frame(kind Kind, id uint64, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.put(kind, id, payload)
}

// put buffers one frame under w.mu and wakes the flusher.
func (w *writer) put(kind Kind, id uint64, payload []byte) error {
	if w.err != nil {
		return w.err
	}
	if err := WriteFrame(w.bw, kind, id, payload); err != nil { // a frame larger than the buffer is written at once
		if !errors.Is(err, ErrFrameTooLarge) { // refused before a byte was written: the stream is intact
			w.err = err
		}
		return err
	}
	if len(w.buf) > 1<<20 {
		w.buf = nil // do not keep a large body's buffer
	}
	if !w.dirty {
		w.dirty = true
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// flusher writes out the buffered frames each time it is woken, after
// letting the goroutines that are ready run first.
func (w *writer) flusher() {
	defer close(w.stopped)
	for {
		select {
		case <-w.kick:
		case <-w.done:
			w.flush()
			return
		}
		runtime.Gosched()
		w.flush()
	}
}

func (w *writer) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dirty = false
	if w.err == nil {
		w.err = w.bw.Flush()
	}
}

// close stops the flusher after a last flush of what is buffered, and
// waits for that when wait is set.
func (w *writer) close(wait bool) {
	w.once.Do(func() { close(w.done) })
	if wait {
		<-w.stopped
	}
}
