package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// bindJSON decodes a JSON object body strictly into v, answering 400 (or
// 413) itself when it cannot; it reports whether the handler may go on.
func bindJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	switch {
	case err == nil:
		return true
	case isBodyTimeout(err):
		bodyTimedOut(c)
	case isTooLarge(err):
		writeError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", maxAdminBodyBytes))
	case errors.Is(err, io.EOF):
		writeError(c, http.StatusBadRequest, "request body must be a JSON object")
	default:
		writeError(c, http.StatusBadRequest, "invalid JSON body: "+err.Error())
	}
	return false
}

// idParam returns a path parameter that must be a UUID; anything else is a
// 404, since no such resource can exist.
func idParam(c *gin.Context, name string) (string, bool) {
	id := c.Param(name)
	u, err := uuid.Parse(id)
	if err != nil {
		writeError(c, http.StatusNotFound, "not found")
		return "", false
	}
	return u.String(), true
}

// versionNumber reads raw, which what names, as a version number of a
// script: 1 or more. Anything else it answers itself with a 400 saying
// so, and returns false.
func versionNumber(c *gin.Context, what, raw string) (int, bool) {
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		writeError(c, http.StatusBadRequest, what+" must be a version number of the script (1 or more), not "+strconv.Quote(raw))
		return 0, false
	}
	return n, true
}

// limitQuery reads a listing's limit query parameter: a number of unit
// (messages, keys, ...), from 1, or 0 when there is none, which leaves
// the listing its default. Anything else it answers itself with a 400
// saying so, and returns false.
func limitQuery(c *gin.Context, unit string) (int, bool) {
	l := c.Query("limit")
	if l == "" {
		return 0, true
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 {
		writeError(c, http.StatusBadRequest, "limit must be a number of "+unit+", from 1")
		return 0, false
	}
	return n, true
}

// ifVersionQuery reads a deletion's if_version query parameter: the
// version the item must be at, or nil when there is none, which deletes
// whatever is there. Anything else it answers itself with a 400 saying
// so, and returns false.
func ifVersionQuery(c *gin.Context) (*int64, bool) {
	v := c.Query("if_version")
	if v == "" {
		return nil, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		writeError(c, http.StatusBadRequest, "if_version must be a version number")
		return nil, false
	}
	return &n, true
}
