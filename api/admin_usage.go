package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

// appUsage reports what an app's data takes against its storage quota.
func (s *server) appUsage(c *gin.Context) {
	u, err := s.deps.Manager.AppDataUsage(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

// appLimitsRequest is an app's own limits: storage_bytes a number, or
// null for the default. It must be given.
type appLimitsRequest struct {
	StorageBytes json.RawMessage `json:"storage_bytes"`
}

// setAppLimits sets an app's own storage quota.
func (s *server) setAppLimits(c *gin.Context) {
	var req appLimitsRequest
	if !bindJSON(c, &req) {
		return
	}
	var bytes *int64
	switch string(req.StorageBytes) {
	case "":
		s.fail(c, fmt.Errorf("%w: storage_bytes is required: a number of bytes, or null for the default", model.ErrInvalid))
		return
	case "null":
	default:
		if err := json.Unmarshal(req.StorageBytes, &bytes); err != nil {
			s.fail(c, fmt.Errorf("%w: storage_bytes must be a whole number of bytes, or null for the default", model.ErrInvalid))
			return
		}
	}
	u, err := s.deps.Manager.SetAppStorageQuota(c, s.actor(c), c.GetString(appKey), bytes)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}
