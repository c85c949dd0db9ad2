package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestLogsAndStreamPaths checks the paths that the records and the live
// stream of an app, of one script and of every app are asked at.
func TestLogsAndStreamPaths(t *testing.T) {
	var (
		mu    sync.Mutex
		asked string
	)
	got := func() string { mu.Lock(); defer mu.Unlock(); return asked }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = r.URL.RequestURI()
		mu.Unlock()
		if r.Header.Get("Accept") == "text/event-stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"logs":[]}`))
	}))
	defer srv.Close()
	c := New(srv.URL, srv.Client(), "")
	ctx := context.Background()

	for _, tc := range []struct {
		app, script      string
		logs, streamPath string
	}{
		{"a1", "", "/api/v1/admin/logs?app_id=a1&limit=5", "/api/v1/admin/logs/stream?app_id=a1"},
		{"a1", "s1", "/api/v1/admin/logs?limit=5&script_id=s1", "/api/v1/admin/logs/stream?script_id=s1"},
		{AllApps, "", "/api/v1/admin/logs/all?limit=5", "/api/v1/admin/logs/all/stream?"},
	} {
		if _, err := c.Logs(ctx, tc.app, tc.script, 5); err != nil {
			t.Fatalf("logs of app %q script %q: %v", tc.app, tc.script, err)
		}
		if got() != tc.logs {
			t.Errorf("logs of app %q script %q asked at %s, want %s", tc.app, tc.script, got(), tc.logs)
		}
		st, err := c.Stream(ctx, tc.app, tc.script)
		if err != nil {
			t.Fatalf("stream of app %q script %q: %v", tc.app, tc.script, err)
		}
		st.Close()
		if got() != tc.streamPath {
			t.Errorf("stream of app %q script %q asked at %s, want %s", tc.app, tc.script, got(), tc.streamPath)
		}
	}
}
