package capture

import (
	"reflect"
	"strings"
	"testing"
)

func TestCompareJSONByPath(t *testing.T) {
	for _, tt := range []struct {
		name, a, b string
		want       []string
	}{
		{"one field", `{"total":3,"items":["a"]}`, `{"total":4,"items":["a"]}`, []string{"$.total: 3 → 4"}},
		{"nested and arrays", `{"a":{"b":[1,2]},"c d":true}`, `{"a":{"b":[1]},"c d":false}`,
			[]string{`$.a.b[1]: 2 → (absent)`, `$["c d"]: true → false`}},
		{"added member", `{}`, `{"x":{"y":1}}`, []string{`$.x: (absent) → {"y":1}`}},
		{"type change", `{"n":1}`, `{"n":"1"}`, []string{`$.n: 1 → "1"`}},
		{"numbers as written", `{"n":1.0}`, `{"n":1}`, []string{`$.n: 1.0 → 1`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Compare(200, nil, []byte(tt.a), Outcome{Status: 200, Body: []byte(tt.b)})
			if r.Same || r.Body == nil || r.Body.Kind != "json" || !reflect.DeepEqual(r.Body.Changes, tt.want) {
				t.Fatalf("got %+v %+v, want %q", r, r.Body, tt.want)
			}
			if r.Status != nil || len(r.Headers) != 0 {
				t.Errorf("only the body differs: %+v", r)
			}
		})
	}
}

func TestCompareTextStatusHeaders(t *testing.T) {
	same := Compare(200, map[string][]string{"X-A": {"1"}}, []byte("hi"), Outcome{Status: 200, Header: map[string][]string{"X-A": {"1"}}, Body: []byte("hi")})
	if !same.Same {
		t.Fatalf("same response reported as different: %+v", same)
	}
	r := Compare(200, map[string][]string{"X-A": {"1"}}, []byte("one\ntwo\n"),
		Outcome{Status: 201, Header: map[string][]string{"X-B": {"2"}}, Body: []byte("one\nthree\n")})
	if r.Same || r.Status == nil || r.Status.Captured != 200 || r.Status.Replayed != 201 {
		t.Fatalf("status: %+v", r)
	}
	want := []HeaderChange{{Name: "X-A", Captured: []string{"1"}}, {Name: "X-B", Replayed: []string{"2"}}}
	if !reflect.DeepEqual(r.Headers, want) {
		t.Errorf("headers: %+v", r.Headers)
	}
	if r.Body == nil || r.Body.Kind != "text" || !strings.Contains(r.Body.Diff, "-two\n+three\n") {
		t.Errorf("text diff: %+v", r.Body)
	}
	bin := Compare(200, nil, []byte{0xff, 0}, Outcome{Status: 200, Body: []byte{0xfe}})
	if bin.Body == nil || bin.Body.Kind != "binary" || bin.Body.CapturedBytes != 2 || bin.Body.ReplayedBytes != 1 {
		t.Errorf("binary: %+v", bin.Body)
	}
	failed := Compare(200, nil, nil, Outcome{Status: 500, Error: &Failure{Code: "replay.refused"}})
	if failed.Same || failed.Error == nil {
		t.Errorf("a failed replay: %+v", failed)
	}
}

func TestRedact(t *testing.T) {
	h := Redact(map[string][]string{"Authorization": {"Bearer s3cret"}, "Cookie": {"a=b"}, "X-Api-Key": {"k"}, "Accept": {"*/*"}},
		[]string{"x-api-key"})
	want := map[string][]string{"Authorization": {Redacted}, "Cookie": {Redacted}, "X-Api-Key": {Redacted}, "Accept": {"*/*"}}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("got %v", h)
	}
}
