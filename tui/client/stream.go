package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Stream is the live stream of execution records
// (GET /api/v1/admin/logs/stream, Server-Sent Events).
type Stream struct {
	body   io.ReadCloser
	sc     *bufio.Scanner
	cancel context.CancelFunc
}

// Stream opens the live stream of an app's (or one script's, or with
// AllApps every readable app's) executions.
// Close it when done.
func (c *Client) Stream(ctx context.Context, appID, scriptID string) (*Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := c.newRequest(ctx, "GET", logsPath("/stream", appID, scriptID, url.Values{}), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open the log stream: %w", err)
	}
	if res.StatusCode != 200 {
		defer cancel()
		defer res.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		return nil, decodeError(res.StatusCode, data)
	}
	return NewStream(res.Body, cancel), nil
}

// NewStream reads Server-Sent Events of execution records from body;
// cancel, if not nil, is called by Close.
func NewStream(body io.ReadCloser, cancel context.CancelFunc) *Stream {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	return &Stream{body: body, sc: sc, cancel: cancel}
}

// Next waits for the next execution record; io.EOF when the stream ends.
func (s *Stream) Next() (Execution, error) {
	event, data := "", ""
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if event == "execution" && data != "" {
				var e Execution
				if err := json.Unmarshal([]byte(data), &e); err != nil {
					return Execution{}, fmt.Errorf("read a log event: %w", err)
				}
				return e, nil
			}
			event, data = "", ""
		case strings.HasPrefix(line, ":"): // a comment: connected, ping
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			if data != "" {
				data += "\n"
			}
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
	if err := s.sc.Err(); err != nil {
		return Execution{}, fmt.Errorf("read the log stream: %w", err)
	}
	return Execution{}, io.EOF
}

// Close ends the stream.
func (s *Stream) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	return s.body.Close()
}
