package jobs

import (
	"testing"
	"time"
)

// TestInboxSleepsUntilItsRetries: with no retry planned the inbox sleeps
// a whole poll; with some, until the earliest is due; a retry due before
// the last pass began is forgotten (that pass took it), the later ones
// are kept.
func TestInboxSleepsUntilItsRetries(t *testing.T) {
	b := &inbox{}
	start := time.Now()
	if w := b.nextWait(start); w != inboxPoll {
		t.Fatalf("nothing planned: sleeps %v, want %v", w, inboxPoll)
	}
	b.dueAt(time.Now().Add(time.Hour))
	b.dueAt(time.Now().Add(time.Second)) // the earliest counts
	if w := b.nextWait(start); w <= 0 || w > time.Second {
		t.Fatalf("a retry due in 1 s: sleeps %v", w)
	}
	b.dueAt(start.Add(-time.Second))
	if w := b.nextWait(start); w <= 0 || w > time.Second {
		t.Fatalf("a retry due before the pass, another in 1 s: sleeps %v", w)
	}
	later := time.Now()
	if w := b.nextWait(later.Add(2 * time.Second)); w != inboxPoll {
		t.Fatalf("after a pass that took them, only one an hour away: sleeps %v, want %v", w, inboxPoll)
	}
}
