package engine

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"strings"

	"github.com/dop251/goja"
)

// MaxRejectReason bounds the reason of message.setReject, in bytes.
const MaxRejectReason = 1000

// runEmail calls the default export's email(message, env, ctx) method, as
// Workers does for Email Routing, and awaits what it returns and its
// ctx.waitUntil promises. A setReject(reason) call is recorded for the
// delivery, which marks the stored message rejected.
func (e *execution) runEmail(def goja.Value) *ExecError {
	return e.runNamed(def, "email", "message, env, ctx", func() (goja.Value, error) { return e.newEmailMessage(), nil })
}

// newEmailMessage builds the handler's message: from and to (the
// envelope's), headers (a Headers of the message's header, read only),
// raw (a ReadableStream of the whole message, readable once, as a body
// is), rawSize, setReject(reason) and forward(address).
func (e *execution) newEmailMessage() goja.Value {
	m := e.inv.Email
	l := newHeaderList(e)
	if msg, err := mail.ReadMessage(bytes.NewReader(m.Raw)); err == nil {
		l = headerListFrom(e, Header(msg.Header))
	}
	l.immutable = true
	o := e.r.NewObject()
	_ = o.Set("from", m.From)
	_ = o.Set("to", m.To)
	_ = o.Set("headers", e.headersObject(l))
	_ = o.Set("raw", e.newInstance(classStream, &bodyStream{e: e, src: &body{data: m.Raw, present: true}}, nil))
	_ = o.Set("rawSize", len(m.Raw))
	_ = o.Set("setReject", func(call goja.FunctionCall) goja.Value {
		v := call.Argument(0)
		if !goja.IsString(v) {
			e.throw("TypeError", "setReject: the reason must be a string")
		}
		reason := v.String()
		if len(reason) > MaxRejectReason || strings.ContainsAny(reason, "\r\n") {
			e.throw("TypeError", "setReject: the reason must be one line of at most 1000 bytes")
		}
		e.emailRejected, e.emailReason = true, reason
		return goja.Undefined()
	})
	_ = o.Set("forward", func(call goja.FunctionCall) goja.Value {
		v := call.Argument(0)
		if !goja.IsString(v) || v.String() == "" {
			e.throw("TypeError", "forward: give the address to forward to, such as \"me@example.com\"")
		}
		args, _ := json.Marshal(struct {
			ID string `json:"id"`
			To string `json:"to"`
		}{m.ID, v.String()})
		return e.jsDataCall(goja.FunctionCall{Arguments: []goja.Value{
			e.str("email.forward"), e.str(""), e.str(string(args)), goja.Undefined()}})
	})
	return o
}
