// Package data is the data service: it answers the data calls of scripts
// (the SDK's kv and docs modules and db.transaction) for the app of the
// execution that made them, which the executor gives with each call. It
// checks every argument again (a worker is not trusted), applies the size
// limits and maps the storage's answers to the errors a script sees. It
// counts the calls it answers and keeps each app's usage for the storage
// quota, which the metrics read (DataCalls, StorageUsage).
package data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// Limits of the stored data.
const (
	MaxNameBytes     = 256     // a collection's name
	MaxKeyBytes      = 1 << 10 // a key
	MaxMetadataBytes = 1 << 10 // a key's metadata, as JSON
	MaxValueBytes    = 1 << 20 // a value
	MaxList          = 1000    // keys in one list page
	MaxMany          = 100     // keys of one getMany
)

// KVStore is the storage of kv collections; appliance/store's Store
// satisfies it. Keys of an app are only ever reached with its id.
type KVStore interface {
	GetKV(ctx context.Context, appID, collection, key string) (model.KVEntry, error)
	GetManyKV(ctx context.Context, appID, collection string, keys []string) ([]model.KVEntry, error)
	PutKV(ctx context.Context, p model.KVPut) (int64, error)
	DeleteKV(ctx context.Context, appID, collection, key string, ifVersion *int64) (bool, error)
	IncrKV(ctx context.Context, appID, collection, key string, delta float64) (float64, int64, error)
	ListKV(ctx context.Context, q model.KVListQuery) ([]model.KVEntry, error)
	PurgeExpiredKV(ctx context.Context, limit int) (int, error)
}

// Store is the storage of every data module.
type Store interface {
	KVStore
	DocsStore
}

// Service answers data calls. It is safe for concurrent use.
type Service struct {
	kv   KVStore
	docs DocsStore
	log  *slog.Logger
	now  func() time.Time

	quota   *quotas       // nil: no storage quota
	users   *users        // nil: no users module
	txs     TxBeginner    // nil: no transactions
	txSlots chan struct{} // one per open transaction, bounded
	nextTx  atomic.Uint64 // the last transaction id given

	queues     QueueStore // nil: no queues
	maxMessage int        // a queue message's limit, in bytes

	email   EmailStore // nil: no relay, email.send is refused
	senders Senders    // who email.send may send as
	inbox   InboxStore // nil: no received email, message.forward is refused
	board   string     // this machine's name, in a forward's Received: field
	// appSenders restricts each app to the senders its owner set; nil:
	// every app may use all of senders.
	appSenders AppSendersStore

	invoker atomic.Pointer[engine.Invoker] // nil: no invoke
	later   atomic.Pointer[LaterPlanner]   // nil: no invoke.later

	calls callCounts // the calls answered, for the metrics
}

var _ engine.DataService = (*Service)(nil)

// New returns a data service on st.
func New(st Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{kv: st, docs: st, log: logger.With("component", "data"), now: time.Now}
}

// invalid is a data.invalid error: the script gets a TypeError.
func invalid(format string, args ...any) error {
	return &engine.DataError{Code: engine.CodeDataInvalid, Message: fmt.Sprintf(format, args...)}
}

func tooLarge(format string, args ...any) error {
	return &engine.DataError{Code: engine.CodeDataTooLarge, Message: fmt.Sprintf(format, args...)}
}

// Call answers one data call of an execution of app appID, and counts it
// by app, family and outcome (see DataCalls).
func (s *Service) Call(ctx context.Context, appID string, call engine.DataCall) (engine.DataResult, error) {
	res, err := s.call(ctx, appID, call)
	s.calls.add(appID, call.Op, err)
	return res, err
}

