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

// Serve is the worker's side: it reads Exec and Cancel frames from r, runs
// each invocation on exec in its own goroutine and writes each Result to w.
// It returns when r ends (the daemon closed the pipe or died) or ctx ends,
// after the running executions have been canceled and have answered.
func Serve(ctx context.Context, r io.Reader, w io.Writer, exec engine.Executor) error {
	ctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	br := bufio.NewReaderSize(r, 64<<10)
	out := &writer{bw: bufio.NewWriterSize(w, 64<<10)}

	var mu sync.Mutex
	running := map[uint64]context.CancelFunc{}
	var wg sync.WaitGroup
	defer wg.Wait()

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
			inv := new(engine.Invocation)
			if err := json.Unmarshal(f.Payload, inv); err != nil {
				res := &engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: "wire: bad invocation: " + err.Error()}, Logs: []engine.LogLine{}}
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
			go func(id uint64) {
				defer wg.Done()
				res, err := exec.Execute(ectx, inv)
				cancel(nil)
				mu.Lock()
				delete(running, id)
				mu.Unlock()
				if err != nil {
					res = &engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: err.Error()}, Logs: []engine.LogLine{}}
				}
				_ = out.result(id, res) // a write error ends the read loop too
			}(f.ID)
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

// writer serialises frames from concurrent goroutines.
type writer struct {
	mu sync.Mutex
	bw *bufio.Writer
}

func (w *writer) result(id uint64, res *engine.Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		b, _ = json.Marshal(&engine.Result{Error: &engine.ExecError{Code: engine.CodeInternal, Message: "wire: encode result: " + err.Error()}, Logs: []engine.LogLine{}})
	}
	return w.frame(KindResult, id, b)
}

func (w *writer) frame(kind Kind, id uint64, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := WriteFrame(w.bw, kind, id, payload); err != nil {
		return err
	}
	return w.bw.Flush()
}
