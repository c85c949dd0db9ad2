// Package capture keeps the public HTTP requests that scripts' active
// versions answered, for the scripts whose owner turned capture on, so
// that a version not yet live can be replayed against them (see
// Compare). Headers that carry credentials, and those the capture names,
// are redacted before anything is stored. Requests are written in the
// background, never delaying the response: when the queue is full, a
// request is dropped.
package capture

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// Bounds of what is kept: a request whose body, or whose response's
// body, is larger is not kept.
const (
	MaxRequestBody  = 64 << 10
	MaxResponseBody = 256 << 10
)

// queueLen is how many requests wait to be written at most.
const queueLen = 256

// Redacted replaces the values of redacted headers.
const Redacted = "[redacted]"

// AlwaysRedacted are the headers redacted whatever the capture says.
var AlwaysRedacted = []string{"Authorization", "Cookie", "Proxy-Authorization", "Set-Cookie"}

// Store keeps the captured requests; appliance/store's Store satisfies it.
type Store interface {
	CaptureSettings(ctx context.Context) ([]model.CaptureSetting, error)
	InsertCapturedRequest(ctx context.Context, r model.CapturedRequest) error
}

// Service captures requests. It is safe for concurrent use.
type Service struct {
	st       Store
	log      *slog.Logger
	settings atomic.Pointer[map[string]model.CaptureSetting] // by script id
	queue    chan model.CapturedRequest
	dropped  atomic.Uint64
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

// New returns a Service that captures nothing until Reload reads the
// settings; Start starts its writer.
func New(st Store, logger *slog.Logger) *Service {
	s := &Service{st: st, log: logger.With("component", "capture"),
		queue: make(chan model.CapturedRequest, queueLen), stop: make(chan struct{})}
	empty := map[string]model.CaptureSetting{}
	s.settings.Store(&empty)
	return s
}

// Reload reads which scripts capture requests, after a change.
func (s *Service) Reload(ctx context.Context) error {
	list, err := s.st.CaptureSettings(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]model.CaptureSetting, len(list))
	for _, c := range list {
		m[c.ScriptID] = c
	}
	s.settings.Store(&m)
	return nil
}

// Start starts the writer of captured requests; Stop ends it.
func (s *Service) Start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case <-s.stop:
				return
			case r := <-s.queue:
				if err := s.st.InsertCapturedRequest(context.Background(), r); err != nil {
					s.log.Warn("keep a captured request", "script", r.ScriptID, "err", err)
				}
			}
		}
	}()
}

// Stop ends the writer; requests still queued are dropped.
func (s *Service) Stop(ctx context.Context) error {
	s.once.Do(func() { close(s.stop) })
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Dropped counts the requests dropped because the queue was full.
func (s *Service) Dropped() uint64 { return s.dropped.Load() }

// Capture hands over a request that version of script answered with
// resp, for the public: it is kept, redacted, if the script captures
// requests and both bodies are within bounds. It never blocks.
func (s *Service) Capture(scriptID string, version int, req engine.Request, resp *engine.Response) {
	c, ok := (*s.settings.Load())[scriptID]
	if !ok || len(req.Body) > MaxRequestBody {
		return
	}
	r := model.CapturedRequest{ScriptID: scriptID, Version: version, Method: req.Method, URL: req.URL,
		RequestHeaders: Redact(req.Header, c.RedactHeaders), RequestBody: req.Body, Status: http.StatusNoContent}
	if resp != nil {
		if len(resp.Body) > MaxResponseBody {
			return
		}
		r.Status, r.ResponseHeaders, r.ResponseBody = resp.Status, Redact(resp.Header, c.RedactHeaders), resp.Body
	}
	if r.ResponseHeaders == nil {
		r.ResponseHeaders = map[string][]string{}
	}
	select {
	case s.queue <- r:
	default:
		s.dropped.Add(1)
	}
}

// Redact copies h with the values of the credentials' headers and of
// extra replaced by Redacted.
func Redact(h map[string][]string, extra []string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		if slices.Contains(AlwaysRedacted, ck) || slices.ContainsFunc(extra, func(e string) bool { return http.CanonicalHeaderKey(e) == ck }) {
			out[k] = []string{Redacted}
			continue
		}
		out[k] = slices.Clone(vs)
	}
	return out
}
