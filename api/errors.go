package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// errorBody is every error's JSON shape.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

func writeError(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, errorBody{Error: msg, RequestID: c.GetString(requestIDKey)})
}

// fail maps an error from the services to a status and a message a person
// can act on; unexpected errors are logged and answered with 500.
func (s *server) fail(c *gin.Context, err error) {
	var ce *engine.CompileError
	var conflict *manager.ConflictError
	var limited *manager.RateLimitedError
	var stale *model.VersionConflictError
	switch {
	case errors.As(err, &stale):
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": stale.Error(),
			"base_version": stale.BaseVersion, "latest_version": stale.LatestVersion, "request_id": c.GetString(requestIDKey)})
	case errors.As(err, &ce):
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{
			"error": ce.Message, "line": ce.Line, "column": ce.Column, "request_id": c.GetString(requestIDKey)})
	case errors.As(err, &conflict):
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{
			"error": conflict.Error(), "conflicts": conflict.Conflicts, "request_id": c.GetString(requestIDKey)})
	case errors.As(err, &limited) && limited.Busy:
		c.Header("Retry-After", retryAfter(limited.RetryAfter))
		writeError(c, http.StatusServiceUnavailable, limited.Error())
	case errors.As(err, &limited):
		c.Header("Retry-After", retryAfter(limited.RetryAfter))
		writeError(c, http.StatusTooManyRequests, limited.Error())
	case errors.Is(err, manager.ErrReserved):
		writeError(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, model.ErrInvalid):
		writeError(c, http.StatusBadRequest, clean(err))
	case errors.Is(err, model.ErrNotFound):
		writeError(c, http.StatusNotFound, "not found")
	case errors.Is(err, model.ErrConflict):
		writeError(c, http.StatusConflict, clean(err))
	case errors.Is(err, model.ErrUnauthorized):
		writeError(c, http.StatusUnauthorized, clean(err))
	case errors.Is(err, model.ErrQuotaExceeded):
		writeError(c, http.StatusInsufficientStorage, clean(err))
	case errors.Is(err, model.ErrStorageFull):
		s.log.Error("the disk holding the database is full", "method", c.Request.Method, "path", c.FullPath(),
			"request_id", c.GetString(requestIDKey), "err", err)
		writeError(c, http.StatusInsufficientStorage, "the disk holding the database is full, so nothing was saved: "+
			"free some space on it (picloud status shows how much is left), then try again")
	default:
		s.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(),
			"request_id", c.GetString(requestIDKey), "err", err)
		writeError(c, http.StatusInternalServerError, "internal error; see the daemon's log for request "+c.GetString(requestIDKey))
	}
}

// clean strips the sentinel's own words from a service error ("invalid
// input: name is taken" becomes "name is taken").
func clean(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{model.ErrInvalid, model.ErrConflict, model.ErrUnauthorized, model.ErrQuotaExceeded} {
		msg = strings.ReplaceAll(msg, sentinel.Error()+": ", "")
	}
	return msg
}
