package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/model"
)

const (
	requestIDKey  = "picloud.request_id"
	userKey       = "picloud.user"
	tokenKey      = "picloud.token"
	sessionCookie = "picloud_session"
)

// requestIDs makes cheap unique ids: a random per-process prefix and a counter.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &requestIDs{prefix: hex.EncodeToString(b)}
}

func (g *requestIDs) next() string {
	return g.prefix + "-" + strconv.FormatUint(g.n.Add(1), 36)
}

// validRequestID accepts a caller's X-Request-Id when it is short and plain,
// so that it can be logged safely.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// requestID gives every request an id, echoed in X-Request-Id.
func requestID() gin.HandlerFunc {
	ids := newRequestIDs()
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !validRequestID(id) {
			id = ids.next()
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

// recovery turns a panic in a handler into a logged 500.
func (s *server) recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("handler panicked", "path", c.Request.URL.Path, "request_id", c.GetString(requestIDKey), "panic", fmt.Sprint(r))
				writeError(c, http.StatusInternalServerError, "internal error; see the daemon's log for request "+c.GetString(requestIDKey))
			}
		}()
		c.Next()
	}
}

// bodyLimit refuses bodies over n bytes with 413: at once when the declared
// length is too large, and when reading passes n otherwise.
func bodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > n {
			writeError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", n))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// isTooLarge reports whether err comes from a body past its limit.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// tokenOf returns the bearer token or the session cookie of a request.
func tokenOf(c *gin.Context) string {
	if h := c.GetHeader("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if ck, err := c.Cookie(sessionCookie); err == nil {
		return ck
	}
	return ""
}

// authenticate requires a live session and puts its user in the context.
func (s *server) authenticate(c *gin.Context) {
	tok := tokenOf(c)
	if tok == "" {
		c.Header("WWW-Authenticate", `Bearer realm="picloud"`)
		writeError(c, http.StatusUnauthorized, "authentication required: log in at POST /api/v1/admin/auth/login and send the token as 'Authorization: Bearer <token>'")
		return
	}
	user, _, err := s.deps.Manager.Authenticate(c, tok)
	if errors.Is(err, model.ErrUnauthorized) {
		c.Header("WWW-Authenticate", `Bearer realm="picloud", error="invalid_token"`)
		writeError(c, http.StatusUnauthorized, "session expired or revoked: log in again")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(userKey, user)
	c.Set(tokenKey, tok)
	c.Next()
}

func currentUser(c *gin.Context) model.User {
	u, _ := c.Get(userKey)
	user, _ := u.(model.User)
	return user
}

// retryAfter formats a duration as whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds()))))
}
