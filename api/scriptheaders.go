package api

import (
	"net/http"
	"strings"

	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/engine"
)

// scriptRequestHeader is the request header as a script sees it, and as
// anything it logs can show it: without PiCloud's session cookie, and
// without an Authorization (or Proxy-Authorization) that carries a PiCloud
// token, so that no admin credential ever reaches user code. Other cookies
// stay when keepCookies is set (the host is one of the app's own), and
// are all dropped otherwise: they belong to another app's host. The
// headers of a run of invoke.later (X-Picloud-Trigger, …-Invoke-Id,
// …-Attempt) are dropped, so that a script can trust them.
func scriptRequestHeader(h http.Header, keepCookies bool) engine.Header {
	out := make(engine.Header, len(h))
	for k, vs := range h {
		switch k {
		case "Cookie":
			if keepCookies {
				vs = withoutSessionCookie(vs)
			} else {
				vs = nil
			}
		case "Authorization", "Proxy-Authorization":
			vs = withoutPiCloudTokens(vs)
		case engine.HeaderTrigger, engine.HeaderInvokeID, engine.HeaderAttempt:
			vs = nil
		}
		if len(vs) > 0 {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

// withoutSessionCookie removes every cookie named like PiCloud's session
// cookie, in any case, from Cookie header values, and keeps the others as
// they were sent.
func withoutSessionCookie(values []string) []string {
	var out []string
	for _, v := range values {
		var kept []string
		for _, pair := range strings.Split(v, ";") {
			pair = strings.TrimSpace(pair)
			if pair == "" || isSessionCookieName(cookieName(pair)) {
				continue
			}
			kept = append(kept, pair)
		}
		if len(kept) > 0 {
			out = append(out, strings.Join(kept, "; "))
		}
	}
	return out
}

// cookieName is the name of a name=value pair of a Cookie or Set-Cookie
// header: what is before the first '=', trimmed; a pair without '=' is a
// value without a name to browsers, but is compared as a name here too.
func cookieName(pair string) string {
	name, _, _ := strings.Cut(pair, "=")
	return strings.TrimSpace(name)
}

// isSessionCookieName reports whether a cookie name is PiCloud's session
// cookie in any case.
func isSessionCookieName(name string) bool { return strings.EqualFold(name, sessionCookie) }

// withoutPiCloudTokens drops Authorization values that carry a PiCloud
// session, API or setup token in any word ("Bearer pcs_…", or another
// scheme); an app's own credentials stay.
func withoutPiCloudTokens(values []string) []string {
	var out []string
	for _, v := range values {
		if !carriesPiCloudToken(v) {
			out = append(out, v)
		}
	}
	return out
}

func carriesPiCloudToken(v string) bool {
	for _, word := range strings.Fields(v) {
		if auth.WellFormedToken(word) {
			return true
		}
	}
	return false
}

// responseHeaderAllowed reports whether a script may send a response header
// with this (canonical) name and value. Never PiCloud's session cookie, on
// any host; and, unless the host is one of its app's own (not an admin
// host name), neither HSTS nor Clear-Site-Data, which would pin or wipe
// what the browser keeps for the board's admin host names (or another
// app's domain).
func responseHeaderAllowed(name, value string, ownHost bool) bool {
	switch name {
	case "Set-Cookie":
		pair, _, _ := strings.Cut(value, ";")
		return !isSessionCookieName(cookieName(pair))
	case "Strict-Transport-Security", "Clear-Site-Data":
		return ownHost
	}
	return true
}
