// Package access is the one place that decides who may do what: Can(user,
// capability, app). Every admin endpoint asks it.
package access

import "github.com/picloud/picloud/api/model"

// Capability is something a user may be allowed to do.
type Capability string

// Capabilities.
const (
	ManageUsers    Capability = "users.manage"    // users, their roles; owners only
	ManageInstance Capability = "instance.manage" // instance settings; owners only
	ManageApps     Capability = "apps.manage"     // create, rename and delete apps
	ReadApp        Capability = "app.read"        // an app's scripts, routes, domains and logs
	WriteApp       Capability = "app.write"       // change an app's scripts, routes and domains
)

// Can reports whether user has capability c on the app with id appID (which
// is ignored for instance-wide capabilities).
func Can(user model.User, c Capability, appID string) bool {
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
