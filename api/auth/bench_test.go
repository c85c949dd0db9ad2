package auth

import (
	"context"
	"testing"
	"time"
)

// BenchmarkVerifyDefault measures one verification with DefaultParams, the
// cost of a login (multiply by roughly 10–20 for a Pi Zero 2 W).
func BenchmarkVerifyDefault(b *testing.B) {
	h := NewHasher(DefaultParams)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify(ctx, "correct horse battery", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkLimiterFailure(b *testing.B) {
	l := NewLimiter(LimiterConfig{})
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Hour) // the old entry has expired: the cost of a new key
		if r, _, ok := l.Reserve("203.0.113.7", now); ok {
			r.Fail(now)
		}
	}
}
