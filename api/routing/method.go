package routing

import (
	"fmt"
	"strings"
)

// AnyMethod is the method of a route that accepts every request method.
const AnyMethod = "*"

// methods lists the supported methods; the index is used in leaves.
var methods = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

const (
	mGET  = 0
	mHEAD = 1
)

// ParseMethod validates a route method, case-insensitively, and returns it
// in upper case: one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, or "*"
// (AnyMethod) for any method.
func ParseMethod(s string) (string, error) {
	if s == AnyMethod {
		return s, nil
	}
	for _, m := range methods {
		if strings.EqualFold(s, m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("method %q is not supported (use GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or *): %w", s, ErrInvalid)
}

// methodIndex returns the index of a request method in methods, or -1.
// Request methods are case-sensitive (RFC 9110), so no folding here.
func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	}
	return -1
}
