package wire

import (
	"reflect"
	"testing"
	"time"

	"github.com/picloud/picloud/engine"
)

// fill sets every field reachable from v to a distinct non-zero value, so
// that a field the codec forgets does not survive a round trip. It fails
// on a kind of field it does not know, which a new field type would be.
func fill(t *testing.T, v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)) + "\x00é")
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeOf(time.Duration(0)) {
			v.SetInt(int64(*n) * int64(time.Millisecond))
		} else {
			v.SetInt(int64(*n) * 1000)
		}
	case reflect.Uint64:
		v.SetUint(uint64(*n) * 1000)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{0, byte(*n), 255})
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(t, s.Index(i), n)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fill(t, k, n)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(t, e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), n)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(1_700_000_000, int64(*n))))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), n)
		}
	default:
		t.Fatalf("fill: a field of kind %s: teach the codec and this test about it", v.Kind())
	}
}

func TestCodecRoundTripsEveryField(t *testing.T) {
	var n int
	inv := new(engine.Invocation)
	fill(t, reflect.ValueOf(inv).Elem(), &n)
	got, err := DecodeInvocation(AppendInvocation(nil, inv))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, inv) {
		t.Errorf("invocation:\n got %+v\nwant %+v", got, inv)
	}

	res := new(engine.Result)
	fill(t, reflect.ValueOf(res).Elem(), &n)
	gotRes, err := DecodeResult(AppendResult(nil, res))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotRes, res) {
		t.Errorf("result:\n got %+v\nwant %+v", gotRes, res)
	}

	// nil and empty stay apart where the engine cares.
	empty := &engine.Result{Logs: []engine.LogLine{}, Response: &engine.Response{Status: 204, Body: []byte{}}}
	gotRes, err = DecodeResult(AppendResult(nil, empty))
	if err != nil || gotRes.Logs == nil || gotRes.Response.Body == nil || gotRes.Error != nil {
		t.Errorf("empty result: %+v %v", gotRes, err)
	}
}

func TestCodecRefusesDamage(t *testing.T) {
	inv := &engine.Invocation{ScriptID: "s", Code: "code", Request: engine.Request{Method: "GET", URL: "http://pi/",
		Header: engine.Header{"A": {"1"}}, Body: []byte("body")}, Params: map[string]string{"p": "1"}}
	p := AppendInvocation(nil, inv)
	for i := range p {
		if _, err := DecodeInvocation(p[:i]); err == nil {
			t.Errorf("a payload cut at %d of %d bytes decoded", i, len(p))
		}
	}
	if _, err := DecodeInvocation(append(p, 0)); err == nil {
		t.Error("trailing bytes were accepted")
	}
	// A huge count must not allocate: it is refused as truncated.
	if _, err := DecodeResult([]byte{0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f}); err == nil {
		t.Error("a log count larger than the payload was accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(AppendInvocation(nil, &engine.Invocation{ScriptID: "s", Request: engine.Request{Header: engine.Header{"A": {"b"}}}}))
	f.Add(AppendResult(nil, &engine.Result{Response: &engine.Response{Status: 200}, Logs: []engine.LogLine{{Level: "info"}}}))
	f.Fuzz(func(t *testing.T, p []byte) {
		if inv, err := DecodeInvocation(p); err == nil {
			if _, err := DecodeInvocation(AppendInvocation(nil, inv)); err != nil {
				t.Fatalf("re-encoded invocation does not decode: %v", err)
			}
		}
		if res, err := DecodeResult(p); err == nil {
			if _, err := DecodeResult(AppendResult(nil, res)); err != nil {
				t.Fatalf("re-encoded result does not decode: %v", err)
			}
		}
	})
}
