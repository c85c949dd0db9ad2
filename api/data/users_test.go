package data

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/engine"
)

func dataCode(err error) string {
	var de *engine.DataError
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Ada@Example.org":     "ada@example.org",
		"  bob@example.org\n": "bob@example.org",
		"c.d+tag@sub.example": "c.d+tag@sub.example",
	} {
		if got, err := NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ada", "@example.org", "ada@", "Ada <ada@example.org>", "a b@example.org", "ada@example.org, bob@example.org"} {
		if got, err := NormalizeEmail(bad); dataCode(err) != engine.CodeDataInvalid {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want data.invalid", bad, got, err)
		}
	}
	long := make([]byte, MaxEmailBytes)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := NormalizeEmail(string(long) + "@example.org"); dataCode(err) != engine.CodeDataTooLarge {
		t.Errorf("a long email: %v, want data.too_large", err)
	}
}

func TestCheckUserData(t *testing.T) {
	if d, err := checkUserData("op", nil); err != nil || string(d) != "{}" {
		t.Errorf("no data: %s, %v", d, err)
	}
	if d, err := checkUserData("op", json.RawMessage(`{"a":1}`)); err != nil || string(d) != `{"a":1}` {
		t.Errorf("an object: %s, %v", d, err)
	}
	for _, bad := range []string{`[1]`, `"x"`, `1`} {
		if _, err := checkUserData("op", json.RawMessage(bad)); dataCode(err) != engine.CodeDataInvalid {
			t.Errorf("%s: %v, want data.invalid", bad, err)
		}
	}
	big := json.RawMessage(`{"a":"` + string(make([]byte, MaxUserDataBytes)) + `"}`)
	if _, err := checkUserData("op", big); dataCode(err) != engine.CodeDataTooLarge {
		t.Errorf("big data: %v, want data.too_large", err)
	}
}

func TestTokenTTL(t *testing.T) {
	if d, err := tokenTTL("op", nil, 60); err != nil || d != time.Minute {
		t.Errorf("default: %v, %v", d, err)
	}
	f := 1.5
	if d, err := tokenTTL("op", &f, 60); err != nil || d != 1500*time.Millisecond {
		t.Errorf("1.5 s: %v, %v", d, err)
	}
	for _, bad := range []float64{0, -1, 0.5, MaxTokenTTL + 1} {
		if _, err := tokenTTL("op", &bad, 60); dataCode(err) != engine.CodeDataInvalid {
			t.Errorf("ttl %v: %v, want data.invalid", bad, err)
		}
	}
}

func TestSessionLifetimes(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	yes, no := true, false
	day := 24 * time.Hour
	for _, c := range []struct {
		a          userArgs
		ttl, limit time.Duration
	}{
		{userArgs{}, 7 * day, 0},
		{userArgs{TTL: f(60)}, time.Minute, 0},
		{userArgs{TTL: f(60), Sliding: &no}, time.Minute, 0},
		{userArgs{Sliding: &yes}, 7 * day, 30 * day},
		{userArgs{TTL: f(3600), Sliding: &yes, MaxTTL: f(7200)}, time.Hour, 2 * time.Hour},
		{userArgs{TTL: f(3600), Sliding: &yes, MaxTTL: f(3600)}, time.Hour, time.Hour},
		{userArgs{TTL: f(40 * 86400), Sliding: &yes, MaxTTL: f(MaxTokenTTL)}, 40 * day, MaxTokenTTL * time.Second},
	} {
		ttl, limit, err := sessionLifetimes(c.a)
		if err != nil || ttl != c.ttl || limit != c.limit {
			t.Errorf("%+v: %v, %v, %v; want %v, %v", c.a, ttl, limit, err, c.ttl, c.limit)
		}
	}
	for _, c := range []struct {
		a    userArgs
		says string
	}{
		{userArgs{TTL: f(-1), Sliding: &yes}, "ttl must be from 1"},
		{userArgs{TTL: f(3600), MaxTTL: f(7200)}, "add sliding: true"},
		{userArgs{TTL: f(3600), Sliding: &no, MaxTTL: f(7200)}, "add sliding: true"},
		{userArgs{TTL: f(7200), Sliding: &yes, MaxTTL: f(3600)}, "maxTtl (3600 seconds) is shorter than ttl (7200 seconds)"},
		{userArgs{TTL: f(4e6), Sliding: &yes, MaxTTL: f(3.5e6)}, "maxTtl (3500000 seconds) is shorter than ttl (4000000 seconds)"},
		{userArgs{TTL: f(1.5), Sliding: &yes, MaxTTL: f(1)}, "maxTtl (1 seconds) is shorter than ttl (1.5 seconds)"},
		{userArgs{Sliding: &yes, MaxTTL: f(-5)}, "maxTtl must be from 1"},
		{userArgs{Sliding: &yes, MaxTTL: f(0)}, "maxTtl must be from 1"},
		{userArgs{Sliding: &yes, MaxTTL: f(MaxTokenTTL + 1)}, "maxTtl must be from 1"},
		{userArgs{TTL: f(40 * 86400), Sliding: &yes}, "ttl of 3456000 seconds is longer than the default maxTtl of 2592000 seconds"},
	} {
		_, _, err := sessionLifetimes(c.a)
		if dataCode(err) != engine.CodeDataInvalid || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v; want data.invalid saying %q", c.a, err, c.says)
		}
	}
}
