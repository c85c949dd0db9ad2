package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestPacerBurstThenPace(t *testing.T) {
	p := NewPacer(PacerConfig{Burst: 3, Period: 30 * time.Second})
	for range 3 {
		if _, _, ok := p.Reserve("k", t0); !ok {
			t.Fatal("refused within the burst")
		}
	}
	// Past the burst the wait is one interval (10 s), never a lockout.
	if r, wait, ok := p.Reserve("k", t0); ok || r != nil || wait != 10*time.Second {
		t.Fatalf("past the burst: %v, %v, %v; want refused for 10s", r, wait, ok)
	}
	if _, wait, ok := p.Reserve("k", at(4*time.Second)); ok || wait != 6*time.Second {
		t.Fatalf("4 s later: %v, %v; want refused for 6s", ok, wait)
	}
	r, _, ok := p.Reserve("k", at(10*time.Second))
	if !ok {
		t.Fatal("refused after one interval")
	}
	r.Fail(at(10 * time.Second)) // a failure keeps its slot
	if _, _, ok := p.Reserve("k", at(10*time.Second)); ok {
		t.Fatal("a failed attempt gave its slot back")
	}
	if _, _, ok := p.Reserve("other", at(10*time.Second)); !ok {
		t.Fatal("another key was refused")
	}
}

func TestPacerCancelGivesBack(t *testing.T) {
	p := NewPacer(PacerConfig{Burst: 2, Period: time.Minute})
	a, _, _ := p.Reserve("k", t0)
	b, _, _ := p.Reserve("k", t0)
	if _, _, ok := p.Reserve("k", t0); ok {
		t.Fatal("a third attempt within a burst of 2")
	}
	a.Cancel()
	a.Cancel() // twice: once given back
	if _, _, ok := p.Reserve("k", t0); !ok {
		t.Fatal("a cancelled attempt kept its slot")
	}
	if _, _, ok := p.Reserve("k", t0); ok {
		t.Fatal("a slot was given back twice")
	}
	b.Fail(t0)
}

func TestPacerForgetsFreeKeys(t *testing.T) {
	p := NewPacer(PacerConfig{Burst: 2, Period: time.Minute, MaxEntries: 10})
	for i := range 25 {
		p.Reserve(fmt.Sprint("k", i), t0)
	}
	if p.Len() != 10 {
		t.Fatalf("Len() = %d, want the cap 10", p.Len())
	}
	p.Reserve("late", at(31*time.Second)) // every other key's slot is free again
	if p.Len() != 1 {
		t.Fatalf("Len() = %d, want 1", p.Len())
	}
}

func TestPacerConfigDefaults(t *testing.T) {
	if got := NewPacer(PacerConfig{}).Config(); got != DefaultPacerConfig() {
		t.Fatalf("PacerConfig{} gives %+v", got)
	}
}
