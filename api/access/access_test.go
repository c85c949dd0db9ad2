package access

import (
	"testing"

	"github.com/picloud/picloud/api/model"
)

func TestCan(t *testing.T) {
	const a, b = "app-a", "app-b"
	users := map[string]model.User{
		"owner":    {ID: "1", Role: model.RoleOwner},
		"admin":    {ID: "2", Role: model.RoleAdmin},
		"editor":   {ID: "3", Role: model.RoleMember, AppRoles: map[string]string{a: model.RoleEditor}},
		"viewer":   {ID: "4", Role: model.RoleMember, AppRoles: map[string]string{a: model.RoleViewer}},
		"nobody":   {ID: "5", Role: model.RoleMember},
		"disabled": {ID: "6", Role: model.RoleOwner, Disabled: true},
		"anon":     {},
	}
	// want lists, per user, the capabilities held on app a; nobody holds
	// app capabilities on b except owner and admin.
	want := map[string][]Capability{
		"owner":  {ManageUsers, ManageInstance, ManageApps, ReadAudit, ReadApp, WriteApp},
		"admin":  {ManageApps, ReadAudit, ReadApp, WriteApp},
		"editor": {ReadApp, WriteApp},
		"viewer": {ReadApp},
	}
	all := []Capability{ManageUsers, ManageInstance, ManageApps, ReadAudit, ReadApp, WriteApp}
	for name, u := range users {
		held := map[Capability]bool{}
		for _, c := range want[name] {
			held[c] = true
		}
		for _, c := range all {
			if got := Can(model.Principal{User: u}, c, a); got != held[c] {
				t.Errorf("Can(%s, %s, own app) = %v, want %v", name, c, got, held[c])
			}
			onB := held[c] && (name == "owner" || name == "admin")
			if got := Can(model.Principal{User: u}, c, b); got != onB {
				t.Errorf("Can(%s, %s, other app) = %v, want %v", name, c, got, onB)
			}
		}
	}
}
