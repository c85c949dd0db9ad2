package execlog

import (
	"sync"

	"github.com/picloud/picloud/api/model"
)

// Hub fans execution records out to live subscribers. A subscriber that
// does not keep up loses records rather than slowing executions down.
type Hub struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription is one live listener.
type Subscription struct {
	C       <-chan model.ExecutionRecord
	c       chan model.ExecutionRecord
	filter  func(model.ExecutionRecord) bool
	hub     *Hub
	once    sync.Once
	dropped int
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscribe returns a subscription to records that pass filter (nil: all).
func (h *Hub) Subscribe(filter func(model.ExecutionRecord) bool) *Subscription {
	c := make(chan model.ExecutionRecord, 256)
	s := &Subscription{C: c, c: c, filter: filter, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close ends the subscription and closes its channel.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.hub.mu.Lock()
		delete(s.hub.subs, s)
		s.hub.mu.Unlock()
		close(s.c)
	})
}

// Publish sends rec to every matching subscriber without blocking.
func (h *Hub) Publish(rec model.ExecutionRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.filter != nil && !s.filter(rec) {
			continue
		}
		select {
		case s.c <- rec:
		default:
			s.dropped++
		}
	}
}

// CloseAll ends every subscription, e.g. on shutdown.
func (h *Hub) CloseAll() {
	h.mu.Lock()
	subs := make([]*Subscription, 0, len(h.subs))
	for s := range h.subs {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
}
