// Package egress is the outbound HTTP client of scripts (their fetch) and
// the policy that says what it may reach. It knows nothing of scripts: the
// engine hands it plain requests.
package egress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Policy says what a script's fetch may reach. The check is made on
// the address actually dialled, for every connection (redirects included),
// so a name that resolves to a forbidden address is refused too.
//
// Always refused, whatever the policy: loopback, unspecified, link-local
// (cloud metadata services live there) and multicast addresses, and every
// address this machine accepts connections for (its interfaces' addresses,
// read from the kernel's routing tables at each connection): the daemon's
// admin API and its database are never reachable from a script. When this
// machine's addresses cannot be read, every address of that family is
// refused. Allow lets chosen address:port pairs or networks through those
// rules (a service on the same board, say), but never DeniedPorts on this
// machine.
type Policy struct {
	// Hosts, when not empty, is the only URL hosts fetch may name: exact
	// names, or "*.example.com" for any subdomain.
	Hosts []string
	// Private allows the private networks (RFC 1918, RFC 4193, CGNAT),
	// where a home's devices live.
	Private bool
	// Deny lists networks refused on top of the built-in rules.
	Deny []netip.Prefix
	// Allow lists networks, or single addresses with a port, let through
	// the built-in rules and Deny.
	Allow []AllowRule
	// DeniedPorts on this machine's addresses (loopback included) are
	// refused even when Allow names them: the ports of every listener of
	// the daemon.
	DeniedPorts []int
	// Timeout bounds one fetch, response body included.
	Timeout time.Duration
	// MaxResponseBytes bounds a fetched response body.
	MaxResponseBytes int64
}

// AllowRule is one exception to the built-in rules: a network, and a port
// (0: any).
type AllowRule struct {
	Net  netip.Prefix
	Port int
}

// Default allows the internet and the private networks, with a
// 10 s timeout and 8 MiB bodies.
func Default() *Policy {
	return &Policy{Private: true, Timeout: 10 * time.Second, MaxResponseBytes: 8 << 20}
}

// ParseAllowRule reads "10.0.0.0/8", "192.168.1.20" or "127.0.0.1:8123".
func ParseAllowRule(s string) (AllowRule, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return AllowRule{Net: netip.PrefixFrom(ap.Addr(), ap.Addr().BitLen()), Port: int(ap.Port())}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return AllowRule{Net: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return AllowRule{}, fmt.Errorf("%q is not an address, address:port or network", s)
	}
	return AllowRule{Net: p.Masked()}, nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// checkAddr says why the policy refuses ap, or nil; local gives this
// machine's networks.
func (p *Policy) checkAddr(ap netip.AddrPort, local localNets) error {
	a := ap.Addr().Unmap()
	port := int(ap.Port())
	isLocal, err := isLocalAddr(a, local)
	if err != nil {
		return err
	}
	if isLocal {
		for _, d := range p.DeniedPorts {
			if d == port {
				return fmt.Errorf("%s is PiCloud itself", ap)
			}
		}
	}
	for _, r := range p.Allow {
		if r.Net.Contains(a) && (r.Port == 0 || r.Port == port) {
			return nil
		}
	}
	switch {
	case isLocal:
		return fmt.Errorf("%s is this machine", a)
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast():
		return fmt.Errorf("%s is a link-local or multicast address", a)
	case !p.Private && (a.IsPrivate() || cgnat.Contains(a)):
		return fmt.Errorf("%s is on a private network", a)
	}
	for _, d := range p.Deny {
		if d.Contains(a) {
			return fmt.Errorf("%s is in the denied network %s", a, d)
		}
	}
	return nil
}

// isLocalAddr tells whether a is an address of this machine; an error
// when local cannot say, which refuses the connection.
func isLocalAddr(a netip.Addr, local localNets) (bool, error) {
	nets, err := local(a.Is6())
	if err != nil {
		family := "IPv4"
		if a.Is6() {
			family = "IPv6"
		}
		return false, fmt.Errorf("this machine's %s addresses cannot be read, so no %s address is reached (%w)", family, family, err)
	}
	if a.IsLoopback() || a.IsUnspecified() {
		return true, nil
	}
	for _, n := range nets {
		if n.Contains(a) {
			return true, nil
		}
	}
	return false, nil
}

// checkHost applies Hosts to a URL's host name.
func (p *Policy) checkHost(host string) error {
	if len(p.Hosts) == 0 {
		return nil
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range p.Hosts {
		h = strings.ToLower(h)
		if h == host || strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:]) {
			return nil
		}
	}
	return fmt.Errorf("the host %s is not in the fetch allow list", host)
}

