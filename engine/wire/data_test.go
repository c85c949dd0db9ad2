package wire

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/picloud/picloud/engine"
)

func TestDataCodecRoundTrips(t *testing.T) {
	var n int
	call := new(engine.DataCall)
	fill(t, reflect.ValueOf(call).Elem(), &n)
	seq, got, err := DecodeDataCall(AppendDataCall(nil, 77, call))
	if err != nil || seq != 77 || !reflect.DeepEqual(got, call) {
		t.Errorf("data call: %d %+v %v, want %+v", seq, got, err, call)
	}
	res := new(engine.DataResult)
	fill(t, reflect.ValueOf(res).Elem(), &n)
	seq, gotRes, xe, err := DecodeDataResult(AppendDataResult(nil, 78, res, nil))
	if err != nil || seq != 78 || xe != nil || !reflect.DeepEqual(gotRes, res) {
		t.Errorf("data result: %d %+v %v %v, want %+v", seq, gotRes, xe, err, res)
	}
	de := new(engine.DataError)
	fill(t, reflect.ValueOf(de).Elem(), &n)
	seq, gotRes, xe, err = DecodeDataResult(AppendDataResult(nil, 79, res, de))
	if err != nil || seq != 79 || gotRes != nil || !reflect.DeepEqual(xe, de) {
		t.Errorf("data error: %d %+v %+v %v, want %+v", seq, gotRes, xe, err, de)
	}
	p := AppendDataCall(nil, 1, &engine.DataCall{Op: "kv.get", Collection: "c", Args: []byte(`{"key":"k"}`)})
	for i := range p {
		if _, _, err := DecodeDataCall(p[:i]); err == nil {
			t.Errorf("a data call cut at %d of %d bytes decoded", i, len(p))
		}
	}
}

// memoryData is a data service keeping kv.put and kv.get values in memory,
// per app, and recording the apps it was called for.
type memoryData struct {
	mu   sync.Mutex
	apps []string
	m    map[string]string
}

func (s *memoryData) Call(_ context.Context, app string, call engine.DataCall) (engine.DataResult, error) {
	var a struct{ Key, Value string }
	if err := json.Unmarshal(call.Args, &a); err != nil {
		return engine.DataResult{}, &engine.DataError{Code: engine.CodeDataInvalid, Message: err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps = append(s.apps, app)
	k := app + "/" + call.Collection + "/" + a.Key
	switch call.Op {
	case "kv.put":
		s.m[k] = a.Value
		return engine.DataResult{Value: []byte(`{"version":1}`)}, nil
	case "kv.get":
		v, ok := s.m[k]
		if !ok {
			return engine.DataResult{Value: []byte("null")}, nil
		}
		b, _ := json.Marshal(map[string]any{"type": "text", "value": v, "version": 1})
		return engine.DataResult{Value: b}, nil
	}
	return engine.DataResult{}, &engine.DataError{Code: engine.CodeDataConflict, Message: "no " + call.Op}
}

// TestDataCallsTravelForTheExecutionsApp runs scripts in a served engine
// whose data calls go over the connection: the daemon's side answers them
// for the app of the invocation it sent, so two apps writing the same
// collection and key do not meet, and errors keep their code.
func TestDataCallsTravelForTheExecutionsApp(t *testing.T) {
	reqR, reqW := io.Pipe()
	resR, resW := io.Pipe()
	served := make(chan error, 1)
	exec := engine.NewInProcess(engine.Options{Data: RemoteData})
	go func() { served <- Serve(context.Background(), reqR, resW, exec); resW.Close() }()
	ds := &memoryData{m: map[string]string{}}
	c := NewClient(resR, reqW, nil, WithData(ds))
	defer func() {
		reqW.Close()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	code, err := engine.Transpile(`import { kv } from "picloud"
export default async (req) => {
  const c = kv.collection("shared")
  const before = await c.get("k")
  await c.put("k", new URL(req.url).searchParams.get("v"))
  let code = null
  try { await c.delete("k") } catch (e) { code = e.code }
  return Response.json({ before, after: await c.get("k"), code })
}`, engine.JavaScript)
	if err != nil {
		t.Fatal(err)
	}
	run := func(app, v string) string {
		res, err := c.Execute(context.Background(), &engine.Invocation{AppID: app, ScriptID: "s", Version: 1, Code: code,
			Request: engine.Request{Method: "GET", URL: "http://pi/?v=" + v}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Error != nil {
			t.Fatalf("%s: %+v", app, res.Error)
		}
		return string(res.Response.Body)
	}
	if got := run("app-a", "a"); got != `{"before":null,"after":"a","code":"data.version_mismatch"}` {
		t.Errorf("app A: %s", got)
	}
	if got := run("app-b", "b"); got != `{"before":null,"after":"b","code":"data.version_mismatch"}` {
		t.Errorf("app B saw A's data: %s", got)
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if got := strings.Join(ds.apps, " "); got != "app-a app-a app-a app-a app-b app-b app-b app-b" {
		t.Errorf("calls were served for %s", got)
	}
}

// TestDaemonCountsDataCalls plays a worker that ignores its limits: the
// daemon's side answers no more data calls than the invocation allows, and
// none once the execution has answered.
func TestDaemonCountsDataCalls(t *testing.T) {
	reqR, reqW := io.Pipe()
	resR, resW := io.Pipe()
	ds := &memoryData{m: map[string]string{}}
	c := NewClient(resR, reqW, nil, WithData(ds))
	defer c.Close(nil)
	results := make(chan []string, 1)
	go func() {
		br := bufio.NewReader(reqR)
		bw := bufio.NewWriter(resW)
		f, err := ReadFrame(br)
		if err != nil || f.Kind != KindExec {
			results <- []string{fmt.Sprint("read exec: ", f.Kind, err)}
			return
		}
		var got []string
		for seq := uint64(1); seq <= 3; seq++ {
			_ = WriteFrame(bw, KindData, f.ID, AppendDataCall(nil, seq, &engine.DataCall{Op: "kv.get", Collection: "c", Args: []byte(`{"key":"k"}`)}))
			_ = bw.Flush()
			r, err := ReadFrame(br)
			if err != nil {
				got = append(got, err.Error())
				break
			}
			_, res, xe, err := DecodeDataResult(r.Payload)
			switch {
			case err != nil:
				got = append(got, err.Error())
			case xe != nil:
				got = append(got, xe.Code)
			default:
				got = append(got, string(res.Value))
			}
		}
		_ = WriteFrame(bw, KindResult, f.ID, AppendResult(nil, &engine.Result{Logs: []engine.LogLine{}}))
		_ = bw.Flush()
		results <- got
	}()
	if _, err := c.Execute(context.Background(), &engine.Invocation{AppID: "a", Limits: engine.Limits{MaxDataCalls: 2}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(<-results, " "); got != "null null limit.data_calls" {
		t.Errorf("answers: %s", got)
	}
}
