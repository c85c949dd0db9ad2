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

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/model"
)

const (
	requestIDKey  = "picloud.request_id"
	principalKey  = "picloud.principal"
	tokenKey      = "picloud.token"
	viaCookieKey  = "picloud.via_cookie"
	sessionCookie = "picloud_session"
	// channelHeader names the client a request comes through, for the
	// audit log: api, dashboard or terminal.
	channelHeader = "X-PiCloud-Channel"
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

// tokenOf returns the bearer token or the session cookie of a request, and
// whether it came from the cookie.
func tokenOf(c *gin.Context) (token string, viaCookie bool) {
	if c.GetHeader("Authorization") != "" {
		return bearerOf(c), false
	}
	if ck, err := c.Cookie(sessionCookie); err == nil {
		return ck, true
	}
	return "", false
}

// bearerOf returns the token of a request's Authorization header only,
// never the session cookie's.
func bearerOf(c *gin.Context) string {
	if scheme, tok, ok := strings.Cut(c.GetHeader("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	return ""
}

// credentialParams are query parameters that clients put tokens in.
var credentialParams = []string{"access_token", "token", "api_key", "apikey"}

// refuseURLCredentials answers 400 to an admin request with a token in its
// query string, which must never be accepted there: URLs end up in logs,
// browser history and Referer headers.
func refuseURLCredentials(c *gin.Context) {
	q := c.Request.URL.Query()
	found := ""
	for _, name := range credentialParams {
		if q.Has(name) {
			found = "the query parameter " + name
		}
	}
	for name, vs := range q {
		for _, v := range vs {
			if auth.WellFormedToken(v) {
				found = "a token in the query parameter " + name
			}
		}
	}
	if found != "" {
		writeError(c, http.StatusBadRequest, "credentials are never accepted in the URL, and this one has "+found+
			": send the token as 'Authorization: Bearer <token>' only, and revoke a token that went into a URL")
		return
	}
	c.Next()
}

// authenticate requires a live session or API token and puts who it
// belongs to in the context. API tokens count only in the Authorization
// header.
func (s *server) authenticate(c *gin.Context) {
	tok, viaCookie := tokenOf(c)
	if viaCookie && strings.HasPrefix(tok, auth.APITokenPrefix) {
		writeError(c, http.StatusUnauthorized, "API tokens are accepted only as 'Authorization: Bearer <token>', not in a cookie")
		return
	}
	if tok == "" {
		if _, ok := identityOf(c.Request); !ok {
			c.Header("WWW-Authenticate", `Bearer realm="picloud"`)
			writeError(c, http.StatusUnauthorized, "authentication required: log in at POST /api/v1/admin/auth/login and send the token as 'Authorization: Bearer <token>'")
			return
		}
	}
	if s.signIn(c, tok, viaCookie) {
		c.Next()
	}
}

// signIn puts in the context who a request acts as: the user of tok, or
// with no token the identity of its connection (see ConnIdentity), which
// the caller has made sure it has. It answers the request itself and
// returns false when the credential counts for nothing.
func (s *server) signIn(c *gin.Context, tok string, viaCookie bool) bool {
	var p model.Principal
	var err error
	switch id, ok := identityOf(c.Request); {
	case tok != "":
		p, _, err = s.deps.Manager.Authenticate(c, tok)
		if errors.Is(err, model.ErrUnauthorized) {
			c.Header("WWW-Authenticate", `Bearer realm="picloud", error="invalid_token"`)
			writeError(c, http.StatusUnauthorized, "session expired or revoked: log in again")
			return false
		}
	case ok && id.UserID == "":
		p, err = s.deps.Manager.LocalOwner(c)
	case ok:
		p, err = s.deps.Manager.UserPrincipal(c, id.UserID)
	default:
		writeError(c, http.StatusUnauthorized, "authentication required")
		return false
	}
	if errors.Is(err, model.ErrUnauthorized) {
		writeError(c, http.StatusUnauthorized, clean(err))
		return false
	}
	if err != nil {
		s.fail(c, err)
		return false
	}
	c.Set(principalKey, p)
	if tok != "" {
		c.Set(tokenKey, tok)
		c.Set(viaCookieKey, viaCookie)
	}
	return true
}

// currentPrincipal is who the request acts as; the zero Principal before
// authenticate.
func currentPrincipal(c *gin.Context) model.Principal {
	v, _ := c.Get(principalKey)
	p, _ := v.(model.Principal)
	return p
}

// actor is who performs the request's action, through which channel and
// from where, for the audit log.
func (s *server) actor(c *gin.Context) model.Actor {
	p := currentPrincipal(c)
	a := model.Actor{UserID: p.User.ID, Username: p.User.Username, Channel: channelOf(c), Remote: c.ClientIP()}
	if id, ok := identityOf(c.Request); ok {
		a.Remote = id.Remote
	}
	if p.Token != nil {
		a.TokenID = p.Token.ID
	}
	return a
}

// channelOf is the channel a client names in X-PiCloud-Channel; otherwise a
// request authenticated by the session cookie comes from the dashboard, one
// on a connection with an identity (the local socket, SSH) from the
// terminal, and any other from an API client.
func channelOf(c *gin.Context) string {
	switch ch := c.GetHeader(channelHeader); ch {
	case model.ChannelAPI, model.ChannelDashboard, model.ChannelTerminal:
		return ch
	}
	if c.GetBool(viaCookieKey) {
		return model.ChannelDashboard
	}
	if _, ok := identityOf(c.Request); ok {
		return model.ChannelTerminal
	}
	return model.ChannelAPI
}

// retryAfter formats a duration as whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int(math.Max(1, math.Ceil(d.Seconds()))))
}
