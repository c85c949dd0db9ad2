// Package testkit helps tests wait for a state or an event instead of
// sleeping, and share output written by another goroutine.
//
// A test that sleeps "long enough" for something to happen either flakes on
// a busy machine or waits longer than it needs to; a test that sleeps and
// then checks that something did NOT happen passes when it happens late.
// Wait for the state (Eventually) or the event (Receive) that proves what the
// test needs instead, with a deadline that only a broken program reaches.
//
// Eventually runs its check on the caller's goroutine, so checks may use the
// test's fatal helpers; call it, like t.Fatal, from the test's own goroutine.
//
// The package is for tests only and imports nothing of PiCloud, so that
// the tests of every layer may use it.
package testkit

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Poll intervals of Eventually: the first check is immediate, then the
// interval doubles from firstPoll up to maxPoll.
const (
	firstPoll = 2 * time.Millisecond
	maxPoll   = 100 * time.Millisecond
)

// Eventually calls check until it returns nil, and fails the test if it
// still returns an error after timeout. The failure says what is awaited
// (what) and what check returned last, which should describe the state it
// saw ("status 503, want 200"). check runs on the caller's goroutine.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	if err := Poll(timeout, check); err != nil {
		t.Fatalf("%s: not within %v: %v", what, timeout, err)
	}
}

// Poll calls check until it returns nil or timeout has passed, and returns
// nil or what check returned last. It is Eventually for code that must not
// fail the test itself (a helper that returns an error, another goroutine).
func Poll(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	interval := firstPoll
	for {
		err := check()
		if err == nil {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return err
		}
		time.Sleep(min(interval, left))
		interval = min(2*interval, maxPoll)
	}
}

// Receive waits for a value on ch and returns it; it fails the test if
// none comes within timeout, or if ch is closed first.
func Receive[T any](t testing.TB, timeout time.Duration, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the channel closed first", what)
		}
		return v
	case <-timer.C:
		t.Fatalf("%s: not within %v", what, timeout)
	}
	panic("unreachable")
}

// Buffer is a bytes.Buffer safe for one goroutine to write (a process's
// output copied by os/exec) while others read.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Len is the number of bytes written so far.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// Contains is nil when what was written from byte offset from on contains
// s, and otherwise an error quoting the end of it, for Eventually.
func (b *Buffer) Contains(from int, s string) error {
	out := b.String()
	out = out[min(from, len(out)):]
	if bytes.Contains([]byte(out), []byte(s)) {
		return nil
	}
	const tail = 2000
	if len(out) > tail {
		out = "…" + out[len(out)-tail:]
	}
	return fmt.Errorf("no %q in the output; it ends:\n%s", s, out)
}

// ProcStatus reads the fields of /proc/PID/status ("Uid", "CapEff",
// "NoNewPrivs", …), each value trimmed.
func ProcStatus(t testing.TB, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			st[k] = strings.TrimSpace(v)
		}
	}
	return st
}
