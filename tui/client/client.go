// Package client is a typed client of PiCloud's admin API, for the terminal
// UI. It speaks HTTP over whatever connection its http.Client dials: the
// board's local admin socket, an SSH session's in-process connection, or
// the network.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Channel is what the client names itself in X-PiCloud-Channel, for the
// audit log.
const Channel = "terminal"

// Client calls the admin API.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// New returns a client of the API at base (e.g. http://localhost:8080),
// sending token as a bearer token when not empty.
func New(base string, hc *http.Client, token string) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(base, "/"), http: hc, token: token}
}

// UnixSocket returns an HTTP client whose every connection goes to the
// Unix socket at path, such as the daemon's admin socket.
func UnixSocket(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return new(net.Dialer).DialContext(ctx, "unix", path)
		},
	}}
}

// Error is an answer of the API other than a success.
type Error struct {
	Status    int
	Message   string
	RequestID string
	// Line and Column place a compile error (422) in the source, 1-based.
	Line, Column int
	// Conflicts are the routes a new route conflicts with (409).
	Conflicts []Route
	// BaseVersion and LatestVersion, on a save refused with 409, are the
	// version the edit started from and the script's latest version,
	// saved since.
	BaseVersion, LatestVersion int
}

// StaleBase reports whether err refuses a script save because another
// version was saved since the edit's base; the newer version is its
// LatestVersion.
func StaleBase(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusConflict && e.LatestVersion > 0 {
		return e, true
	}
	return nil, false
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%d: line %d, column %d: %s", e.Status, e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Message)
}

// StatusOf returns the HTTP status of an API error, 0 for other errors.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// newRequest builds an admin API request with the client's credentials.
func (c *Client) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("X-PiCloud-Channel", Channel)
	return req, nil
}

// do sends an admin request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("reach the daemon: %w", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if res.StatusCode >= 300 {
		return decodeError(res.StatusCode, data)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("read the answer of %s %s: %w", method, path, err)
	}
	return nil
}

// decodeError reads an error answer: JSON with error (and line, column,
// conflicts) or plain text.
func decodeError(status int, data []byte) error {
	var body struct {
		Error     string  `json:"error"`
		RequestID string  `json:"request_id"`
		Line      int     `json:"line"`
		Column    int     `json:"column"`
		Conflicts []Route `json:"conflicts"`
		Base      int     `json:"base_version"`
		Latest    int     `json:"latest_version"`
	}
	e := &Error{Status: status}
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		e.Message, e.RequestID, e.Line, e.Column, e.Conflicts = body.Error, body.RequestID, body.Line, body.Column, body.Conflicts
		e.BaseVersion, e.LatestVersion = body.Base, body.Latest
	} else {
		e.Message = strings.TrimSpace(string(data))
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
	}
	return e
}

const admin = "/api/v1/admin"

// Me returns the user the client acts as.
func (c *Client) Me(ctx context.Context) (User, error) {
	var u User
	return u, c.do(ctx, "GET", admin+"/auth/me", nil, &u)
}

// Versions returns /version: every compatibility surface's version.
func (c *Client) Versions(ctx context.Context) (map[string]any, error) {
	var v map[string]any
	return v, c.do(ctx, "GET", "/version", nil, &v)
}

// Apps lists the apps the user may read.
func (c *Client) Apps(ctx context.Context) ([]App, error) {
	var out struct{ Apps []App }
	return out.Apps, c.do(ctx, "GET", admin+"/apps", nil, &out)
}

// Scripts lists an app's scripts, without their source.
func (c *Client) Scripts(ctx context.Context, appID string) ([]Script, error) {
	var out struct{ Scripts []Script }
	return out.Scripts, c.do(ctx, "GET", admin+"/scripts?app_id="+url.QueryEscape(appID), nil, &out)
}

// Script returns a script with its active source.
func (c *Client) Script(ctx context.Context, id string) (Script, error) {
	var s Script
	return s, c.do(ctx, "GET", admin+"/scripts/"+url.PathEscape(id), nil, &s)
}

// CreateScript makes a script (version 1) in an app.
func (c *Client) CreateScript(ctx context.Context, appID, name, source string) (Script, error) {
	var s Script
	return s, c.do(ctx, "POST", admin+"/scripts", map[string]string{"app_id": appID, "name": name, "source": source}, &s)
}

