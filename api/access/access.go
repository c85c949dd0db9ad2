// Package access is the one place that decides who may do what:
// Can(principal, capability, app). Every admin endpoint asks it.
package access

import "github.com/picloud/picloud/api/model"

// Capability is something a user may be allowed to do.
type Capability string

// Capabilities.
const (
	ManageUsers    Capability = "users.manage"    // users, their roles; owners only
	ManageInstance Capability = "instance.manage" // instance settings; owners only
	ManageApps     Capability = "apps.manage"     // create, rename and delete apps
	ReadAudit      Capability = "audit.read"      // the audit log; owners and admins
	ReadApp        Capability = "app.read"        // an app's scripts, routes, domains, variables and logs
	WriteApp       Capability = "app.write"       // change an app's scripts, routes, domains and variables
)

// Can reports whether p has capability c on the app with id appID (which
// is ignored for instance-wide capabilities).
func Can(p model.Principal, c Capability, appID string) bool {
	user := p.User
	if user.ID == "" || user.Disabled {
		return false
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
