// Package routing parses user-route patterns and matches request paths
// against a compiled, immutable trie of routes.
//
// # Patterns
//
// A pattern is an absolute URL path made of segments separated by "/":
//
//   - static text, e.g. "users" (RFC 3986 path characters; percent-escapes
//     are allowed and normalised, e.g. "caf%c3%a9" becomes "caf%C3%A9" and
//     "%7E" becomes "~");
//   - ":name", a parameter matching exactly one non-empty segment;
//   - "*name" or a bare "*", only as the last segment, a wildcard matching the
//     rest of the path, possibly empty. A bare "*" captures under the key "*".
//
// Names match [A-Za-z_][A-Za-z0-9_]* and are unique within a pattern. "{name}"
// is rejected with a hint to use ":name" ({name} is for domain patterns).
// A single trailing slash is normalised away ("/users/" is "/users"); empty
// segments ("//"), dot segments ("." and ".."), a literal "*" inside static
// text, "?" and "#", characters not valid in a URL path, paths longer than
// MaxPathLen bytes and patterns with more than MaxSegments segments are
// rejected with an error wrapping ErrInvalid. Paths under the daemon's own
// prefixes (/api, /admin, /healthz, /version, compared case-insensitively on
// the first segment) are rejected with an error wrapping ErrReserved.
//
// # Matching
//
// Table.Match takes the request method and the escaped request path as sent
// (r.URL.EscapedPath() or r.RequestURI; a query string is ignored). Segments
// are split on the raw path, so "/files/a%2Fb" has two segments and
// ":name" captures "a/b". A path with a malformed percent-escape matches
// nothing. A single trailing slash on the request is ignored, as in patterns:
// "/users/" matches "/users", and a wildcard captures the rest without it.
//
// Precedence is decided by path first, segment by segment: static text beats
// a parameter, which beats a wildcard, with backtracking when a more specific
// branch leads nowhere. A candidate route only counts if it accepts the
// method; at one path the order is: the exact method, then (for HEAD only) a
// GET route, then a "*" route. Otherwise matching backtracks to less specific
// paths, and finally reports no match.
//
// # Conflicts
//
// Two routes conflict when they have the same Shape (the pattern with
// parameter names erased) and the same method. "*" does not conflict with an
// exact method on the same shape, nor HEAD with GET: the more exact method
// wins at match time, so the pair is well defined.
package routing
