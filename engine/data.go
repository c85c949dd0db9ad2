package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/dop251/goja"
)

// DataCall is one call of the SDK's data modules (kv; later docs and queue
// sends): an operation on a collection of the execution's app, with its
// arguments as JSON. The app is never part of it: the host that answers
// knows which execution made the call.
type DataCall struct {
	Op         string // "kv.get", "kv.put", …
	Collection string
	// Tx is the transaction (db.transaction) the call runs in, 0 for
	// none. The host serves it only if the same execution began it.
	Tx   uint64
	Args []byte // the operation's arguments, a JSON object
}

// DataResult is the answer to a DataCall: the operation's result as JSON.
type DataResult struct {
	Value []byte
}

// DataService answers data calls for an app. In a worker process it is the
// daemon's, reached over the worker protocol; the app is the execution's,
// taken by the daemon from what it asked the worker to run.
type DataService interface {
	Call(ctx context.Context, appID string, call DataCall) (DataResult, error)
}

// OutboundNoticer is a DataService that must hear of an execution's
// first outbound call (fetch) before it leaves, as the daemon must of a
// script run in a worker: an execution whose worker is killed for another
// execution's fault is run again only if nothing of it left the sandbox.
// NoticeOutbound returns once the service has taken note; ctx is the
// execution's, as for Call.
type OutboundNoticer interface {
	NoticeOutbound(ctx context.Context) error
}

// noticeOutbound tells the execution's data service, once and before the
// first outbound call leaves, that one is about to; concurrent callers
// wait for the first one's answer.
func (e *execution) noticeOutbound() error {
	n, ok := e.x.data.(OutboundNoticer)
	if !ok {
		return nil
	}
	e.outbound.Do(func() {
		if err := n.NoticeOutbound(e.ctx); err != nil {
			e.outboundErr = fmt.Errorf("tell the daemon of an outbound call: %w", err)
		}
	})
	return e.outboundErr
}

// DataScoper is a DataService that keeps state for each execution: the
// transactions it opens. The host running an execution calls OpenScope
// before its first data call and passes the returned context to every
// Call of that execution; end, called once the execution is over (however
// it ended), rolls back whatever it left open.
type DataScoper interface {
	DataService
	OpenScope(ctx context.Context) (scoped context.Context, end func())
}

// Codes of data call errors, besides the limit codes.
const (
	CodeDataInvalid     = "data.invalid"          // bad arguments: the script gets a TypeError
	CodeDataTooLarge    = "data.too_large"        // a key, value or metadata over its limit: a RangeError
	CodeDataConflict    = "data.version_mismatch" // ifVersion did not match: nothing changed
	CodeDataNotNumber   = "data.not_a_number"     // incr of a value that is not a number
	CodeDataDuplicate   = "data.duplicate"        // a write that a unique docs index refuses
	CodeDataUnavailable = "data.unavailable"      // the data service failed or is missing
	// CodeDataTxConflict: concurrent transactions made this one
	// impossible; it was rolled back and db.transaction runs it again.
	CodeDataTxConflict = "data.conflict"
	// CodeDataNoTx: the transaction is not open in this execution (it
	// ended, or another execution began it).
	CodeDataNoTx = "data.no_transaction"
	// CodeDataNestedTx: a transaction of the execution is already open.
	CodeDataNestedTx = "data.nested_transaction"
	// CodeStorageLimit: a write would take the app's data past its
	// storage quota; nothing was changed.
	CodeStorageLimit = "limit.storage"
	// CodeDataTxAborted: an earlier call of the transaction failed in
	// the database; the transaction can only roll back.
	CodeDataTxAborted = "data.transaction_aborted"
)

// DataError is a data call's failure that the script sees with its code.
type DataError struct {
	Code    string
	Message string
}

func (e *DataError) Error() string { return e.Code + ": " + e.Message }

// dataError makes a DataError from err: itself if it is one, else an
// unavailable error with err's text.
func dataError(err error) *DataError {
	var de *DataError
	if errors.As(err, &de) {
		return de
	}
	return &DataError{Code: CodeDataUnavailable, Message: err.Error()}
}

// maxDataArgs bounds the arguments of one data call as the engine sends
// them: a value at its limit, base64-encoded, and the rest fit well below.
const maxDataArgs = 3 << 20

// jsDataCall is the SDK's one way to its data: call(op, collection,
// argsJSON, tx) returns a promise of the result, parsed from the JSON the
// data service answers; tx, when not
// undefined, is the transaction the call runs in. It counts against
// the execution's data call limit, and ends with the execution: the call's
// context is canceled when the execution stops.
func (e *execution) jsDataCall(call goja.FunctionCall) goja.Value {
	dc := DataCall{Op: call.Argument(0).String(), Collection: call.Argument(1).String(), Args: []byte(call.Argument(2).String())}
	return e.dataCall(dc, call.Argument(3), func(raw []byte) (goja.Value, goja.Value) {
		return e.parseJSON(string(raw))
	})
}

