package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/dop251/goja"

	"github.com/picloud/picloud/engine/egress"
)

// jsFetch implements the fetch global: the request is built like
// new Request(input, init), sent by the executor's egress client (which
// applies the admin's policy) in a goroutine, and the response resolves the
// promise on the execution's goroutine. It counts against the execution's
// subrequest limit; an AbortSignal in init cancels it.
func jsFetch(e *execution, call goja.FunctionCall) goja.Value {
	if e.inv.Replay {
		return e.refuseInReplay("fetch")
	}
	e.subrequests++
	if e.subrequests > e.lim.MaxSubrequests {
		e.limit(CodeSubrequestLimit, fmt.Sprintf("the script made more than %d fetch calls", e.lim.MaxSubrequests))
		return e.rejected(e.newError("TypeError", "fetch: subrequest limit reached"))
	}
	p, resolve, reject := e.r.NewPromise()
	fail := func(v goja.Value) goja.Value {
		_ = reject(v)
		return e.r.ToValue(p)
	}
	// new Request(input, init) validates and normalises everything.
	reqObj, err := e.r.New(e.ctor(classRequest), call.Argument(0), call.Argument(1))
	if err != nil {
		return fail(thrownValue(err))
	}
	rs, _ := stateOf[*requestState](reqObj)
	// The request's signal follows init.signal, or the signal of the
	// Request given.
	var signal *goja.Object
	if rs.follows != nil {
		signal, _ = rs.Get("signal").(*goja.Object)
	}
	if signal != nil && signal.Get("aborted").ToBoolean() {
		return fail(signal.Get("reason"))
	}
	out := &egress.Request{Method: rs.method, URL: rs.url, Redirect: rs.redirect, Header: map[string][]string{}}
	if rs.body.present {
		data, jerr := e.take(&rs.body)
		if jerr != nil {
			return fail(jerr)
		}
		out.Body = data
	}
	for _, h := range rs.headerList().sorted() {
		out.Header.Add(h.name, h.value)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if signal != nil {
		if add, ok := goja.AssertFunction(signal.Get("addEventListener")); ok {
			_, _ = add(signal, e.str("abort"), e.r.ToValue(func(goja.FunctionCall) goja.Value { cancel(); return goja.Undefined() }))
		}
	}
	client := e.x.fetch.Load()
	e.goAsync(func() func() {
		defer cancel()
		go func() {
			select {
			case <-e.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		var res *egress.Response
		err := e.noticeOutbound()
		if err == nil {
			res, err = client.Do(ctx, out)
		}
		return func() {
			if err != nil {
				if signal != nil && signal.Get("aborted").ToBoolean() {
					_ = reject(signal.Get("reason"))
					return
				}
				_ = reject(e.newError("TypeError", "fetch "+rs.url+" failed: "+err.Error()))
				return
			}
			s := &responseState{e: e, status: res.Status, statusText: res.StatusText, typ: "basic",
				url: res.URL, redirected: res.Redirected, headers: newHeaderList(e)}
			for name, vs := range res.Header {
				for _, v := range vs {
					s.headers.append(strings.ToLower(name), v)
				}
			}
			s.headers.immutable = true
			s.body = body{data: res.Body, present: !nullBodyStatus(res.Status) && rs.method != "HEAD"}
			_ = resolve(e.newInstance(classResponse, s, nil))
		}
	})
	return e.r.ToValue(p)
}
