package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/picloud/picloud/api/access"
	"github.com/picloud/picloud/api/auth"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/orchestrator"
)

// execute runs a script by id, whether or not a route is bound to it. It
// keeps to the Host→app boundary of the user routes: anyone may run a
// script on a host name that reaches its app — one of its claimed domains,
// or an unclaimed host when the app is the default one and the fallback is
// on — but never on an admin host name. Anywhere else the request needs a
// credential whose user may read the script's app: a bearer token (never
// the session cookie, which browsers do not send here) or the identity of
// a trusted connection. That is the "try it" of the terminal UI and the
// dashboard; the credential is stripped before the script runs, and the
// response is sandboxed as on an admin host name. An app with interceptors
// needs that credential on its own host names too: by id, a request would
// pass its guards by.
//
// With such a credential, a PiCloud-Version header names the version to
// run, active or a draft: how a draft is tried before it goes live. On the
// app's own host names the header counts for nothing: the public only ever
// reaches the active version.
func (s *server) execute(c *gin.Context) {
	id, ok := idParam(c, "id")
	if !ok {
		return
	}
	host := c.Request.Host
	admin := s.adminHosts.Allows(host)
	app, _, reaches, err := s.deps.Orchestrator.App(c, host)
	if err != nil {
		s.fail(c, err)
		return
	}
	sc, found, err := s.deps.Orchestrator.Script(c, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	ownCookies := found && reaches && app == sc.AppID
	if ownCookies && !admin {
		guarded, err := s.deps.Orchestrator.Intercepted(c, sc.AppID)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !guarded {
			s.run(c, orchestrator.Target{AppID: sc.AppID, Script: sc, Params: map[string]string{}}, served{ownHost: true, ownCookies: true, public: true})
			return
		}
		if !hasExecuteCredential(c) {
			// By id, a request would pass the app's interceptors by.
			writeError(c, http.StatusForbidden, "this app guards its routes with interceptors: its scripts answer anonymous requests "+
				"only through their routes, or by id for a logged-in user with 'Authorization: Bearer <token>'")
			return
		}
	}
	if !s.executeCredential(c, id, admin) {
		return
	}
	if !found {
		writeError(c, http.StatusNotFound, "no script with id "+id)
		return
	}
	if !s.permit(c, access.ReadApp, sc.AppID) {
		return
	}
	if sc, ok = s.versionToTry(c, sc); !ok {
		return
	}
	s.run(c, orchestrator.Target{AppID: sc.AppID, Script: sc, Params: map[string]string{}}, served{ownCookies: ownCookies})
}

// hasExecuteCredential reports whether a request to run a script by id
// carries a credential that executeCredential would try: a PiCloud token
// or the identity of a trusted connection.
func hasExecuteCredential(c *gin.Context) bool {
	_, ok := identityOf(c.Request)
	return auth.WellFormedToken(bearerOf(c)) || ok
}

// executeCredential signs in a request to run a script by id off its app's
// own host names; it answers the request itself and returns false when the
// request has no credential that counts. Without one, the answer is the
// same whether the script exists or not. An Authorization that holds no
// PiCloud token is the app's own business, not a credential here.
func (s *server) executeCredential(c *gin.Context, id string, admin bool) bool {
	tok := bearerOf(c)
	if !auth.WellFormedToken(tok) {
		tok = ""
	}
	if _, ok := identityOf(c.Request); tok != "" || ok {
		return s.signIn(c, tok, false)
	}
	if admin {
		c.Header("WWW-Authenticate", `Bearer realm="picloud"`)
		writeError(c, http.StatusUnauthorized, "on the board's own host names a script runs by id only for a user who may read its app: "+
			"send 'Authorization: Bearer <token>' (the session cookie does not count here), or call it on a domain of the script's app")
		return false
	}
	writeError(c, http.StatusNotFound, "no script with id "+id+" answers on the host name "+quoteHost(c.Request.Host)+
		"; a script runs by id on the domains of its own app, or for a logged-in user with 'Authorization: Bearer <token>'")
	return false
}

// versionHeader names, on a credentialed call of a script by id, the
// version to run instead of the active one.
const versionHeader = "PiCloud-Version"

// versionToTry is the script as the version its caller asked for in the
// PiCloud-Version header runs, or sc itself without the header; it answers
// the request itself and returns false when that version is not one. The
// header is taken off the request: it is PiCloud's, not the script's.
func (s *server) versionToTry(c *gin.Context, sc *model.Script) (*model.Script, bool) {
	raw := c.GetHeader(versionHeader)
	if raw == "" {
		return sc, true
	}
	c.Request.Header.Del(versionHeader)
	n, ok := versionNumber(c, versionHeader, raw)
	if !ok {
		return nil, false
	}
	if n == sc.ActiveVersion {
		return sc, true
	}
	v, err := s.deps.Manager.ScriptAtVersion(c, sc.ID, n)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return &v, true
}