func (s *Service) call(ctx context.Context, appID string, call engine.DataCall) (engine.DataResult, error) {
	if appID == "" {
		return engine.DataResult{}, &engine.DataError{Code: engine.CodeDataUnavailable, Message: "this execution belongs to no app"}
	}
	var v any
	var err error
	if sc, _ := ctx.Value(scopeKey{}).(*scope); sc != nil && sc.replay {
		v, err = s.replayCall(ctx, sc, appID, call)
	} else if strings.HasPrefix(call.Op, "users.") {
		v, _, err = s.userOp(ctx, appID, call)
	} else if call.Tx != 0 || strings.HasPrefix(call.Op, "tx.") {
		v, err = s.txCall(ctx, appID, call)
	} else {
		v, err = s.run(ctx, appID, call)
	}
	if err != nil {
		return engine.DataResult{}, s.scriptError(call, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return engine.DataResult{}, fmt.Errorf("%s: encode the result: %w", call.Op, err)
	}
	return engine.DataResult{Value: b}, nil
}

// run runs one operation on a collection, in the transaction ctx carries
// if it carries one.
func (s *Service) run(ctx context.Context, appID string, call engine.DataCall) (any, error) {
	switch call.Op {
	case "queue.send":
		return s.queueSend(ctx, appID, call)
	case "invoke":
		return s.invoke(ctx, appID, call)
	case "invoke.later":
		return s.invokeLater(ctx, appID, call)
	case "email.send":
		return s.emailSend(ctx, appID, call)
	case "email.forward":
		return s.emailForward(ctx, appID, call)
	}
	if err := checkName("a collection name", call.Collection, MaxNameBytes); err != nil {
		return nil, err
	}
	var v any
	var err error
	switch call.Op {
	case "kv.get":
		v, err = s.kvGet(ctx, appID, call)
	case "kv.getMany":
		v, err = s.kvGetMany(ctx, appID, call)
	case "kv.put":
		v, err = s.kvPut(ctx, appID, call)
	case "kv.delete":
		v, err = s.kvDelete(ctx, appID, call)
	case "kv.incr":
		v, err = s.kvIncr(ctx, appID, call)
	case "kv.list":
		v, err = s.kvList(ctx, appID, call)
	default:
		var ok bool
		if v, ok, err = s.docOp(ctx, appID, call); !ok {
			err = invalid("unknown data operation %q", call.Op)
		}
	}
	return v, err
}

// scriptError is what the script sees of err: a DataError as it is, the
// storage's refusal of a value as data.invalid, anything else logged and
// reported as data.unavailable (the script is not told the database's
// internals).
func (s *Service) scriptError(call engine.DataCall, err error) error {
	var de *engine.DataError
	switch {
	case errors.As(err, &de):
		return de
	case errors.Is(err, model.ErrTxConflict):
		return &engine.DataError{Code: engine.CodeDataTxConflict,
			Message: call.Op + ": concurrent transactions conflict with this one; it is rolled back"}
	case errors.Is(err, model.ErrTxAborted):
		return &engine.DataError{Code: engine.CodeDataTxAborted,
			Message: call.Op + ": an earlier call of this transaction failed; it can only roll back"}
	case errors.Is(err, model.ErrInvalid):
		return invalid("%s: %v", call.Op, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &engine.DataError{Code: engine.CodeDataUnavailable, Message: call.Op + ": the execution ended"}
	}
	s.log.Error("data call", "op", call.Op, "collection", call.Collection, "err", err)
	return &engine.DataError{Code: engine.CodeDataUnavailable, Message: call.Op + ": the data service failed; see the daemon's log"}
}

// checkName checks a collection name or a key: UTF-8, not empty, no NUL,
// at most max bytes.
func checkName(what, s string, max int) error {
	switch {
	case s == "":
		return invalid("%s must not be empty", what)
	case len(s) > max:
		return tooLarge("%s is %d bytes, over the %d allowed", what, len(s), max)
	case !isText(s):
		return invalid("%s must be valid UTF-8 without NUL characters", what)
	}
	return nil
}

func isText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// decodeArgs decodes a call's JSON arguments into v, refusing unknown
// fields.
func decodeArgs(call engine.DataCall, v any) error {
	dec := json.NewDecoder(bytes.NewReader(call.Args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("%s: malformed arguments: %v", call.Op, err)
	}
	if dec.More() {
		return invalid("%s: malformed arguments: data after the object", call.Op)
	}
	return nil
}
