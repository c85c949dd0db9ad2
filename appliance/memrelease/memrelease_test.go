package memrelease

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

var sink [][]byte

// TestWatchGivesBackAfterLoad grows the heap as a loaded daemon does (a
// live set under a high GOGC, and garbage), goes quiet, and expects Watch
// to give most of it back.
func TestWatchGivesBackAfterLoad(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan uint64, 4)
	go Watch(ctx, 50*time.Millisecond, func(b uint64) { got <- b })

	// Busy for a few ticks: 16 MiB live, 128 MiB of garbage.
	deadline := time.Now().Add(300 * time.Millisecond)
	for i := 0; time.Now().Before(deadline) || i < 144; i++ {
		b := make([]byte, 1<<20)
		if i < 16 {
			sink = append(sink, b)
		}
		time.Sleep(time.Millisecond)
	}
	before := heapMapped()
	sink = nil // the live set is garbage too now

	select {
	case b := <-got:
		if b < 8<<20 {
			t.Fatalf("released %d KiB of a %d KiB heap; want most of it", b>>10, before>>10)
		}
		if after := heapMapped(); after >= before {
			t.Fatalf("heap %d KiB after the release, %d KiB before", after>>10, before>>10)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("nothing released in 20 s of quiet (heap %d KiB)", heapMapped()>>10)
	}
}

// TestWatchLeavesAnIdleProcessAlone: a process that was never busy is not
// collected at every tick.
func TestWatchLeavesAnIdleProcessAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan uint64, 4)
	done := make(chan struct{})
	go func() { Watch(ctx, 20*time.Millisecond, func(b uint64) { got <- b }); close(done) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-done
	if len(got) > 0 {
		t.Fatalf("released %d bytes of a process that was never busy", <-got)
	}
}
