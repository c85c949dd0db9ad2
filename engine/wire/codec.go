package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/picloud/picloud/engine"
)

// The payloads of Exec and Result frames are a compact binary encoding of
// engine.Invocation and engine.Result: unsigned varints for lengths and
// numbers (zig-zag for signed ones), strings and byte slices as a length
// and the bytes, maps and lists as a count and their entries, optional
// structs behind a presence byte. Both ends are the same binary, so the
// layout needs no field tags; a test fills every field by reflection and
// fails when a field is added without being encoded.
//
// A hand-written codec because this is the hot path of every request: it
// allocates only the decoded values and does no reflection, which JSON
// (and reflection-based binary codecs) cannot say.

// errShort is returned for a payload that ends inside a value.
var errShort = errors.New("wire: truncated payload")

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *encoder) str(s string) { e.uint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(p []byte) {
	if p == nil {
		e.uint(0)
		return
	}
	e.uint(uint64(len(p)) + 1) // 0 is nil, so that nil and empty survive
	e.b = append(e.b, p...)
}

func (e *encoder) strMap(m map[string]string) {
	e.uint(uint64(len(m)))
	for k, v := range m {
		e.str(k)
		e.str(v)
	}
}

func (e *encoder) header(h engine.Header) {
	e.uint(uint64(len(h)))
	for k, vs := range h {
		e.str(k)
		e.uint(uint64(len(vs)))
		for _, v := range vs {
			e.str(v)
		}
	}
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bool() bool {
	if len(d.b) == 0 {
		d.fail(errShort)
		return false
	}
	v := d.b[0]
	d.b = d.b[1:]
	if v > 1 {
		d.fail(fmt.Errorf("wire: bad boolean %d", v))
	}
	return v == 1
}

// count reads a length or count and checks that at least min bytes per
// element remain, so that a corrupt count cannot make the decoder allocate
// more than the payload could hold.
func (d *decoder) count(min int) int {
	n := d.uint()
	if n > uint64(len(d.b)) || (min > 0 && n > uint64(len(d.b)/min)) {
		d.fail(errShort)
		return 0
	}
	return int(n)
}

func (d *decoder) raw(n int) []byte {
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string {
	n := d.count(1)
	return string(d.raw(n))
}

func (d *decoder) bytes() []byte {
	n := d.uint()
	if n == 0 {
		return nil
	}
	if n-1 > uint64(len(d.b)) {
		d.fail(errShort)
		return nil
	}
	return d.raw(int(n - 1))
}

func (d *decoder) strMap() map[string]string {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

func (d *decoder) header() engine.Header {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	h := make(engine.Header, n)
	for range n {
		k := d.str()
		vs := make([]string, d.count(1))
		for i := range vs {
			vs[i] = d.str()
		}
		h[k] = vs
	}
	return h
}

func (d *decoder) intField() int {
	v := d.int()
	if int64(int(v)) != v {
		d.fail(fmt.Errorf("wire: integer %d out of range", v))
	}
	return int(v)
}

func (d *decoder) done(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("wire: %d bytes after the %s", len(d.b), what)
	}
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", what, d.err)
	}
	return nil
}

// AppendInvocation appends the encoding of inv to b.
func AppendInvocation(b []byte, inv *engine.Invocation) []byte {
	return appendInvocation(b, inv, true)
}

// appendInvocation encodes inv, leaving its code out unless withCode.
func appendInvocation(b []byte, inv *engine.Invocation, withCode bool) []byte {
	e := encoder{b}
	e.str(inv.AppID)
	e.str(inv.ScriptID)
	e.str(inv.ScriptName)
	e.int(int64(inv.Version))
	if withCode {
		e.str(inv.Code)
	} else {
		e.str("")
	}
	e.str(inv.Request.Method)
	e.str(inv.Request.URL)
	e.header(inv.Request.Header)
	e.bytes(inv.Request.Body)
	e.strMap(inv.Params)
	e.strMap(inv.Env)
	e.int(int64(inv.Limits.WallTime))
	e.int(int64(inv.Limits.MaxResponseBytes))
	e.int(int64(inv.Limits.MaxConsoleBytes))
	e.int(int64(inv.Limits.MaxCallDepth))
	e.int(int64(inv.Limits.MaxTimers))
	e.int(int64(inv.Limits.MaxSubrequests))
	e.int(int64(inv.Limits.MaxDataCalls))
	e.bool(inv.Scheduled != nil)
	if sc := inv.Scheduled; sc != nil {
		e.str(sc.Cron)
		e.int(sc.Time.UnixNano())
	}
	e.bool(inv.Intercept)
	e.bytes(inv.Data)
	e.bool(inv.Queue != nil)
	if q := inv.Queue; q != nil {
		e.str(q.Queue)
		e.uint(uint64(len(q.Messages)))
		for _, m := range q.Messages {
			e.str(m.ID)
			e.str(m.Body)
			e.int(int64(m.Attempts))
			e.int(m.Timestamp.UnixNano())
		}
	}
	e.bool(inv.Email != nil)
	if m := inv.Email; m != nil {
		e.str(m.ID)
		e.str(m.From)
		e.str(m.To)
		e.bytes(m.Raw)
	}
	e.bool(inv.Replay)
	return e.b
}

// DecodeInvocation decodes an Exec payload. Byte slices of the result
// share p's memory.
func DecodeInvocation(p []byte) (*engine.Invocation, error) {
	d := decoder{b: p}
	inv := &engine.Invocation{}
	inv.AppID = d.str()
	inv.ScriptID = d.str()
	inv.ScriptName = d.str()
	inv.Version = d.intField()
	inv.Code = d.str()
	inv.Request.Method = d.str()
	inv.Request.URL = d.str()
	inv.Request.Header = d.header()
	inv.Request.Body = d.bytes()
	inv.Params = d.strMap()
	inv.Env = d.strMap()
	inv.Limits.WallTime = time.Duration(d.int())
	inv.Limits.MaxResponseBytes = d.intField()
	inv.Limits.MaxConsoleBytes = d.intField()
	inv.Limits.MaxCallDepth = d.intField()
	inv.Limits.MaxTimers = d.intField()
	inv.Limits.MaxSubrequests = d.intField()
	inv.Limits.MaxDataCalls = d.intField()
	if d.bool() {
		inv.Scheduled = &engine.Scheduled{Cron: d.str()}
		inv.Scheduled.Time = time.Unix(0, d.int())
	}
	inv.Intercept = d.bool()
	inv.Data = d.bytes()
	if d.bool() {
		inv.Queue = &engine.QueueBatch{Queue: d.str()}
		inv.Queue.Messages = make([]engine.QueueMessage, d.count(4))
		for i := range inv.Queue.Messages {
			m := &inv.Queue.Messages[i]
			m.ID = d.str()
			m.Body = d.str()
			m.Attempts = d.intField()
			m.Timestamp = time.Unix(0, d.int())
		}
	}
	if d.bool() {
		inv.Email = &engine.EmailMessage{ID: d.str(), From: d.str(), To: d.str()}
		inv.Email.Raw = d.bytes()
	}
	inv.Replay = d.bool()
	if err := d.done("invocation"); err != nil {
		return nil, err
	}
	return inv, nil
}

// AppendResult appends the encoding of res to b.
func AppendResult(b []byte, res *engine.Result) []byte {
	e := encoder{b}
	e.bool(res.Response != nil)
	if r := res.Response; r != nil {
		e.int(int64(r.Status))
		e.header(r.Header)
		e.bytes(r.Body)
	}
	e.bool(res.Error != nil)
	if x := res.Error; x != nil {
		e.str(x.Code)
		e.str(x.Message)
		e.int(int64(x.Line))
		e.int(int64(x.Column))
		e.str(x.Stack)
	}
	e.bool(res.Logs != nil)
	e.uint(uint64(len(res.Logs)))
	for _, l := range res.Logs {
		e.int(l.Time.UnixNano())
		e.str(l.Level)
		e.str(l.Message)
	}
	e.int(int64(res.Duration))
	e.bool(res.NoRetry)
	e.bool(res.Next != nil)
	if n := res.Next; n != nil {
		e.bool(n.Request != nil)
		if r := n.Request; r != nil {
			e.str(r.Method)
			e.str(r.URL)
			e.header(r.Header)
			e.bytes(r.Body)
		}
		e.bytes(n.Data)
	}
	e.uint(uint64(len(res.QueueAcks)))
	for _, a := range res.QueueAcks {
		e.str(a.ID)
		e.bool(a.Ack)
		e.bool(a.Retry)
		e.int(int64(a.DelaySeconds))
	}
	e.bool(res.Rejected)
	e.str(res.RejectReason)
	return e.b
}

// DecodeResult decodes a Result payload. Byte slices of the result share
// p's memory.
func DecodeResult(p []byte) (*engine.Result, error) {
	d := decoder{b: p}
	res := &engine.Result{}
	if d.bool() {
		r := &engine.Response{}
		r.Status = d.intField()
		r.Header = d.header()
		r.Body = d.bytes()
		res.Response = r
	}
	if d.bool() {
		x := &engine.ExecError{}
		x.Code = d.str()
		x.Message = d.str()
		x.Line = d.intField()
		x.Column = d.intField()
		x.Stack = d.str()
		res.Error = x
	}
	hasLogs := d.bool()
	if n := d.count(3); hasLogs {
		res.Logs = make([]engine.LogLine, n)
		for i := range res.Logs {
			res.Logs[i].Time = time.Unix(0, d.int())
			res.Logs[i].Level = d.str()
			res.Logs[i].Message = d.str()
		}
	} else if n != 0 {
		d.fail(errors.New("wire: log lines without a log list"))
	}
	res.Duration = time.Duration(d.int())
	res.NoRetry = d.bool()
	if d.bool() {
		n := &engine.Next{}
		if d.bool() {
			n.Request = &engine.Request{}
			n.Request.Method = d.str()
			n.Request.URL = d.str()
			n.Request.Header = d.header()
			n.Request.Body = d.bytes()
		}
		n.Data = d.bytes()
		res.Next = n
	}
	if n := d.count(4); n > 0 {
		res.QueueAcks = make([]engine.QueueAck, n)
		for i := range res.QueueAcks {
			a := &res.QueueAcks[i]
			a.ID = d.str()
			a.Ack = d.bool()
			a.Retry = d.bool()
			a.DelaySeconds = d.intField()
		}
	}
	res.Rejected = d.bool()
	res.RejectReason = d.str()
	if err := d.done("result"); err != nil {
		return nil, err
	}
	return res, nil
}

// AppendDataCall appends the encoding of a data call, numbered seq within
// its execution, to b.
func AppendDataCall(b []byte, seq uint64, call *engine.DataCall) []byte {
	e := encoder{b}
	e.uint(seq)
	e.str(call.Op)
	e.str(call.Collection)
	e.uint(call.Tx)
	e.bytes(call.Args)
	return e.b
}

// DecodeDataCall decodes a Data payload. Byte slices of the result share
// p's memory.
func DecodeDataCall(p []byte) (uint64, *engine.DataCall, error) {
	d := decoder{b: p}
	seq := d.uint()
	call := &engine.DataCall{}
	call.Op = d.str()
	call.Collection = d.str()
	call.Tx = d.uint()
	call.Args = d.bytes()
	if err := d.done("data call"); err != nil {
		return 0, nil, err
	}
	return seq, call, nil
}

// AppendDataResult appends the encoding of the answer to data call seq:
// res, or the failure xe when it is not nil.
func AppendDataResult(b []byte, seq uint64, res *engine.DataResult, xe *engine.DataError) []byte {
	e := encoder{b}
	e.uint(seq)
	e.bool(xe != nil)
	if xe != nil {
		e.str(xe.Code)
		e.str(xe.Message)
		return e.b
	}
	e.bytes(res.Value)
	return e.b
}

// DecodeDataResult decodes a DataResult payload: the call number and
// either the result or the failure. Byte slices share p's memory.
func DecodeDataResult(p []byte) (uint64, *engine.DataResult, *engine.DataError, error) {
	d := decoder{b: p}
	seq := d.uint()
	var res *engine.DataResult
	var xe *engine.DataError
	if d.bool() {
		xe = &engine.DataError{}
		xe.Code = d.str()
		xe.Message = d.str()
	} else {
		res = &engine.DataResult{}
		res.Value = d.bytes()
	}
	if err := d.done("data result"); err != nil {
		return 0, nil, nil, err
	}
	return seq, res, xe, nil
}
