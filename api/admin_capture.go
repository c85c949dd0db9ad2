package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/capture"
	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/engine"
)

// getCapture answers a script's request capture setting.
func (s *server) getCapture(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	v, err := s.deps.Manager.CaptureSetting(c, id)
	if err != nil {
		s.captureFail(c, err)
		return
	}
	c.JSON(http.StatusOK, captureView(v))
}

type captureRequest struct {
	MaxRequests   *int     `json:"max_requests"`
	RedactHeaders []string `json:"redact_headers"`
}

// setCapture turns a script's request capture on, or changes it.
func (s *server) setCapture(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	var req captureRequest
	if !bindJSON(c, &req) {
		return
	}
	if req.MaxRequests == nil {
		writeError(c, http.StatusBadRequest, "max_requests is required: how many of the script's last requests to keep, 1 to "+
			strconv.Itoa(model.MaxCaptureRequests))
		return
	}
	v, err := s.deps.Manager.SetCapture(c, s.actor(c), id, *req.MaxRequests, req.RedactHeaders)
	if err != nil {
		s.captureFail(c, err)
		return
	}
	c.JSON(http.StatusOK, captureView(v))
}

// deleteCapture turns a script's request capture off, deleting what it
// kept.
func (s *server) deleteCapture(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	if err := s.deps.Manager.DisableCapture(c, s.actor(c), id); err != nil {
		s.captureFail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// captureSetting is a capture setting as the API answers it.
type captureSetting struct {
	manager.CaptureView
	// AlwaysRedacted are the headers redacted whatever the setting says.
	AlwaysRedacted []string `json:"always_redacted"`
}

func captureView(v manager.CaptureView) captureSetting {
	return captureSetting{CaptureView: v, AlwaysRedacted: capture.AlwaysRedacted}
}

// capturedRequest is a captured request as the API answers it: each
// body as text when it is UTF-8, else base64 (its encoding says which).
type capturedRequest struct {
	ID                   int64               `json:"id"`
	Version              int                 `json:"version"`
	Method               string              `json:"method"`
	URL                  string              `json:"url"`
	RequestHeaders       map[string][]string `json:"request_headers"`
	RequestBody          string              `json:"request_body"`
	RequestBodyEncoding  string              `json:"request_body_encoding"`
	Status               int                 `json:"status"`
	ResponseHeaders      map[string][]string `json:"response_headers"`
	ResponseBody         string              `json:"response_body"`
	ResponseBodyEncoding string              `json:"response_body_encoding"`
	CreatedAt            time.Time           `json:"created_at"`
}

// bodyText is a body as text, or base64 when it is not UTF-8.
func bodyText(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), "text"
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// listCaptured answers the requests a script's capture kept, oldest
// first.
func (s *server) listCaptured(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	reqs, err := s.deps.Manager.CapturedRequests(c, id)
	if err != nil {
		s.captureFail(c, err)
		return
	}
	out := make([]capturedRequest, len(reqs))
	for i, r := range reqs {
		v := capturedRequest{ID: r.ID, Version: r.Version, Method: r.Method, URL: r.URL, RequestHeaders: r.RequestHeaders,
			Status: r.Status, ResponseHeaders: r.ResponseHeaders, CreatedAt: r.CreatedAt}
		v.RequestBody, v.RequestBodyEncoding = bodyText(r.RequestBody)
		v.ResponseBody, v.ResponseBodyEncoding = bodyText(r.ResponseBody)
		out[i] = v
	}
	c.JSON(http.StatusOK, gin.H{"requests": out})
}

// replayVersion runs a version of a script against every request its
// capture kept, as replays (nothing leaves the board, data calls are
// rolled back), and reports how each answer compares with the captured
// one.
func (s *server) replayVersion(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	n, ok := versionNumber(c, "the version", c.Param("version"))
	if !ok {
		return
	}
	setting, err := s.deps.Manager.CaptureSetting(c, id)
	if err != nil {
		s.captureFail(c, err)
		return
	}
	sc, err := s.deps.Manager.ScriptAtVersion(c, id, n)
	if err != nil {
		s.fail(c, err)
		return
	}
	reqs, err := s.deps.Manager.CapturedRequests(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	report := capture.Report{ScriptID: id, Version: n, CaptureEnabled: setting.Enabled, Requests: []capture.Result{}}
	for _, r := range reqs {
		res, err := s.deps.Orchestrator.Replay(c, &sc, engine.Request{Method: r.Method, URL: r.URL,
			Header: engine.Header(r.RequestHeaders), Body: r.RequestBody})
		if err != nil {
			s.fail(c, err)
			return
		}
		got := capture.Outcome{Status: orchestrator.StatusOf(res), Header: map[string][]string{}}
		if res.Response != nil {
			got.Header = capture.Redact(res.Response.Header, setting.RedactHeaders)
			got.Body = res.Response.Body
		}
		if e := res.Error; e != nil {
			got.Error = &capture.Failure{Code: e.Code, Message: e.Message}
		}
		result := capture.Compare(r.Status, r.ResponseHeaders, r.ResponseBody, got)
		result.ID, result.Method, result.URL = r.ID, r.Method, r.URL
		report.Add(result)
	}
	c.JSON(http.StatusOK, report)
}

// captureFail answers a capture call's error.
func (s *server) captureFail(c *gin.Context, err error) {
	if errors.Is(err, manager.ErrNoCapture) {
		writeError(c, http.StatusNotImplemented, err.Error())
		return
	}
	s.fail(c, err)
}
