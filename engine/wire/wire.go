// Package wire is the protocol between the daemon and its executor worker
// processes: length-prefixed frames, each carrying a kind, a request id and a
// binary payload (see codec.go), multiplexed so that several executions are
// in flight on one worker at once.
//
// A frame is a 4-byte big-endian length of the rest, a 1-byte kind, an 8-byte
// big-endian request id and the payload. The daemon sends Exec (an
// engine.Invocation) and Cancel (no payload); the worker answers each Exec
// with exactly one Result (an engine.Result), or with NeedCode when the Exec
// named a script version without its code and the worker has not compiled
// it: the daemon then sends the Exec again with the code. So each version's
// code crosses the pipe once per worker, not once per request.
//
// While an Exec runs, the worker may send Data frames, each a data call of
// the script (kv …) with the Exec's id, which the daemon answers with a
// DataResult. The daemon serves them for the app of the Exec it sent, never
// one the worker names, and stops serving them once the Exec has answered.
//
// Each end writes its frames into a buffer that a goroutine of its own
// flushes after yielding to the goroutines ready to run, so that under load
// the frames of a burst (results finishing together, requests arriving
// together) share one system call and one wake-up of the other end. The package knows nothing of processes: both ends take an
// io.Reader and an io.Writer.
package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Kind is the type of a frame.
type Kind byte

// Frame kinds.
const (
	KindExec   Kind = 1 // daemon → worker: run an engine.Invocation
	KindCancel Kind = 2 // daemon → worker: the caller of an Exec went away
	KindResult Kind = 3 // worker → daemon: the engine.Result of an Exec
	// KindNeedCode (worker → daemon, no payload): send that Exec again,
	// with the script's code.
	KindNeedCode Kind = 4
	// KindData (worker → daemon): a data call of the running Exec whose id
	// the frame carries: a call number and an engine.DataCall. The daemon
	// answers with KindDataResult, the same id and call number.
	KindData Kind = 5
	// KindDataResult (daemon → worker): the answer to a KindData frame.
	KindDataResult Kind = 6
)

// MaxFrame is the largest frame either end accepts: a request body, a
// script's code and a response with base64 overhead fit well below it.
const MaxFrame = 64 << 20

const headerLen = 4 + 1 + 8

// ErrFrameTooLarge is returned for a frame over MaxFrame.
var ErrFrameTooLarge = errors.New("wire: frame too large")

// Frame is one decoded frame.
type Frame struct {
	Kind    Kind
	ID      uint64
	Payload []byte
}

// WriteFrame writes one frame to w. It does not flush.
func WriteFrame(w *bufio.Writer, kind Kind, id uint64, payload []byte) error {
	n := 1 + 8 + len(payload)
	if n > MaxFrame {
		return ErrFrameTooLarge
	}
	var h [headerLen]byte
	binary.BigEndian.PutUint32(h[0:4], uint32(n))
	h[4] = byte(kind)
	binary.BigEndian.PutUint64(h[5:13], id)
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// ReadFrame reads one frame from r. The payload is a fresh slice.
func ReadFrame(r *bufio.Reader) (Frame, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(h[0:4])
	if n > MaxFrame {
		return Frame{}, ErrFrameTooLarge
	}
	if n < 9 {
		return Frame{}, fmt.Errorf("wire: short frame of %d bytes", n)
	}
	f := Frame{Kind: Kind(h[4]), ID: binary.BigEndian.Uint64(h[5:13])}
	if n > 9 {
		f.Payload = make([]byte, n-9)
		if _, err := io.ReadFull(r, f.Payload); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, err
		}
	}
	return f, nil
}
