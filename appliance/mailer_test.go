package appliance

import (
	"errors"
	"fmt"
	"net/textproto"
	"testing"
	"time"
)

// TestMailRetries checks the waits between delivery attempts (doubling,
// bounded) and which answers of the relay are final.
func TestMailRetries(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 40: time.Hour} {
		if got := retryWait(mailFirstWait, attempt); got != want {
			t.Errorf("retryWait after attempt %d = %v, want %v", attempt, got, want)
		}
	}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("RCPT TO a@b: %w", &textproto.Error{Code: 550, Msg: "no such user"}), true},
		{fmt.Errorf("MAIL FROM: %w", &textproto.Error{Code: 451, Msg: "later"}), false},
		{errors.New("reach the relay: connection refused"), false},
	} {
		if got := isPermanent(c.err); got != c.want {
			t.Errorf("isPermanent(%v) = %v", c.err, got)
		}
	}
}
