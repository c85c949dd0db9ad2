package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/orchestrator"
	"github.com/picloud/picloud/engine"
)

// dispatch serves every path that is not PiCloud's own through the user
// routes; no match is a 404 with a JSON error.
func (s *server) dispatch(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		notFound(c) // PiCloud's own prefix: never a user route
		return
	}
	t, ok, err := s.deps.Orchestrator.Resolve(c, c.Request.Host, c.Request.Method, c.Request.URL.EscapedPath())
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ok {
		writeError(c, http.StatusNotFound, "no route matches "+c.Request.Method+" "+c.Request.URL.Path)
		return
	}
	// The host reaches this app: its cookies are the app's own.
	s.run(c, t, served{ownHost: !s.adminHosts.Allows(c.Request.Host), ownCookies: true, public: true})
}

// served says how the host a request came on relates to the app of the
// script that answers it.
type served struct {
	// ownHost: the host is one of the app's own and not an admin host
	// name. Otherwise the response is sandboxed and may not set HSTS or
	// Clear-Site-Data.
	ownHost bool
	// ownCookies: the host reaches the app (an admin host name does, for
	// the default app with the fallback on), so its cookies are the app's
	// and reach the script, all but PiCloud's session cookie.
	ownCookies bool
	// public: the request reaches the script's active version as the
	// public's, which the script's request capture may keep.
	public bool
}

// run reads the body, runs the target and writes its response or error.
func (s *server) run(c *gin.Context, t orchestrator.Target, on served) {
	r := c.Request
	limit := s.cfg.MaxRequestBodyBytes
	if r.ContentLength > limit {
		writeError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit))
		return
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, limit))
		if isBodyTimeout(err) {
			bodyTimedOut(c)
			return
		}
		if isTooLarge(err) {
			writeError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit))
			return
		}
		if err != nil {
			writeError(c, http.StatusBadRequest, "could not read the request body")
			return
		}
	}
	scheme := "http"
	if isHTTPS(c) {
		scheme = "https"
	}
	reqID := c.GetString(requestIDKey)
	// The client's address reaches the data service (users.verify is
	// throttled per account and address), never the script.
	ctx := engine.WithClientAddress(c, c.ClientIP())
	res, err := s.deps.Orchestrator.Run(ctx, t, orchestrator.Call{
		RequestID: reqID,
		Path:      r.URL.Path,
		Request: engine.Request{
			Method: r.Method,
			URL:    scheme + "://" + r.Host + r.URL.RequestURI(),
			Header: scriptRequestHeader(r.Header, on.ownCookies),
			Body:   body,
		},
		Capture: on.public,
	})
	if errors.Is(err, orchestrator.ErrOverloaded) {
		c.Header("Retry-After", "1")
		writeError(c, http.StatusServiceUnavailable, "too many executions in progress; retry in a second")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if res.Error != nil {
		e := res.Error
		s.log.Warn("execution failed", "script", t.Script.Name, "script_id", t.Script.ID,
			"version", t.Script.ActiveVersion, "code", e.Code, "error", e.Message, "line", e.Line, "request_id", reqID)
		body := gin.H{"error": e.Message, "code": e.Code, "script": t.Script.Name, "script_id": t.Script.ID,
			"version": t.Script.ActiveVersion, "request_id": reqID}
		if e.Line > 0 { // unknown for a worker killed from outside
			body["line"], body["column"] = e.Line, e.Column
		}
		c.AbortWithStatusJSON(orchestrator.StatusOf(res), body)
		return
	}
	writeResponse(c, res.Response, on.ownHost)
}

// hopHeaders are not a script's to set.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true, "Content-Length": true,
	"Upgrade": true, "Trailer": true, "Te": true, "Proxy-Connection": true,
}

// writeResponse writes a script's response, without the headers a script
// may not send (see responseHeaderAllowed). Unless ownHost — on an admin
// host name, or another app's domain — userContentPolicy is added to
// whatever policy the script set.
func writeResponse(c *gin.Context, resp *engine.Response, ownHost bool) {
	if resp == nil {
		c.Status(http.StatusNoContent)
		return
	}
	h := c.Writer.Header()
	for k, vs := range resp.Header {
		ck := http.CanonicalHeaderKey(k)
		if hopHeaders[ck] || strings.HasPrefix(ck, "X-Request-Id") {
			continue
		}
		var kept []string
		for _, v := range vs {
			if responseHeaderAllowed(ck, v, ownHost) {
				kept = append(kept, v)
			}
		}
		if len(kept) > 0 {
			h[ck] = kept
		}
	}
	if !ownHost {
		h.Add("Content-Security-Policy", userContentPolicy)
	}
	status := resp.Status
	if status < 200 || status > 599 {
		status = http.StatusOK
	}
	c.Status(status)
	if status == http.StatusNoContent || status == http.StatusNotModified || c.Request.Method == http.MethodHead {
		return
	}
	_, _ = c.Writer.Write(resp.Body)
}
