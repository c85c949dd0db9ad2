package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

// getEmailSenders shows the senders an app's scripts may use.
func (s *server) getEmailSenders(c *gin.Context) {
	out, err := s.deps.Manager.AppEmailSenders(c, c.GetString(appKey))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// setEmailSenders reads {"senders": [...]} (addresses and "@domain"s
// within the board's) or {"senders": null} (the board's whole list).
func (s *server) setEmailSenders(c *gin.Context) {
	var req struct {
		Senders json.RawMessage `json:"senders"`
	}
	if !bindJSON(c, &req) {
		return
	}
	var senders []string
	switch string(req.Senders) {
	case "":
		s.fail(c, fmt.Errorf("%w: senders is required: a list of addresses and @domains, or null for the board's whole list", model.ErrInvalid))
		return
	case "null":
	default:
		if err := json.Unmarshal(req.Senders, &senders); err != nil {
			s.fail(c, fmt.Errorf("%w: senders must be a list of strings such as [\"news@shop.example\", \"@shop.example\"], or null", model.ErrInvalid))
			return
		}
		if senders == nil {
			senders = []string{}
		}
	}
	out, err := s.deps.Manager.SetAppEmailSenders(c, s.actor(c), c.GetString(appKey), senders)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