// SaveScript saves source as a new version, active at once. A source that
// does not compile is an *Error with status 422 and its line. base, when
// not 0, is the script's latest version the edit started from: when
// another version has been saved since, nothing is saved and the error is
// one StaleBase reports.
func (c *Client) SaveScript(ctx context.Context, id, source string, base int) (Script, error) {
	var s Script
	body := map[string]any{"source": source}
	if base > 0 {
		body["base_version"] = base
	}
	return s, c.do(ctx, "PUT", admin+"/scripts/"+url.PathEscape(id), body, &s)
}

// SaveDraft saves source as a new version that does not become active:
// the active version keeps serving until the draft is rolled forward to.
// Errors are SaveScript's.
func (c *Client) SaveDraft(ctx context.Context, id, source string, base int) (Script, error) {
	var s Script
	body := map[string]any{"source": source, "activate": false}
	if base > 0 {
		body["base_version"] = base
	}
	return s, c.do(ctx, "PUT", admin+"/scripts/"+url.PathEscape(id), body, &s)
}

// DeleteScript deletes a script with its versions and routes.
func (c *Client) DeleteScript(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", admin+"/scripts/"+url.PathEscape(id), nil, nil)
}

// ScriptVersions lists a script's versions, newest first, without source.
func (c *Client) ScriptVersions(ctx context.Context, id string) ([]Version, error) {
	var out struct{ Versions []Version }
	return out.Versions, c.do(ctx, "GET", admin+"/scripts/"+url.PathEscape(id)+"/versions", nil, &out)
}

// ScriptVersion returns one version with its source.
func (c *Client) ScriptVersion(ctx context.Context, id string, n int) (Version, error) {
	var v Version
	return v, c.do(ctx, "GET", admin+"/scripts/"+url.PathEscape(id)+"/versions/"+strconv.Itoa(n), nil, &v)
}

// Replay runs version n of a script against the requests its capture
// kept, as replays, and reports what differs.
func (c *Client) Replay(ctx context.Context, id string, n int) (ReplayReport, error) {
	var r ReplayReport
	return r, c.do(ctx, "POST", admin+"/scripts/"+url.PathEscape(id)+"/versions/"+strconv.Itoa(n)+"/replay", nil, &r)
}

// Rollback makes version n of a script active.
func (c *Client) Rollback(ctx context.Context, id string, n int) (Script, error) {
	var s Script
	return s, c.do(ctx, "POST", admin+"/scripts/"+url.PathEscape(id)+"/rollback", map[string]int{"version": n}, &s)
}

// Routes lists a script's routes.
func (c *Client) Routes(ctx context.Context, scriptID string) ([]Route, error) {
	var out struct{ Routes []Route }
	return out.Routes, c.do(ctx, "GET", admin+"/scripts/"+url.PathEscape(scriptID)+"/routes", nil, &out)
}

// AddRoute binds a route to a script; a conflict is an *Error with status
// 409 and its Conflicts.
func (c *Client) AddRoute(ctx context.Context, scriptID, method, path string) (Route, error) {
	var r Route
	return r, c.do(ctx, "POST", admin+"/scripts/"+url.PathEscape(scriptID)+"/routes", map[string]string{"method": method, "path": path}, &r)
}

// DeleteRoute deletes a route.
func (c *Client) DeleteRoute(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", admin+"/routes/"+url.PathEscape(id), nil, nil)
}

// CheckRoute says whether a route could be added to an app.
func (c *Client) CheckRoute(ctx context.Context, appID, method, path string) (RouteCheck, error) {
	var rc RouteCheck
	return rc, c.do(ctx, "POST", admin+"/routes/check", map[string]string{"app_id": appID, "method": method, "path": path}, &rc)
}

// MatchRoute says which script a request with this host, method and path
// would reach.
func (c *Client) MatchRoute(ctx context.Context, host, method, path string) (Match, error) {
	q := url.Values{"method": {method}, "path": {path}}
	if host != "" {
		q.Set("host", host)
	}
	var m Match
	return m, c.do(ctx, "GET", admin+"/routes/match?"+q.Encode(), nil, &m)
}

