package testkit

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that records a fatal failure instead of ending
// the goroutine, as testing does.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	panic(r)
}

// fails runs f with a recorder and returns what it failed with.
func fails(t *testing.T, f func(tb testing.TB)) (msg string) {
	r := &recorder{TB: t}
	defer func() {
		if p := recover(); p != nil && p != any(r) {
			panic(p)
		}
		msg = r.failed
	}()
	f(r)
	return ""
}

func TestEventuallyWaitsForTheState(t *testing.T) {
	var n atomic.Int32
	Eventually(t, 10*time.Second, "the third call", func() error {
		if n.Add(1) < 3 {
			return fmt.Errorf("call %d", n.Load())
		}
		return nil
	})
	if n.Load() != 3 {
		t.Fatalf("check called %d times after it succeeded, want 3", n.Load())
	}
}

func TestEventuallyReportsTheLastState(t *testing.T) {
	calls := 0
	msg := fails(t, func(tb testing.TB) {
		Eventually(tb, 30*time.Millisecond, "the impossible", func() error {
			calls++
			return fmt.Errorf("seen %d", calls)
		})
	})
	if !strings.Contains(msg, "the impossible") || !strings.Contains(msg, fmt.Sprintf("seen %d", calls)) || calls < 2 {
		t.Fatalf("failure %q after %d calls: want the last state seen", msg, calls)
	}
}

func TestPollReturnsTheLastError(t *testing.T) {
	last := errors.New("still not")
	if err := Poll(10*time.Millisecond, func() error { return last }); err != last {
		t.Fatalf("Poll = %v, want the check's last error", err)
	}
	if err := Poll(0, func() error { return nil }); err != nil {
		t.Fatalf("Poll of a true check = %v", err)
	}
}

func TestReceive(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if v := Receive(t, time.Second, "a value", ch); v != 7 {
		t.Fatalf("Receive = %d", v)
	}
	if msg := fails(t, func(tb testing.TB) { Receive(tb, 10*time.Millisecond, "nothing", ch) }); !strings.Contains(msg, "nothing: not within") {
		t.Fatalf("timeout failure %q", msg)
	}
	close(ch)
	if msg := fails(t, func(tb testing.TB) { Receive(tb, time.Second, "closed", ch) }); !strings.Contains(msg, "closed first") {
		t.Fatalf("closed channel failure %q", msg)
	}
}

func TestBuffer(t *testing.T) {
	var b Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			fmt.Fprintf(&b, "line %d\n", i)
		}
	}()
	Eventually(t, 10*time.Second, "the last line", func() error { return b.Contains(0, "line 99\n") })
	<-done
	mark := b.Len()
	if err := b.Contains(mark, "line 1"); err == nil || !strings.Contains(err.Error(), `no "line 1"`) {
		t.Fatalf("Contains after the mark = %v, want nothing found", err)
	}
	fmt.Fprint(&b, "line 100")
	if err := b.Contains(mark, "line 1"); err != nil {
		t.Fatal(err)
	}
}
