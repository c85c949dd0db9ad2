package routing

import "strings"

// Match finds the route for a request. method is the request method as sent
// (case-sensitive); path is the escaped request path as sent, optionally with
// a query string, which is ignored. It returns the route, its parameters
// percent-decoded (nil when the pattern has none) and whether a route
// matched. See the package documentation for precedence rules.
func (t *Table) Match(method, path string) (Route, map[string]string, bool) {
	if t == nil || t.root == nil {
		return Route{}, nil, false
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path[0] != '/' || !validEscapes(path) {
		return Route{}, nil, false
	}
	if n := len(path); n > 1 && path[n-1] == '/' && path[n-2] != '/' {
		path = path[:n-1]
	}
	var caps [MaxSegments]string
	idx := t.root.lookup(path, 0, methodIndex(method), &caps)
	if idx == 0 {
		return Route{}, nil, false
	}
	r := t.routes[idx-1]
	return r, params(r.Pattern, &caps), true
}

// lookup matches rest, which is empty or starts with "/", below n, where
// depth segments have been consumed. It returns the route index plus one, or
// 0, and on success fills caps[i] with the raw text of parameter segment i.
func (n *node) lookup(rest string, depth, mi int, caps *[MaxSegments]string) int32 {
	if rest == "" || rest == "/" { // "/" only reaches the root
		if r := n.end.pick(mi); r != 0 {
			return r
		}
	}
	if rest != "" && depth < MaxSegments {
		seg, next := rest[1:], ""
		if i := strings.IndexByte(seg, '/'); i >= 0 {
			seg, next = seg[:i], seg[i:]
		}
		if c := n.child(seg); c != nil {
			if r := c.lookup(next, depth+1, mi, caps); r != 0 {
				return r
			}
		}
		if n.param != nil && seg != "" {
			if r := n.param.lookup(next, depth+1, mi, caps); r != 0 {
				caps[depth] = seg
				return r
			}
		}
	}
	if r := n.wild.pick(mi); r != 0 && depth < MaxSegments {
		caps[depth] = strings.TrimPrefix(rest, "/")
		return r
	}
	return 0
}

// child returns the static child for the raw request segment seg, or nil.
func (n *node) child(seg string) *node {
	if len(n.statics) == 0 {
		return nil
	}
	if strings.IndexByte(seg, '%') >= 0 {
		var buf [128]byte
		return n.childBytes(unescapeAppend(buf[:0], seg))
	}
	if n.staticMap != nil {
		return n.staticMap[seg]
	}
	for _, e := range n.statics {
		if e.text == seg {
			return e.child
		}
	}
	return nil
}

// childBytes is child for decoded text; the string conversions below do not
// allocate.
func (n *node) childBytes(text []byte) *node {
	if n.staticMap != nil {
		return n.staticMap[string(text)]
	}
	for _, e := range n.statics {
		if e.text == string(text) {
			return e.child
		}
	}
	return nil
}

// params builds the decoded parameter map of p from captured segments.
func params(p Pattern, caps *[MaxSegments]string) map[string]string {
	var m map[string]string
	for i, s := range p.segs {
		if s.kind == segStatic {
			continue
		}
		if m == nil {
			m = make(map[string]string, len(p.segs)-i)
		}
		m[s.text] = unescape(caps[i])
	}
	return m
}
