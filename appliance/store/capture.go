package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

const captureColumns = `script_id::text, max_requests, redact_headers, updated_at`

func scanCapture(r interface{ Scan(...any) error }) (model.CaptureSetting, error) {
	var c model.CaptureSetting
	err := r.Scan(&c.ScriptID, &c.MaxRequests, &c.RedactHeaders, &c.UpdatedAt)
	return c, err
}

// CaptureSettings lists the scripts whose requests are captured.
func (s *Store) CaptureSettings(ctx context.Context) ([]model.CaptureSetting, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+captureColumns+` FROM script_capture ORDER BY script_id`)
	if err != nil {
		return nil, fmt.Errorf("list the request captures: %w", mapError(err))
	}
	return collect(rows, scanCapture, "list the request captures")
}

// CaptureSetting is a script's request capture; model.ErrNotFound when
// it is off.
func (s *Store) CaptureSetting(ctx context.Context, scriptID string) (model.CaptureSetting, error) {
	c, err := scanCapture(s.q(ctx).QueryRow(ctx, `SELECT `+captureColumns+` FROM script_capture WHERE script_id = $1`, scriptID))
	if err != nil {
		return model.CaptureSetting{}, fmt.Errorf("load the request capture of script %s: %w", scriptID, mapError(err))
	}
	return c, nil
}

// SetCapture turns a script's request capture on, or changes it, and
// drops the requests kept past its new count.
func (s *Store) SetCapture(ctx context.Context, c model.CaptureSetting) (model.CaptureSetting, error) {
	if c.RedactHeaders == nil {
		c.RedactHeaders = []string{}
	}
	out, err := scanCapture(s.q(ctx).QueryRow(ctx, `
INSERT INTO script_capture (script_id, max_requests, redact_headers) VALUES ($1, $2, $3)
ON CONFLICT (script_id) DO UPDATE SET max_requests = $2, redact_headers = $3, updated_at = now()
RETURNING `+captureColumns, c.ScriptID, c.MaxRequests, c.RedactHeaders))
	if err != nil {
		return model.CaptureSetting{}, fmt.Errorf("set the request capture of script %s: %w", c.ScriptID, mapError(err))
	}
	if err := s.trimCaptured(ctx, c.ScriptID, c.MaxRequests); err != nil {
		return model.CaptureSetting{}, err
	}
	return out, nil
}

// DeleteCapture turns a script's request capture off and deletes the
// requests it kept; it reports whether capture was on.
func (s *Store) DeleteCapture(ctx context.Context, scriptID string) (bool, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM script_capture WHERE script_id = $1`, scriptID)
	if err != nil {
		return false, fmt.Errorf("turn off the request capture of script %s: %w", scriptID, mapError(err))
	}
	if _, err := s.q(ctx).Exec(ctx, `DELETE FROM captured_requests WHERE script_id = $1`, scriptID); err != nil {
		return false, fmt.Errorf("delete the captured requests of script %s: %w", scriptID, mapError(err))
	}
	return tag.RowsAffected() > 0, nil
}

// InsertCapturedRequest keeps a request of a script whose capture is on,
// and drops its oldest past the capture's count; nothing when capture
// is off (it was turned off since the request).
func (s *Store) InsertCapturedRequest(ctx context.Context, r model.CapturedRequest) error {
	reqH, err := json.Marshal(r.RequestHeaders)
	if err != nil {
		return fmt.Errorf("encode a captured request's headers: %w", err)
	}
	respH, err := json.Marshal(r.ResponseHeaders)
	if err != nil {
		return fmt.Errorf("encode a captured response's headers: %w", err)
	}
	return s.Atomically(ctx, func(ctx context.Context) error {
		var keep int
		err := s.q(ctx).QueryRow(ctx, `SELECT max_requests FROM script_capture WHERE script_id = $1 FOR UPDATE`, r.ScriptID).Scan(&keep)
		if err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return fmt.Errorf("keep a request of script %s: %w", r.ScriptID, mapError(err))
		}
		_, err = s.q(ctx).Exec(ctx, `
INSERT INTO captured_requests (script_id, version, method, url, request_headers, request_body, status, response_headers, response_body)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ScriptID, r.Version, r.Method, r.URL, reqH, nonNil(r.RequestBody), r.Status, respH, nonNil(r.ResponseBody))
		if err != nil {
			return fmt.Errorf("keep a request of script %s: %w", r.ScriptID, mapError(err))
		}
		return s.trimCaptured(ctx, r.ScriptID, keep)
	})
}

// trimCaptured keeps the last keep requests of a script.
func (s *Store) trimCaptured(ctx context.Context, scriptID string, keep int) error {
	_, err := s.q(ctx).Exec(ctx, `
DELETE FROM captured_requests WHERE script_id = $1 AND id NOT IN (
  SELECT id FROM captured_requests WHERE script_id = $1 ORDER BY id DESC LIMIT $2)`, scriptID, keep)
	if err != nil {
		return fmt.Errorf("drop the oldest captured requests of script %s: %w", scriptID, mapError(err))
	}
	return nil
}

// CapturedRequests lists the requests kept for a script, oldest first.
func (s *Store) CapturedRequests(ctx context.Context, scriptID string) ([]model.CapturedRequest, error) {
	rows, err := s.q(ctx).Query(ctx, `
SELECT id, script_id::text, version, method, url, request_headers, request_body, status, response_headers, response_body, created_at
FROM captured_requests WHERE script_id = $1 ORDER BY id`, scriptID)
	if err != nil {
		return nil, fmt.Errorf("list the captured requests of script %s: %w", scriptID, mapError(err))
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (model.CapturedRequest, error) {
		var c model.CapturedRequest
		var reqH, respH []byte
		if err := r.Scan(&c.ID, &c.ScriptID, &c.Version, &c.Method, &c.URL, &reqH, &c.RequestBody, &c.Status, &respH, &c.ResponseBody, &c.CreatedAt); err != nil {
			return c, err
		}
		if err := json.Unmarshal(reqH, &c.RequestHeaders); err != nil {
			return c, err
		}
		return c, json.Unmarshal(respH, &c.ResponseHeaders)
	}, "list the captured requests of script "+scriptID)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