// errPolicy marks a connection the policy refused.
var errPolicy = errors.New("refused by the fetch policy")

// Client is the outbound HTTP client of one executor, shared by its
// executions. It is safe for concurrent use.
type Client struct {
	policy *Policy
	client *http.Client
	local  localNets // this machine's networks, asked at every connection
}

type redirectModeKey struct{}

// New makes the client of policy p.
func New(p *Policy) *Client {
	return newClient(p, systemLocalNets())
}

// newClient makes the client of policy p, learning this machine's networks
// from local.
func newClient(p *Policy, local localNets) *Client {
	if p.Timeout <= 0 {
		p.Timeout = 10 * time.Second
	}
	if p.MaxResponseBytes <= 0 {
		p.MaxResponseBytes = 8 << 20
	}
	f := &Client{policy: p, local: local}
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", errPolicy, address)
		}
		if err := p.checkAddr(ap, f.local); err != nil {
			return fmt.Errorf("%w: %w", errPolicy, err)
		}
		return nil
	}}
	f.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil, // a proxy would be dialled instead of the checked address
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           32,
			IdleConnTimeout:        30 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			switch req.Context().Value(redirectModeKey{}) {
			case "manual":
				return http.ErrUseLastResponse
			case "error":
				return errors.New("redirect mode is \"error\"")
			}
			if len(via) >= 20 {
				return errors.New("too many redirects")
			}
			return p.checkHost(req.URL.Hostname())
		},
	}
	return f
}

// Request is one outbound request.
type Request struct {
	Method   string
	URL      string
	Header   http.Header
	Body     []byte // nil for none
	Redirect string // follow (default), manual or error
}

// Response is a fetched response, its body read whole.
type Response struct {
	Status     int
	StatusText string
	Header     http.Header
	Body       []byte
	URL        string // after redirects
	Redirected bool
}

// Timeout is the policy's bound on one request.
func (f *Client) Timeout() time.Duration { return f.policy.Timeout }

// CheckURL applies the policy's host list to a URL before any connection;
// the address checks happen when connecting.
func (f *Client) CheckURL(host string) error { return f.policy.checkHost(host) }

// Do sends req within ctx and the policy's timeout and reads the body
// within the policy's size cap. Its errors are meant for the script.
func (f *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, redirectModeKey{}, r.Redirect), f.policy.Timeout)
	defer cancel()
	var body io.Reader = http.NoBody
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, escapeBarePercent(r.URL), body)
	if err != nil {
		return nil, err
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, fmt.Errorf("only http and https URLs can be fetched, not %q", req.URL.Scheme+":")
	}
	if err := f.policy.checkHost(req.URL.Hostname()); err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "host") {
			continue
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "PiCloud")
	}
	return f.do(req)
}

// escapeBarePercent writes as %25 each "%" of rawURL that two hex digits
// do not follow. The URL standard keeps such a "%" as it is, but net/url
// refuses the URL, so it would not be fetched at all.
func escapeBarePercent(rawURL string) string {
	bare := func(i int) bool {
		return rawURL[i] == '%' && !(i+2 < len(rawURL) && isHex(rawURL[i+1]) && isHex(rawURL[i+2]))
	}
	i := 0
	for i < len(rawURL) && !bare(i) {
		i++
	}
	if i == len(rawURL) {
		return rawURL
	}
	var b strings.Builder
	b.Grow(len(rawURL) + 8)
	b.WriteString(rawURL[:i])
	for ; i < len(rawURL); i++ {
		if bare(i) {
			b.WriteString("%25")
		} else {
			b.WriteByte(rawURL[i])
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// do runs one request and reads its body within the size cap.
func (f *Client) do(req *http.Request) (*Response, error) {
	res, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, errPolicy) {
			return nil, unwrapPolicy(err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer within %v", f.policy.Timeout)
		}
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, f.policy.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the response body: %w", err)
	}
	if int64(len(data)) > f.policy.MaxResponseBytes {
		return nil, fmt.Errorf("the response body is larger than the limit of %d bytes", f.policy.MaxResponseBytes)
	}
	text := strings.TrimSpace(strings.TrimPrefix(res.Status, strconv.Itoa(res.StatusCode)))
	return &Response{Status: res.StatusCode, StatusText: text, Header: res.Header, Body: data,
		URL: res.Request.URL.String(), Redirected: res.Request != req && res.Request.URL.String() != req.URL.String()}, nil
}

// unwrapPolicy digs the policy's own message out of net/http's wrapping.
func unwrapPolicy(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, errPolicy.Error()); i >= 0 {
		return errors.New(msg[i:])
	}
	return err
}
