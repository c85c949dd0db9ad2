package wire

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/picloud/picloud/engine"
)

// RemoteData is the data service of an engine in a worker process: it
// sends each call to the daemon over the connection of the Exec that made
// it (which Serve puts in the execution's context) and waits for the
// answer or the end of the execution. The app argument is ignored: the
// daemon serves the app of the Exec it sent.
var RemoteData engine.DataService = remoteData{}

type remoteData struct{}

type execKey struct{}

// execConn is one running Exec's side of the data calls.
type execConn struct {
	out *writer
	id  uint64

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan dataReply
}

type dataReply struct {
	res *engine.DataResult
	xe  *engine.DataError
}

func (remoteData) Call(ctx context.Context, _ string, call engine.DataCall) (engine.DataResult, error) {
	x, _ := ctx.Value(execKey{}).(*execConn)
	if x == nil {
		return engine.DataResult{}, errors.New("wire: a data call outside of a served execution")
	}
	ch := make(chan dataReply, 1)
	x.mu.Lock()
	x.next++
	seq := x.next
	x.pending[seq] = ch
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		delete(x.pending, seq)
		x.mu.Unlock()
	}()
	if err := x.out.data(x.id, seq, &call); err != nil {
		return engine.DataResult{}, fmt.Errorf("wire: send a data call: %w", err)
	}
	select {
	case r := <-ch:
		if r.xe != nil {
			return engine.DataResult{}, r.xe
		}
		return *r.res, nil
	case <-ctx.Done():
		return engine.DataResult{}, context.Cause(ctx)
	}
}

// opOutbound is the data call by which an execution tells the daemon, and
// waits for it to take note, that an outbound call is about to leave.
const opOutbound = "picloud.outbound"

// NoticeOutbound tells the daemon that the execution of ctx is about to
// make an outbound call, and returns once the daemon has taken note.
func (r remoteData) NoticeOutbound(ctx context.Context) error {
	_, err := r.Call(ctx, "", engine.DataCall{Op: opOutbound})
	return err
}

var _ engine.OutboundNoticer = remoteData{}

// deliver hands a DataResult frame's payload to the call waiting for it;
// an answer nobody waits for any more is dropped.
func (x *execConn) deliver(p []byte) error {
	seq, res, xe, err := DecodeDataResult(p)
	if err != nil {
		return err
	}
	x.mu.Lock()
	ch := x.pending[seq]
	x.mu.Unlock()
	if ch != nil {
		ch <- dataReply{res: res, xe: xe}
	}
	return nil
}

func (w *writer) data(id, seq uint64, call *engine.DataCall) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = AppendDataCall(w.buf[:0], seq, call)
	return w.put(KindData, id, w.buf)
}

func (w *writer) dataResult(id, seq uint64, res *engine.DataResult, xe *engine.DataError) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = AppendDataResult(w.buf[:0], seq, res, xe)
	if len(w.buf) > MaxFrame-9 {
		w.buf = AppendDataResult(w.buf[:0], seq, nil, &engine.DataError{Code: engine.CodeDataTooLarge,
			Message: fmt.Sprintf("the result is larger than the %d MiB a data call can return", MaxFrame>>20)})
	}
	return w.put(KindDataResult, id, w.buf)
}
