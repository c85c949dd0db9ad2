package client

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestStreamParsesEvents(t *testing.T) {
	raw := ": connected\n\n" +
		"event: execution\ndata: {\"id\":0,\"script_id\":\"s1\",\"status\":200,\"console\":[{\"level\":\"warn\",\"message\":\"hm\"}]}\n\n" +
		": ping\n\n" +
		"event: other\ndata: {}\n\n" +
		"event: execution\ndata: {\"script_id\":\"s2\",\"status\":500,\"error\":\"boom\"}\n\n"
	s := NewStream(io.NopCloser(strings.NewReader(raw)), nil)
	e, err := s.Next()
	if err != nil || e.ScriptID != "s1" || Level(e) != "warn" || Console(e)[0].Message != "hm" {
		t.Fatalf("first: %+v %v", e, err)
	}
	e, err = s.Next()
	if err != nil || e.ScriptID != "s2" || Level(e) != "error" {
		t.Fatalf("second: %+v %v", e, err)
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
}

func TestStreamBadEvent(t *testing.T) {
	s := NewStream(io.NopCloser(strings.NewReader("event: execution\ndata: {nope\n\n")), nil)
	if _, err := s.Next(); err == nil || !strings.Contains(err.Error(), "log event") {
		t.Fatalf("bad JSON: %v", err)
	}
}

func TestDecodeError(t *testing.T) {
	err := decodeError(422, []byte(`{"error":"Unexpected token","line":3,"column":7,"request_id":"r1"}`))
	var e *Error
	if !errors.As(err, &e) || e.Line != 3 || e.Column != 7 || StatusOf(err) != 422 {
		t.Fatalf("compile error: %#v", err)
	}
	if got := err.Error(); got != "422: line 3, column 7: Unexpected token" {
		t.Errorf("message %q", got)
	}
	err = decodeError(409, []byte(`{"error":"conflict","conflicts":[{"id":"r","method":"GET","path":"/a"}]}`))
	if errors.As(err, &e); len(e.Conflicts) != 1 || e.Conflicts[0].Path != "/a" {
		t.Errorf("conflicts: %#v", e)
	}
	if err := decodeError(502, []byte("bad gateway\n")); err.Error() != "502: bad gateway" {
		t.Errorf("plain text: %v", err)
	}
	if err := decodeError(503, nil); err.Error() != "503: Service Unavailable" {
		t.Errorf("empty: %v", err)
	}
}
