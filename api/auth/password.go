package auth

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

const (
	// MinPasswordLen is the shortest accepted new password, in characters.
	MinPasswordLen = 8
	// MaxPasswordLen is the longest accepted new password, in bytes.
	MaxPasswordLen = 1024
)

// ErrPasswordPolicy is wrapped by the errors of ValidatePassword.
var ErrPasswordPolicy = errors.New("password rejected")

// ValidatePassword checks a new password against the length policy: at
// least MinPasswordLen characters (Unicode code points, so "é" counts once)
// and at most MaxPasswordLen bytes. Its messages are meant for the person
// choosing the password. Existing passwords are not re-checked at login.
func ValidatePassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinPasswordLen {
		return fmt.Errorf("%w: it has %d characters and must have at least %d", ErrPasswordPolicy, n, MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return fmt.Errorf("%w: it is %d bytes long and must be at most %d", ErrPasswordPolicy, len(pw), MaxPasswordLen)
	}
	return nil
}