// Logs lists an app's (or a script's) execution records, newest first.
func (c *Client) Logs(ctx context.Context, appID, scriptID string, limit int) ([]Execution, error) {
	var out struct{ Logs []Execution }
	return out.Logs, c.do(ctx, "GET", logsPath("", appID, scriptID, url.Values{"limit": {strconv.Itoa(limit)}}), nil, &out)
}

// logsPath is the path and query of the execution records (under is "")
// or their live stream (under is "/stream") of an app, or of one script
// when scriptID is not "", or of every readable app for AllApps; q holds
// the rest of the query.
func logsPath(under, appID, scriptID string, q url.Values) string {
	path := admin + "/logs" + under
	switch {
	case scriptID != "":
		q.Set("script_id", scriptID)
	case appID == AllApps:
		path = admin + "/logs/all" + under
	default:
		q.Set("app_id", appID)
	}
	return path + "?" + q.Encode()
}

// AllApps, as the app of Logs or Stream, means every app the user may
// read.
const AllApps = "*"

// Users lists every user (owners only).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var out struct{ Users []User }
	return out.Users, c.do(ctx, "GET", admin+"/users", nil, &out)
}

// Request is a request to send to a script, by its route or by id.
type Request struct {
	Method string
	// Path is the user-route path with its query (/hello/pi?q=1), or
	// /api/v1/execute/{id}/... to run a script by id.
	Path string
	// Host is the Host header, which chooses the app; "" for the default.
	Host    string
	Headers http.Header
	Body    string
}

// Response is what a script answered.
type Response struct {
	Status   int
	Header   http.Header
	Body     string
	Duration time.Duration
	// Truncated is set when the body was longer than what is kept.
	Truncated bool
}

// maxShownBody is how much of a script's response body Send keeps.
const maxShownBody = 256 << 10

// executePrefix is where scripts run by id.
const executePrefix = "/api/v1/execute/"

// Send sends a request to a script and returns the answer, whatever its
// status. A request to a route goes as any client's would, without the
// client's credentials. A request to run a script by id carries them: off
// the domains of the script's app (on the board's own host names, say)
// the daemon runs it only for a user who may read the app, and it strips
// the credentials before the script sees the request.
func (c *Client) Send(ctx context.Context, r Request) (Response, error) {
	if !strings.HasPrefix(r.Path, "/") {
		return Response{}, fmt.Errorf("the path must start with /, got %q", r.Path)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, c.base+r.Path, strings.NewReader(r.Body))
	if err != nil {
		return Response{}, fmt.Errorf("build the request: %w", err)
	}
	for k, vs := range r.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.Host != "" {
		req.Host = r.Host
	}
	if c.token != "" && strings.HasPrefix(r.Path, executePrefix) && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("send %s %s: %w", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxShownBody+1))
	if err != nil {
		return Response{}, fmt.Errorf("read the response: %w", err)
	}
	out := Response{Status: res.StatusCode, Header: res.Header, Duration: time.Since(start)}
	if len(data) > maxShownBody {
		data, out.Truncated = data[:maxShownBody], true
	}
	out.Body = string(data)
	return out, nil
}

// System returns the health of the board and the daemon (owners and
// admins).
func (c *Client) System(ctx context.Context) (System, error) {
	var s System
	return s, c.do(ctx, "GET", admin+"/system", nil, &s)
}

// keysPath is where a user's SSH keys are: the user's own for "".
func keysPath(userID string) string {
	if userID == "" {
		return admin + "/auth/keys"
	}
	return admin + "/users/" + url.PathEscape(userID) + "/keys"
}

// SSHKeys lists a user's SSH public keys; the client's own for "".
func (c *Client) SSHKeys(ctx context.Context, userID string) ([]SSHKey, error) {
	var out struct{ Keys []SSHKey }
	return out.Keys, c.do(ctx, "GET", keysPath(userID), nil, &out)
}

// AddSSHKey registers a public key (an authorized_keys line) for a user;
// the client's own for "".
func (c *Client) AddSSHKey(ctx context.Context, userID, line string) (SSHKey, error) {
	var k SSHKey
	return k, c.do(ctx, "POST", keysPath(userID), map[string]string{"public_key": line}, &k)
}

