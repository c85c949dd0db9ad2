package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
)

// defaultBodyReadTimeout is Config.BodyReadTimeout's default.
const defaultBodyReadTimeout = 30 * time.Second

// errBodyTimeout is what reading a body returns past its deadline.
var errBodyTimeout = errors.New("request body not received in time")

// bodyDeadline bounds the time to read a request's body: the connection's
// read deadline is set d after the headers and cleared as soon as the body
// has been read to its end. The deadline never reaches past the body, so it
// cuts neither a long response (a log stream) nor an execution that runs
// after its body was read. Reading past it fails with errBodyTimeout, which
// handlers answer with bodyTimedOut. Connections without deadlines keep
// their bodies unbounded.
func bodyDeadline(d time.Duration) gin.HandlerFunc {
	if d <= 0 {
		d = defaultBodyReadTimeout
	}
	return func(c *gin.Context) {
		if r := c.Request; r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(c.Writer)
			if err := rc.SetReadDeadline(time.Now().Add(d)); err == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		c.Next()
	}
}

// deadlineBody is a request body read under a connection read deadline.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF && !b.done:
		// The whole body is in: from now on the connection is only
		// watched for the client going away, which must not time out.
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = fmt.Errorf("%w: %w", errBodyTimeout, err)
	}
	return n, err
}

// isBodyTimeout reports whether err comes from a body past its deadline.
func isBodyTimeout(err error) bool { return errors.Is(err, errBodyTimeout) }

// bodyTimedOut answers a request whose body did not arrive in time: 408,
// and the connection is closed.
func bodyTimedOut(c *gin.Context) {
	c.Header("Connection", "close")
	writeError(c, http.StatusRequestTimeout, "the request body was not received in time: send it faster (PICLOUD_BODY_READ_TIMEOUT_SECONDS sets the limit)")
}
