package engine

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

// urlRecord is a URL in WHATWG shape, parsed with net/url and normalised
// the way browsers show URLs: lower-case scheme and host, default ports
// dropped, "/" for an empty path of special schemes, dot segments removed,
// reserved characters percent-encoded.
type urlRecord struct {
	scheme      string // without ':'
	username    string
	password    string
	hostname    string
	port        string
	hasHost     bool
	pathname    string
	query       string // without '?'
	hasQuery    bool
	fragment    string // without '#'
	hasFragment bool
	opaque      bool
}

var defaultPorts = map[string]string{
	"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21", "file": "",
}

func isSpecial(scheme string) bool {
	_, ok := defaultPorts[scheme]
	return ok
}

// trimURL strips what the URL parser ignores: surrounding C0 controls and
// spaces, and tabs and newlines anywhere.
func trimURL(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	if strings.ContainsAny(s, "\t\r\n") {
		s = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(s)
	}
	return s
}

var errInvalidURL = errors.New("invalid URL")

// parseURL parses input, relative to base if base is not empty.
func parseURL(input, base string) (*urlRecord, error) {
	input = trimURL(input)
	ref, err := url.Parse(input)
	if err != nil {
		return nil, errInvalidURL
	}
	if base != "" {
		b, err := url.Parse(trimURL(base))
		if err != nil || !b.IsAbs() || b.Opaque != "" && !ref.IsAbs() {
			return nil, errInvalidURL
		}
		ref = b.ResolveReference(ref)
	} else {
		if !ref.IsAbs() {
			return nil, errInvalidURL
		}
		if ref.Opaque == "" {
			ref = ref.ResolveReference(ref)
		}
	}
	return fromNetURL(ref)
}

func fromNetURL(u *url.URL) (*urlRecord, error) {
	rec := &urlRecord{scheme: strings.ToLower(u.Scheme)}
	special := isSpecial(rec.scheme)
	if u.Opaque != "" {
		if special {
			// http:host/path means http://host/path to a browser.
			return parseURL(rec.scheme+"://"+u.Opaque+queryFragment(u), "")
		}
		rec.opaque = true
		rec.pathname = encodeSet(u.Opaque, c0Set)
	} else {
		rest := strings.TrimPrefix(u.String(), u.Scheme+":")
		rec.hasHost = special || strings.HasPrefix(rest, "//")
		rec.pathname = u.EscapedPath()
		if rec.pathname == "" && special {
			rec.pathname = "/"
		}
		if special && rec.scheme != "file" && u.Host == "" {
			return nil, errInvalidURL
		}
	}
	if u.User != nil {
		rec.username = u.User.Username()
		rec.password, _ = u.User.Password()
		rec.username = encodeSet(rec.username, userinfoSet)
		rec.password = encodeSet(rec.password, userinfoSet)
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if special {
		host = strings.ToLower(host)
	}
	rec.hostname = host
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n > 65535 {
			return nil, errInvalidURL
		}
		p = strconv.Itoa(n)
		if defaultPorts[rec.scheme] != p {
			rec.port = p
		}
	}
	rec.hasQuery = u.ForceQuery || u.RawQuery != ""
	rec.query = encodeSet(u.RawQuery, querySet(special))
	rec.hasFragment = u.Fragment != ""
	rec.fragment = encodeSet(u.EscapedFragment(), fragmentSet)
	return rec, nil
}

func queryFragment(u *url.URL) string {
	s := ""
	if u.ForceQuery || u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		s += "#" + u.EscapedFragment()
	}
	return s
}

func (u *urlRecord) host() string {
	if u.port != "" {
		return u.hostname + ":" + u.port
	}
	return u.hostname
}

func (u *urlRecord) origin() string {
	switch u.scheme {
	case "http", "https", "ws", "wss", "ftp":
		return u.scheme + "://" + u.host()
	}
	return "null"
}

func (u *urlRecord) search() string {
	if !u.hasQuery || u.query == "" {
		return ""
	}
	return "?" + u.query
}

func (u *urlRecord) hash() string {
	if !u.hasFragment || u.fragment == "" {
		return ""
	}
	return "#" + u.fragment
}

func (u *urlRecord) href() string {
	var b strings.Builder
	b.WriteString(u.scheme)
	b.WriteByte(':')
	if u.hasHost {
		b.WriteString("//")
		if u.username != "" || u.password != "" {
			b.WriteString(u.username)
			if u.password != "" {
				b.WriteByte(':')
				b.WriteString(u.password)
			}
			b.WriteByte('@')
		}
		b.WriteString(u.host())
	}
	b.WriteString(u.pathname)
	if u.hasQuery {
		b.WriteByte('?')
		b.WriteString(u.query)
	}
	if u.hasFragment {
		b.WriteByte('#')
		b.WriteString(u.fragment)
	}
	return b.String()
}

// Percent-encode sets of the URL standard, as predicates on bytes.
type byteSet func(c byte) bool

func c0Set(c byte) bool       { return c < 0x20 || c > 0x7e }
func fragmentSet(c byte) bool { return c0Set(c) || strings.IndexByte(" \"<>`", c) >= 0 }
func pathSet(c byte) bool     { return fragmentSet(c) || strings.IndexByte("#?{}", c) >= 0 }
func userinfoSet(c byte) bool { return pathSet(c) || strings.IndexByte("/:;=@[\\]^|", c) >= 0 }
func querySet(special bool) byteSet {
	return func(c byte) bool {
		return c0Set(c) || strings.IndexByte(" \"#<>", c) >= 0 || special && c == '\''
	}
}

// encodeSet percent-encodes the bytes of s in set, leaving existing
// escapes alone.
func encodeSet(s string, set byteSet) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if set(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if set(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// formPair is one name/value pair of a urlencoded list.
type formPair struct{ name, value string }

// parseURLEncoded parses application/x-www-form-urlencoded text.
func parseURLEncoded(s string) []formPair {
	var out []formPair
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		out = append(out, formPair{percentDecode(strings.ReplaceAll(name, "+", " ")),
			percentDecode(strings.ReplaceAll(value, "+", " "))})
	}
	return out
}

// percentDecode decodes %XX escapes leniently: malformed ones stay as they
// are, and invalid UTF-8 becomes U+FFFD.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// encodeURLEncoded serialises pairs as application/x-www-form-urlencoded.
func encodeURLEncoded(pairs []formPair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		formEscape(&b, p.name)
		b.WriteByte('=')
		formEscape(&b, p.value)
	}
	return b.String()
}

func formEscape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '*' || c == '-' || c == '.' || c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}
