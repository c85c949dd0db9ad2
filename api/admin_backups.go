package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

type backupRequest struct {
	App        string `json:"app"`
	Passphrase string `json:"passphrase"`
}

// createBackup streams a backup of the board (or of one app) as the
// response, for owners. The audit record is written before the first
// byte; a backup that fails once streaming has begun aborts the response,
// so that the client never holds a cut file it could take for whole (a
// restore refuses one without its trailer anyway).
func (s *server) createBackup(c *gin.Context) {
	if s.deps.Backup == nil {
		writeError(c, http.StatusNotFound, "backups are not available on this daemon")
		return
	}
	var req backupRequest
	if c.Request.ContentLength != 0 && !bindJSON(c, &req) {
		return
	}
	if req.Passphrase != "" && len(req.Passphrase) < 8 {
		writeError(c, http.StatusBadRequest, "the passphrase is shorter than 8 characters")
		return
	}
	err := s.deps.Manager.StartBackup(c, s.actor(c), req.App, req.Passphrase != "")
	if errors.Is(err, model.ErrNotFound) {
		writeError(c, http.StatusNotFound, fmt.Sprintf("no app is named %q", req.App))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	name := "picloud-" + time.Now().UTC().Format("2006-01-02T150405Z")
	if req.App != "" {
		name += "-app"
	}
	w := &backupResponse{c: c, name: name + ".pcb"}
	if err := s.deps.Backup(c, w, req.App, []byte(req.Passphrase)); err != nil {
		if !w.started {
			s.fail(c, err)
			return
		}
		s.log.Error("backup failed while streaming; the response is cut", "err", err, "request_id", c.GetString(requestIDKey))
		panic(http.ErrAbortHandler)
	}
}

// backupResponse sends the response's headers with the first bytes of the
// file, so that an error found before them still answers with a status.
type backupResponse struct {
	c       *gin.Context
	name    string
	started bool
}

func (w *backupResponse) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		h := w.c.Writer.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", w.name))
		h.Set("Cache-Control", "no-store")
		w.c.Status(http.StatusOK)
	}
	return w.c.Writer.Write(p)
}