// DeleteSSHKey removes one of a user's keys; the client's own for "".
func (c *Client) DeleteSSHKey(ctx context.Context, userID, keyID string) error {
	return c.do(ctx, "DELETE", keysPath(userID)+"/"+url.PathEscape(keyID), nil, nil)
}

// CreateUser makes a user with a password and an instance role (owners).
func (c *Client) CreateUser(ctx context.Context, username, password, role string) (User, error) {
	var u User
	return u, c.do(ctx, "POST", admin+"/users", map[string]string{"username": username, "password": password, "role": role}, &u)
}

// UserChange is what UpdateUser changes; nil fields stay.
type UserChange struct {
	Role     *string `json:"role,omitempty"`
	Disabled *bool   `json:"disabled,omitempty"`
}

// UpdateUser changes a user's instance role, or disables or enables them
// (owners).
func (c *Client) UpdateUser(ctx context.Context, id string, ch UserChange) (User, error) {
	var u User
	return u, c.do(ctx, "PATCH", admin+"/users/"+url.PathEscape(id), ch, &u)
}

// ResetPassword sets a user's password; their sessions end (owners).
func (c *Client) ResetPassword(ctx context.Context, id, password string) error {
	return c.do(ctx, "POST", admin+"/users/"+url.PathEscape(id)+"/password", map[string]string{"password": password}, nil)
}

// GrantAppRole gives a user a role (editor or viewer) in an app (owners and
// admins).
func (c *Client) GrantAppRole(ctx context.Context, userID, appID, role string) error {
	return c.do(ctx, "POST", admin+"/users/"+url.PathEscape(userID)+"/roles", map[string]string{"app_id": appID, "role": role}, nil)
}

// RevokeAppRole takes a user's role in an app away.
func (c *Client) RevokeAppRole(ctx context.Context, userID, appID string) error {
	return c.do(ctx, "DELETE", admin+"/users/"+url.PathEscape(userID)+"/roles/"+url.PathEscape(appID), nil, nil)
}

// Audit lists audit records newest first, older than the record id before
// when it is not 0 (owners and admins).
func (c *Client) Audit(ctx context.Context, before int64, limit int) ([]AuditRecord, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	var out struct{ Audit []AuditRecord }
	return out.Audit, c.do(ctx, "GET", admin+"/audit?"+q.Encode(), nil, &out)
}

// CreateApp makes an app (owners and admins).
func (c *Client) CreateApp(ctx context.Context, name, description string) (App, error) {
	var a App
	return a, c.do(ctx, "POST", admin+"/apps", map[string]string{"name": name, "description": description}, &a)
}

// UpdateApp renames an app and sets its description.
func (c *Client) UpdateApp(ctx context.Context, id, name, description string) (App, error) {
	var a App
	return a, c.do(ctx, "PATCH", admin+"/apps/"+url.PathEscape(id), map[string]string{"name": name, "description": description}, &a)
}

// DeleteApp deletes an app with everything in it: scripts, routes,
// domains, variables, logs.
func (c *Client) DeleteApp(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", admin+"/apps/"+url.PathEscape(id), nil, nil)
}

// Domains lists the host names and patterns an app claims.
func (c *Client) Domains(ctx context.Context, appID string) ([]Domain, error) {
	var out struct{ Domains []Domain }
	return out.Domains, c.do(ctx, "GET", admin+"/apps/"+url.PathEscape(appID)+"/domains", nil, &out)
}

// ClaimDomain claims a host name or pattern (*.example.com) for an app.
func (c *Client) ClaimDomain(ctx context.Context, appID, pattern string) (Domain, error) {
	var d Domain
	return d, c.do(ctx, "POST", admin+"/apps/"+url.PathEscape(appID)+"/domains", map[string]string{"pattern": pattern}, &d)
}

// ReleaseDomain gives an app's claim on a domain up.
func (c *Client) ReleaseDomain(ctx context.Context, appID, domainID string) error {
	return c.do(ctx, "DELETE", admin+"/apps/"+url.PathEscape(appID)+"/domains/"+url.PathEscape(domainID), nil, nil)
}
