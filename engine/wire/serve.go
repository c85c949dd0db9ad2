package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
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

	var mu sync.Mutex
	running := map[uint64]context.CancelFunc{}
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
			ectx, cancel := context.WithCancelCause(ctx)
			mu.Lock()
			running[f.ID] = func() { cancel(context.Canceled) }
			mu.Unlock()
			wg.Add(1)
			id := f.ID
			job := func() {
				defer wg.Done()
				res, err := exec.Execute(ectx, inv)
				cancel(nil)
				mu.Lock()
				delete(running, id)
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

// writer serialises frames from concurrent goroutines and flushes once per
// burst: the last writer of a burst flushes for those before it.
type writer struct {
	waiting atomic.Int32
	mu      sync.Mutex
	bw      *bufio.Writer
	buf     []byte // encoding scratch, guarded by mu
}

func newWriter(w io.Writer) *writer { return &writer{bw: bufio.NewWriterSize(w, 64<<10)} }

func (w *writer) result(id uint64, res *engine.Result) error {
	w.waiting.Add(1)
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
	w.waiting.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = appendInvocation(w.buf[:0], inv, withCode)
	return w.put(KindExec, id, w.buf)
}

func (w *writer) frame(kind Kind, id uint64, payload []byte) error {
	w.waiting.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.put(kind, id, payload)
}

// put writes one frame under w.mu, and flushes unless another writer is
// waiting for the lock (it will flush).
func (w *writer) put(kind Kind, id uint64, payload []byte) error {
	err := WriteFrame(w.bw, kind, id, payload)
	if len(w.buf) > 1<<20 {
		w.buf = nil // do not keep a large body's buffer
	}
	if w.waiting.Add(-1) > 0 && err == nil {
		return nil
	}
	if ferr := w.bw.Flush(); err == nil {
		err = ferr
	}
	return err
}
