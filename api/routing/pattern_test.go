package routing

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePatternOK(t *testing.T) {
	tests := []struct {
		in, canon, shape string
		params           []string
	}{
		{"/", "/", "/", nil},
		{"/users", "/users", "/users", nil},
		{"/users/", "/users", "/users", nil},
		{"/users/:id", "/users/:id", "/users/:", []string{"id"}},
		{"/users/:id/files/*path", "/users/:id/files/*path", "/users/:/files/*", []string{"id", "path"}},
		{"/files/*", "/files/*", "/files/*", []string{"*"}},
		{"/*rest", "/*rest", "/*", []string{"rest"}},
		{"/:_a1/:B_2", "/:_a1/:B_2", "/:/:", []string{"_a1", "B_2"}},
		{"/caf%c3%a9", "/caf%C3%A9", "/caf%C3%A9", nil},
		{"/%7euser", "/~user", "/~user", nil},
		{"/a%2Fb", "/a%2Fb", "/a%2Fb", nil},
		{"/%3Aliteral", "/%3Aliteral", "/%3Aliteral", nil},
		{"/v1/things:batchGet", "/v1/things:batchGet", "/v1/things:batchGet", nil},
		{"/a-b.c_d~e!$&'()+,;=@", "/a-b.c_d~e!$&'()+,;=@", "/a-b.c_d~e!$&'()+,;=@", nil},
		{"/apis", "/apis", "/apis", nil},
		{"/administrator/x", "/administrator/x", "/administrator/x", nil},
		{"/x/api", "/x/api", "/x/api", nil},
		{"/:api", "/:api", "/:", []string{"api"}},
		{"/..a/.b", "/..a/.b", "/..a/.b", nil},
		{"/" + strings.Repeat("a/", MaxSegments-1) + "a", "/" + strings.Repeat("a/", MaxSegments-1) + "a", "", nil},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.in)
		if err != nil {
			t.Errorf("ParsePattern(%q): %v", tt.in, err)
			continue
		}
		if p.String() != tt.canon {
			t.Errorf("ParsePattern(%q).String() = %q, want %q", tt.in, p.String(), tt.canon)
		}
		if tt.shape != "" && p.Shape() != tt.shape {
			t.Errorf("ParsePattern(%q).Shape() = %q, want %q", tt.in, p.Shape(), tt.shape)
		}
		if got := strings.Join(p.Params(), ","); got != strings.Join(tt.params, ",") {
			t.Errorf("ParsePattern(%q).Params() = %q, want %q", tt.in, got, tt.params)
		}
		again, err := ParsePattern(p.String())
		if err != nil || again.String() != p.String() || again.Shape() != p.Shape() {
			t.Errorf("reparse of %q: %q, %v", p.String(), again.String(), err)
		}
	}
}

func TestParsePatternErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
		msg  string // substring of the message
	}{
		{"", ErrInvalid, "empty path"},
		{"users", ErrInvalid, "must start with /"},
		{"//", ErrInvalid, "empty segment"},
		{"/a//b", ErrInvalid, "empty segment"},
		{"/a//", ErrInvalid, "empty segment"},
		{"/users/{id}", ErrInvalid, "use :name"},
		{"/{tenant}", ErrInvalid, "use :name"},
		{"/a b", ErrInvalid, "not allowed in a URL path"},
		{"/caf\u00e9", ErrInvalid, "not allowed in a URL path"},
		{"/a\x00", ErrInvalid, "not allowed in a URL path"},
		{"/a\\b", ErrInvalid, "not allowed in a URL path"},
		{"/a\"b", ErrInvalid, "not allowed in a URL path"},
		{"/a|b", ErrInvalid, "not allowed in a URL path"},
		{"/a?b=1", ErrInvalid, "query"},
		{"/a#frag", ErrInvalid, "fragment"},
		{"/%zz", ErrInvalid, "hex"},
		{"/a%2", ErrInvalid, "hex"},
		{"/a%", ErrInvalid, "hex"},
		{"/.", ErrInvalid, "dot segment"},
		{"/a/..", ErrInvalid, "dot segment"},
		{"/a/%2e%2E", ErrInvalid, "dot segment"},
		{"/:", ErrInvalid, "name"},
		{"/:1a", ErrInvalid, "name"},
		{"/:a-b", ErrInvalid, "name"},
		{"/*1", ErrInvalid, "name"},
		{"/*path/x", ErrInvalid, "last segment"},
		{"/*/x", ErrInvalid, "last segment"},
		{"/files/*.txt", ErrInvalid, "name"},
		{"/a*b", ErrInvalid, "trailing wildcard"},
		{"/:id/:id", ErrInvalid, "used twice"},
		{"/:id/*id", ErrInvalid, "used twice"},
		{"/" + strings.Repeat("a", MaxPathLen), ErrInvalid, "longer than"},
		{strings.Repeat("/a", MaxSegments+1), ErrInvalid, "segments"},
		{"/api", ErrReserved, "reserved"},
		{"/api/", ErrReserved, "reserved"},
		{"/api/v1/things", ErrReserved, "reserved"},
		{"/API/x", ErrReserved, "reserved"},
		{"/%61pi", ErrReserved, "reserved"},
		{"/admin", ErrReserved, "reserved"},
		{"/admin/:x", ErrReserved, "reserved"},
		{"/healthz", ErrReserved, "reserved"},
		{"/healthz/deep", ErrReserved, "reserved"},
		{"/version", ErrReserved, "reserved"},
		{"/api/{id}", ErrReserved, "reserved"},
	}
	for _, tt := range tests {
		_, err := ParsePattern(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParsePattern(%.40q) error = %v, want %v", tt.in, err, tt.want)
			continue
		}
		other := ErrReserved
		if tt.want == ErrReserved {
			other = ErrInvalid
		}
		if errors.Is(err, other) {
			t.Errorf("ParsePattern(%.40q) error %v also matches %v", tt.in, err, other)
		}
		var pe *PatternError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParsePattern(%.40q) error = %q, want a *PatternError mentioning %q", tt.in, err, tt.msg)
		}
	}
}

func TestParseMethod(t *testing.T) {
	for in, want := range map[string]string{
		"GET": "GET", "get": "GET", "Head": "HEAD", "post": "POST", "PUT": "PUT",
		"patch": "PATCH", "delete": "DELETE", "options": "OPTIONS", "*": "*",
	} {
		got, err := ParseMethod(in)
		if err != nil || got != want {
			t.Errorf("ParseMethod(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "CONNECT", "TRACE", "PROPFIND", "ANY", "**", " GET"} {
		if _, err := ParseMethod(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMethod(%q) error = %v, want ErrInvalid", in, err)
		}
	}
}

func TestZeroPattern(t *testing.T) {
	var p Pattern
	if !p.IsZero() {
		t.Fatal("zero Pattern: IsZero() = false")
	}
	if _, err := NewTable([]Route{{ID: "r", Method: "GET", Pattern: p}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewTable with zero pattern: %v, want ErrInvalid", err)
	}
}
