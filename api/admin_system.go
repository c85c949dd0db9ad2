package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

// system reports the health of the board and the daemon, for owners and
// admins.
func (s *server) system(c *gin.Context) {
	var st model.SystemStatus
	if s.deps.System != nil {
		var err error
		if st, err = s.deps.System(c); err != nil {
			s.fail(c, err)
			return
		}
	}
	st.Versions = map[string]any{"public_url": s.cfg.PublicURL}
	for k, v := range s.cfg.Versions {
		st.Versions[k] = v
	}
	if st.Workers == nil {
		st.Workers = []model.WorkerStatus{}
	}
	c.JSON(http.StatusOK, st)
}
