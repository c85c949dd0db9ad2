// Package memrelease gives a Go process's free memory back to the
// operating system once the process has gone quiet.
//
// A daemon run with a generous garbage collector target (GOGC) grows its
// heap under load and keeps it: with little allocation when idle, no
// collection comes to shrink it, and the runtime's scavenger returns free
// pages only slowly. On a 512 MB board that memory is the user's. Watch
// forces one collection and returns every free page after a quiet spell,
// and does it again only after the process has been busy since.
package memrelease

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Tick is how often the daemon and its workers look whether they have
// gone quiet.
const Tick = 10 * time.Second

// quietBytes is the allocation below which a tick counts as idle.
const quietBytes = 4 << 20

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

// allocated is the process's cumulative heap allocation.
func allocated() uint64 {
	metrics.Read(allocSample)
	return allocSample[0].Value.Uint64()
}

// Watch checks the process every tick until ctx ends: after a tick in which
// it allocated less than quietBytes (4 MiB), following one in which it
// allocated more, it collects and returns the free memory to the operating
// system (debug.FreeOSMemory). released, if not nil, is called with the
// bytes of heap the release gave back.
func Watch(ctx context.Context, tick time.Duration, released func(bytes uint64)) {
	t := time.NewTicker(tick)
	defer t.Stop()
	last := allocated()
	busy := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		allocs := allocated()
		quiet := allocs-last < quietBytes
		last = allocs
		if !quiet {
			busy = true
			continue
		}
		if !busy {
			continue
		}
		busy = false
		before := heapMapped()
		debug.FreeOSMemory()
		if after := heapMapped(); released != nil && after < before {
			released(before - after)
		}
		last = allocated()
	}
}

var mapped = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
}

// heapMapped is the heap memory the process holds from the operating
// system (objects, unused span space and free pages not yet released).
func heapMapped() uint64 {
	metrics.Read(mapped)
	return mapped[0].Value.Uint64() + mapped[1].Value.Uint64() + mapped[2].Value.Uint64()
}
