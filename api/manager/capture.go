package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/picloud/picloud/api/model"
)

// CaptureStore keeps scripts' request captures and the requests they
// kept; appliance/store's Store satisfies it.
type CaptureStore interface {
	CaptureSetting(ctx context.Context, scriptID string) (model.CaptureSetting, error)
	SetCapture(ctx context.Context, c model.CaptureSetting) (model.CaptureSetting, error)
	DeleteCapture(ctx context.Context, scriptID string) (bool, error)
	CapturedRequests(ctx context.Context, scriptID string) ([]model.CapturedRequest, error)
}

// ErrNoCapture means the daemon was built without request capture.
var ErrNoCapture = errors.New("request capture is not available on this daemon")

// maxRedactHeaders bounds the headers a capture names to redact.
const maxRedactHeaders = 50

// CaptureView is a script's request capture as the admin API shows it.
type CaptureView struct {
	ScriptID string `json:"script_id"`
	Enabled  bool   `json:"enabled"`
	// MaxRequests is how many requests are kept, 0 while capture is off.
	MaxRequests   int        `json:"max_requests"`
	RedactHeaders []string   `json:"redact_headers"`
	UpdatedAt     *time.Time `json:"updated_at,omitempty"`
	// Captured is how many requests are kept now.
	Captured int `json:"captured"`
}

// CaptureSetting is a script's request capture, off unless an owner or
// admin turned it on.
func (s *Service) CaptureSetting(ctx context.Context, scriptID string) (CaptureView, error) {
	if s.cfg.Capture == nil {
		return CaptureView{}, ErrNoCapture
	}
	if _, err := s.store.ScriptByID(ctx, scriptID); err != nil {
		return CaptureView{}, err
	}
	v := CaptureView{ScriptID: scriptID, RedactHeaders: []string{}}
	c, err := s.cfg.Capture.CaptureSetting(ctx, scriptID)
	switch {
	case errors.Is(err, model.ErrNotFound):
		return v, nil
	case err != nil:
		return CaptureView{}, err
	}
	reqs, err := s.cfg.Capture.CapturedRequests(ctx, scriptID)
	if err != nil {
		return CaptureView{}, err
	}
	v.Enabled, v.MaxRequests, v.RedactHeaders, v.UpdatedAt, v.Captured = true, c.MaxRequests, c.RedactHeaders, &c.UpdatedAt, len(reqs)
	return v, nil
}

// SetCapture turns a script's request capture on, or changes it: keep
// the last maxRequests (1 to model.MaxCaptureRequests) public requests,
// with the headers named by redact redacted besides the credentials'.
func (s *Service) SetCapture(ctx context.Context, a model.Actor, scriptID string, maxRequests int, redact []string) (CaptureView, error) {
	if s.cfg.Capture == nil {
		return CaptureView{}, ErrNoCapture
	}
	if maxRequests < 1 || maxRequests > model.MaxCaptureRequests {
		return CaptureView{}, fmt.Errorf("%w: max_requests must be between 1 and %d, not %d", model.ErrInvalid, model.MaxCaptureRequests, maxRequests)
	}
	if len(redact) > maxRedactHeaders {
		return CaptureView{}, fmt.Errorf("%w: redact_headers names %d headers, over the %d allowed", model.ErrInvalid, len(redact), maxRedactHeaders)
	}
	names := []string{}
	for _, h := range redact {
		if !headerName(h) {
			return CaptureView{}, fmt.Errorf("%w: redact_headers: %q is not a header name", model.ErrInvalid, h)
		}
		if h = http.CanonicalHeaderKey(h); !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		sc, err := s.store.ScriptByID(ctx, scriptID)
		if err != nil {
			return err
		}
		if _, err := s.cfg.Capture.SetCapture(ctx, model.CaptureSetting{ScriptID: scriptID, MaxRequests: maxRequests, RedactHeaders: names}); err != nil {
			return err
		}
		return s.audit(ctx, a, "script.capture", sc.AppID, scriptID,
			map[string]any{"name": sc.Name, "max_requests": maxRequests, "redact_headers": names})
	})
	if err != nil {
		return CaptureView{}, err
	}
	s.captureChanged(ctx)
	s.log.Info("request capture on", "script", scriptID, "max_requests", maxRequests, "user", a.Username)
	return s.CaptureSetting(ctx, scriptID)
}

// DisableCapture turns a script's request capture off and deletes the
// requests it kept.
func (s *Service) DisableCapture(ctx context.Context, a model.Actor, scriptID string) error {
	if s.cfg.Capture == nil {
		return ErrNoCapture
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		sc, err := s.store.ScriptByID(ctx, scriptID)
		if err != nil {
			return err
		}
		if _, err := s.cfg.Capture.DeleteCapture(ctx, scriptID); err != nil {
			return err
		}
		return s.audit(ctx, a, "script.capture_off", sc.AppID, scriptID, map[string]any{"name": sc.Name})
	})
	if err != nil {
		return err
	}
	s.captureChanged(ctx)
	s.log.Info("request capture off", "script", scriptID, "user", a.Username)
	return nil
}

// CapturedRequests lists the requests a script's capture kept, oldest
// first; none while capture is off.
func (s *Service) CapturedRequests(ctx context.Context, scriptID string) ([]model.CapturedRequest, error) {
	if s.cfg.Capture == nil {
		return nil, ErrNoCapture
	}
	if _, err := s.store.ScriptByID(ctx, scriptID); err != nil {
		return nil, err
	}
	return s.cfg.Capture.CapturedRequests(ctx, scriptID)
}

// captureChanged tells the capture of requests that a script's setting
// changed.
func (s *Service) captureChanged(ctx context.Context) {
	if s.cfg.CaptureChanged == nil {
		return
	}
	if err := s.cfg.CaptureChanged(ctx); err != nil {
		s.log.Error("reload the request captures", "err", err)
	}
}

// headerName reports whether h is an HTTP header name: a token.
func headerName(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