// dataCall sends dc, in transaction txv unless it is undefined, and
// returns a promise of what done makes of the service's JSON answer (a
// value, or a value to reject with). done runs on the execution's
// goroutine, when the answer is in.
func (e *execution) dataCall(dc DataCall, txv goja.Value, done func(raw []byte) (goja.Value, goja.Value)) goja.Value {
	e.dataCalls++
	if e.dataCalls > e.lim.MaxDataCalls {
		e.limit(CodeDataCallsLimit, fmt.Sprintf("the script made more than %d data calls", e.lim.MaxDataCalls))
		return e.rejected(e.dataErrorValue(&DataError{Code: CodeDataCallsLimit, Message: "data call limit reached"}))
	}
	tx, ok := txArgument(txv)
	if !ok {
		return e.rejected(e.dataErrorValue(&DataError{Code: CodeDataNoTx, Message: dc.Op + ": that is not a transaction"}))
	}
	dc.Tx = tx
	if len(dc.Args) > maxDataArgs {
		return e.rejected(e.dataErrorValue(&DataError{Code: CodeDataTooLarge,
			Message: fmt.Sprintf("%s: the arguments are %d bytes, over the %d a call may carry", dc.Op, len(dc.Args), maxDataArgs)}))
	}
	p, resolve, reject := e.r.NewPromise()
	svc := e.x.data
	parent := e.ctx
	app := e.inv.AppID
	e.goAsync(func() func() {
		ctx, cancel := context.WithCancel(parent)
		defer cancel()
		go func() {
			select {
			case <-e.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		var res DataResult
		var err error
		if svc == nil {
			err = &DataError{Code: CodeDataUnavailable, Message: "this executor has no data service"}
		} else {
			res, err = svc.Call(ctx, app, dc)
		}
		return func() {
			if err != nil {
				de := dataError(err)
				if de.Code == CodeReplayRefused {
					e.limit(de.Code, de.Message)
				}
				_ = reject(e.dataErrorValue(de))
				return
			}
			v, thrown := done(res.Value)
			if thrown != nil {
				_ = reject(thrown)
				return
			}
			_ = resolve(v)
		}
	})
	return e.r.ToValue(p)
}

// refuseInReplay stops a replay's execution that tried to reach outside
// the board with what (fetch): replays may not.
func (e *execution) refuseInReplay(what string) goja.Value {
	msg := what + " is refused during a replay: a replayed request may not reach outside the board"
	e.limit(CodeReplayRefused, msg)
	return e.rejected(e.dataErrorValue(&DataError{Code: CodeReplayRefused, Message: msg}))
}

// txArgument reads the transaction of a data call: undefined or null for
// none, else a positive safe integer.
func txArgument(v goja.Value) (uint64, bool) {
	if goja.IsUndefined(v) || goja.IsNull(v) {
		return 0, true
	}
	f, ok := v.Export().(float64)
	if i, isInt := v.Export().(int64); isInt {
		f, ok = float64(i), true
	}
	if !ok || f < 1 || f > 1<<53 || f != float64(uint64(f)) {
		return 0, false
	}
	return uint64(f), true
}

// dataErrorValue is the script's error for a failed data call: a TypeError
// for bad arguments, a RangeError for a size limit, else an Error; its code
// property is the DataError's code.
func (e *execution) dataErrorValue(de *DataError) goja.Value {
	kind := "Error"
	switch de.Code {
	case CodeDataInvalid:
		kind = "TypeError"
	case CodeDataTooLarge:
		kind = "RangeError"
	}
	v := e.newError(kind, de.Message)
	if obj, ok := v.(*goja.Object); ok {
		_ = obj.Set("code", de.Code)
	}
	return v
}

// jsToBase64 encodes an ArrayBuffer or view as base64, for values sent to
// the data service.
func (e *execution) jsToBase64(call goja.FunctionCall) goja.Value {
	b, ok := bufferBytes(e.r, call.Argument(0))
	if !ok {
		e.throw("TypeError", "expected an ArrayBuffer or a view of one")
	}
	return e.str(base64.StdEncoding.EncodeToString(b))
}

// jsFromBase64 decodes base64 from the data service into an ArrayBuffer.
func (e *execution) jsFromBase64(call goja.FunctionCall) goja.Value {
	b, err := base64.StdEncoding.DecodeString(call.Argument(0).String())
	if err != nil {
		e.throw("TypeError", "the data service sent a malformed binary value")
	}
	return e.newArrayBuffer(b)
}
