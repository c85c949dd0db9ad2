package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// keysUser is whose SSH keys a request is about: the :id user (owners), or
// the requester's own (under /auth/keys).
func keysUser(c *gin.Context) (string, bool) {
	if c.Param("id") == "" {
		return currentPrincipal(c).User.ID, true
	}
	return idParam(c, "id")
}

// listSSHKeys lists a user's public keys for SSH.
func (s *server) listSSHKeys(c *gin.Context) {
	user, ok := keysUser(c)
	if !ok {
		return
	}
	keys, err := s.deps.Manager.SSHKeys(c, user)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"keys": keys})
}

type sshKeyRequest struct {
	PublicKey string `json:"public_key"`
}

// addSSHKey registers a public key, an authorized_keys line, for a user.
func (s *server) addSSHKey(c *gin.Context) {
	user, ok := keysUser(c)
	if !ok {
		return
	}
	var req sshKeyRequest
	if !bindJSON(c, &req) {
		return
	}
	k, err := s.deps.Manager.AddSSHKey(c, s.actor(c), user, req.PublicKey)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, k)
}

// deleteSSHKey removes one of a user's keys.
func (s *server) deleteSSHKey(c *gin.Context) {
	user, ok := keysUser(c)
	if !ok {
		return
	}
	key, ok := idParam(c, "key_id")
	if !ok {
		return
	}
	if err := s.deps.Manager.DeleteSSHKey(c, s.actor(c), user, key); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
