package routing

import (
	"fmt"
	"sort"
)

// Route binds a method and a pattern to a target chosen by the caller
// (typically a script version).
type Route struct {
	ID      string  // caller's identifier, used in error messages
	Method  string  // as accepted by ParseMethod; normalised by NewTable
	Pattern Pattern // from ParsePattern
	Target  any     // opaque to this package
}

// Table is an immutable compiled set of routes. It is safe for concurrent use.
type Table struct {
	root    *node
	routes  []Route
	byShape map[string][]int // shape -> indexes into routes
}

// mapThreshold is the number of static children above which a node looks
// children up in a map rather than by linear scan.
const mapThreshold = 8

type node struct {
	statics   []edge           // static children, sorted by text
	staticMap map[string]*node // set instead when there are many
	param     *node            // ":name" child
	end       leaf             // routes ending at this node
	wild      leaf             // routes whose last segment is a wildcard here
}

type edge struct {
	text  string // decoded segment text
	child *node
}

// leaf holds route indexes plus one (0 means none) per method.
type leaf struct {
	byMethod [len(methods)]int32
	any      int32
}

// NewTable compiles routes into a Table. It fails, wrapping ErrInvalid, on a
// bad method or zero pattern, and, wrapping ErrConflict, on two routes with
// the same method and shape. The routes slice is copied.
func NewTable(routes []Route) (*Table, error) {
	t := &Table{root: &node{}, routes: make([]Route, 0, len(routes)), byShape: map[string][]int{}}
	for _, r := range routes {
		m, err := ParseMethod(r.Method)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", r.ID, err)
		}
		r.Method = m
		if r.Pattern.IsZero() {
			return nil, fmt.Errorf("route %s: pattern not parsed: %w", r.ID, ErrInvalid)
		}
		if c := t.Conflicts(m, r.Pattern); len(c) > 0 {
			return nil, fmt.Errorf("route %s (%s %s) and route %s (%s %s): %w",
				c[0].ID, c[0].Method, c[0].Pattern, r.ID, m, r.Pattern, ErrConflict)
		}
		t.insert(len(t.routes), r)
		t.byShape[r.Pattern.shape] = append(t.byShape[r.Pattern.shape], len(t.routes))
		t.routes = append(t.routes, r)
	}
	t.root.finish()
	return t, nil
}

// Len returns the number of routes in the table.
func (t *Table) Len() int { return len(t.routes) }

// Conflicts returns the routes of t that would conflict with a route
// (method, p): those with the same shape and the same method. "*" and an exact
// method do not conflict, nor do HEAD and GET. An invalid method has no
// conflicts (ParseMethod rejects it).
func (t *Table) Conflicts(method string, p Pattern) []Route {
	m, err := ParseMethod(method)
	if err != nil {
		return nil
	}
	var out []Route
	for _, i := range t.byShape[p.shape] {
		if t.routes[i].Method == m {
			out = append(out, t.routes[i])
		}
	}
	return out
}

func (t *Table) insert(idx int, r Route) {
	n := t.root
	for _, s := range r.Pattern.segs {
		switch s.kind {
		case segStatic:
			n = n.staticChild(s.text)
		case segParam:
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
		case segWildcard:
			n.wild.set(r.Method, idx)
			return
		}
	}
	n.end.set(r.Method, idx)
}

func (n *node) staticChild(text string) *node {
	for _, e := range n.statics {
		if e.text == text {
			return e.child
		}
	}
	c := &node{}
	n.statics = append(n.statics, edge{text, c})
	return c
}

// finish sorts children and builds lookup maps, recursively.
func (n *node) finish() {
	sort.Slice(n.statics, func(i, j int) bool { return n.statics[i].text < n.statics[j].text })
	if len(n.statics) > mapThreshold {
		n.staticMap = make(map[string]*node, len(n.statics))
		for _, e := range n.statics {
			n.staticMap[e.text] = e.child
		}
	}
	for _, e := range n.statics {
		e.child.finish()
	}
	if n.param != nil {
		n.param.finish()
	}
}

// set records route idx for method m; conflicts were rejected beforehand.
func (l *leaf) set(m string, idx int) {
	if m == AnyMethod {
		l.any = int32(idx) + 1
		return
	}
	l.byMethod[methodIndex(m)] = int32(idx) + 1
}

// pick returns the route (index plus one) for request method index mi:
// the exact method, then GET for HEAD, then "*"; 0 if none.
func (l *leaf) pick(mi int) int32 {
	if mi >= 0 && l.byMethod[mi] != 0 {
		return l.byMethod[mi]
	}
	if mi == mHEAD && l.byMethod[mGET] != 0 {
		return l.byMethod[mGET]
	}
	return l.any
}
