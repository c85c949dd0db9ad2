package engine

import (
	"errors"
	"fmt"
	"strings"

	whatwg "github.com/nlnwa/whatwg-url/url"
)

// urlParser parses URLs by the WHATWG URL standard. whatwg-url predates
// two changes of the standard that this engine follows: "^" joined the
// path percent-encode set, and a space that ends an opaque path before a
// query or fragment is written %20 (see fixOpaquePath).
var urlParser = whatwg.NewParser(whatwg.WithPathPercentEncodeSet(whatwg.PathPercentEncodeSet.Set('^')))

// urlRecord is a URL record of the URL standard: canonical while its
// input was already serialised and no setter has run, else u.
type urlRecord struct {
	canonical *canonicalURL
	u         *whatwg.Url
}

var errInvalidURL = errors.New("invalid URL")

// parseURL parses input, relative to base if base is not empty; a base
// that is given but does not parse fails the parse, as in
// new URL(input, base).
func parseURL(input, base string) (*urlRecord, error) {
	return parseURLBase(input, base, base != "")
}

// parseURLBase parses input against base when hasBase.
func parseURLBase(input, base string, hasBase bool) (*urlRecord, error) {
	if err := tooCostly(input, base); err != nil {
		return nil, err
	}
	if !hasBase {
		if c, ok := parseCanonicalURL(input); ok {
			return &urlRecord{canonical: c}, nil
		}
	} else if c, ok := parseCanonicalRef(input, base); ok {
		return &urlRecord{canonical: c}, nil
	}
	var u *whatwg.Url
	var err error
	if hasBase {
		var b *whatwg.Url
		if b, err = urlParser.Parse(base); err != nil {
			return nil, fmt.Errorf("%w: the base %q: %w", errInvalidURL, base, err)
		}
		u, err = b.Parse(input)
	} else {
		u, err = urlParser.Parse(input)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalidURL, err)
	}
	rec := &urlRecord{u: u}
	rec.fixOpaquePath()
	return rec, nil
}

// fixOpaquePath writes the last space of an opaque path that a query or
// fragment follows as %20, as the standard's opaque path state does, so
// that the path survives the query or fragment being removed.
func (r *urlRecord) fixOpaquePath() {
	u := r.u
	if !u.OpaquePath() {
		return
	}
	p := u.Pathname()
	if !strings.HasSuffix(p, " ") {
		return
	}
	href := u.Href(false)
	prefix := u.Scheme() + ":" + p
	if !strings.HasPrefix(href, prefix) || len(href) == len(prefix) {
		return
	}
	fixed, err := urlParser.Parse(u.Scheme() + ":" + p[:len(p)-1] + "%20" + href[len(prefix):])
	if err == nil {
		r.u = fixed
	}
}

// full turns a canonical record into a parsed one, for a setter.
func (r *urlRecord) full() *whatwg.Url {
	if r.u == nil {
		u, err := urlParser.Parse(r.canonical.href)
		if err != nil {
			panic(fmt.Sprintf("engine: the canonical URL %q does not parse: %v", r.canonical.href, err))
		}
		r.u, r.canonical = u, nil
	}
	return r.u
}

func (r *urlRecord) href() string {
	if c := r.canonical; c != nil {
		return c.href
	}
	return r.u.Href(false)
}

func (r *urlRecord) scheme() string {
	if c := r.canonical; c != nil {
		return c.scheme
	}
	return r.u.Scheme()
}

func (r *urlRecord) protocol() string { return r.scheme() + ":" }

func (r *urlRecord) username() string {
	if r.canonical != nil {
		return ""
	}
	return r.u.Username()
}

func (r *urlRecord) password() string {
	if r.canonical != nil {
		return ""
	}
	return r.u.Password()
}

func (r *urlRecord) host() string {
	if c := r.canonical; c != nil {
		return c.host
	}
	return r.u.Host()
}

func (r *urlRecord) hostname() string {
	if c := r.canonical; c != nil {
		return c.hostname
	}
	return r.u.Hostname()
}

func (r *urlRecord) port() string {
	if c := r.canonical; c != nil {
		return c.port
	}
	return r.u.Port()
}

func (r *urlRecord) pathname() string {
	if c := r.canonical; c != nil {
		return c.pathname
	}
	return r.u.Pathname()
}

func (r *urlRecord) search() string {
	if c := r.canonical; c != nil {
		if c.search == "?" {
			return ""
		}
		return c.search
	}
	return r.u.Search()
}

func (r *urlRecord) hash() string {
	if c := r.canonical; c != nil {
		if c.hash == "#" {
			return ""
		}
		return c.hash
	}
	return r.u.Hash()
}

// query is the query without "?", "" when there is none.
func (r *urlRecord) query() string {
	if s := r.search(); s != "" {
		return s[1:]
	}
	return ""
}

// origin is the ASCII serialisation of the URL's origin.
func (r *urlRecord) origin() string {
	switch r.scheme() {
	case "http", "https", "ws", "wss", "ftp":
		return r.scheme() + "://" + r.host()
	case "blob":
		inner, err := urlParser.Parse(r.pathname())
		if err == nil && (inner.Scheme() == "http" || inner.Scheme() == "https") {
			return (&urlRecord{u: inner}).origin()
		}
	}
	return "null"
}

// set runs the URL setter of the attribute name (href excepted) with v;
// values the setter rejects change nothing.
func (r *urlRecord) set(name, v string) {
	if name == "pathname" && pathWork(r.href(), v) > maxPathWork ||
		(name == "host" || name == "hostname") && len(v) > maxAuthority {
		return // see urlbound.go
	}
	u := r.full()
	switch name {
	case "protocol":
		u.SetProtocol(v)
	case "username":
		u.SetUsername(v)
	case "password":
		u.SetPassword(v)
	case "host":
		u.SetHost(v)
	case "hostname":
		u.SetHostname(v)
	case "port":
		u.SetPort(v)
	case "pathname":
		u.SetPathname(v)
	case "search":
		u.SetSearch(v)
	case "hash":
		u.SetHash(v)
	}
	r.fixOpaquePath()
}
