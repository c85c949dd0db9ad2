// Package access is the one place that decides who may do what:
// Can(principal, capability, app). Every admin endpoint asks it. A request
// made with an API token may do what the token's scope allows and its user
// may do, never more.
package access

import (
	"slices"

	"github.com/picloud/picloud/api/model"
)

// Capability is something a user may be allowed to do.
type Capability string

// Capabilities.
const (
	ManageUsers    Capability = "users.manage"    // users, their roles; owners only
	ManageInstance Capability = "instance.manage" // instance settings; owners only
	ManageApps     Capability = "apps.manage"     // create, rename and delete apps
	ReadAudit      Capability = "audit.read"      // the audit log; owners and admins
	ReadMetrics    Capability = "metrics.read"    // the Prometheus metrics of the whole board; owners and admins
	ReadApp        Capability = "app.read"        // an app's scripts, routes, domains, variables and logs
	WriteApp       Capability = "app.write"       // change an app's scripts, routes, domains and variables
	// OwnCredentials is a person's own password, session and API tokens:
	// every user holds it, and no API token ever does.
	OwnCredentials Capability = "credentials.own"
)

// All lists every capability.
var All = []Capability{ManageUsers, ManageInstance, ManageApps, ReadAudit, ReadMetrics, ReadApp, WriteApp, OwnCredentials}

// Grantable lists the capabilities an API token may carry.
var Grantable = []Capability{ManageUsers, ManageInstance, ManageApps, ReadAudit, ReadMetrics, ReadApp, WriteApp}

// Parse returns the grantable capability named s.
func Parse(s string) (Capability, bool) {
	c := Capability(s)
	return c, slices.Contains(Grantable, c)
}

// AppScoped reports whether c is held per app (app.read, app.write) rather
// than on the whole instance.
func (c Capability) AppScoped() bool { return c == ReadApp || c == WriteApp }

// Can reports whether p has capability c on the app with id appID ("" for
// instance-wide requests).
func Can(p model.Principal, c Capability, appID string) bool {
	user := p.User
	if user.ID == "" || user.Disabled {
		return false
	}
	if p.Token != nil && (c == OwnCredentials || !inScope(p.Token, c, appID)) {
		return false
	}
	if c == OwnCredentials {
		return true
	}
	switch user.Role {
	case model.RoleOwner:
		return true
	case model.RoleAdmin:
		return c != ManageUsers && c != ManageInstance
	}
	switch c {
	case ReadApp:
		r := user.AppRoles[appID]
		return r == model.RoleViewer || r == model.RoleEditor
	case WriteApp:
		return user.AppRoles[appID] == model.RoleEditor
	}
	return false
}

// inScope reports whether a token's scope covers c on appID: c is among its
// capabilities (app.write covers app.read), and a request about an app is
// about one of its apps. App capabilities always concern an app.
func inScope(t *model.APIToken, c Capability, appID string) bool {
	held := false
	for _, tc := range t.Capabilities {
		if Capability(tc) == c || (c == ReadApp && Capability(tc) == WriteApp) {
			held = true
			break
		}
	}
	if !held {
		return false
	}
	if appID == "" {
		return !c.AppScoped()
	}
	return slices.Contains(t.Apps, appID)
}
