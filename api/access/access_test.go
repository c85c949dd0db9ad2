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
		"owner":  {ManageUsers, ManageInstance, ManageApps, ReadAudit, ReadMetrics, ReadApp, WriteApp, OwnCredentials},
		"admin":  {ManageApps, ReadAudit, ReadMetrics, ReadApp, WriteApp, OwnCredentials},
		"editor": {ReadApp, WriteApp, OwnCredentials},
		"viewer": {ReadApp, OwnCredentials},
		"nobody": {OwnCredentials},
	}
	all := All
	for name, u := range users {
		held := map[Capability]bool{}
		for _, c := range want[name] {
			held[c] = true
		}
		for _, c := range all {
			if got := Can(model.Principal{User: u}, c, a); got != held[c] {
				t.Errorf("Can(%s, %s, own app) = %v, want %v", name, c, got, held[c])
			}
			onB := held[c] && (name == "owner" || name == "admin" || c == OwnCredentials)
			if got := Can(model.Principal{User: u}, c, b); got != onB {
				t.Errorf("Can(%s, %s, other app) = %v, want %v", name, c, got, onB)
			}
		}
	}
}

func TestTokenScope(t *testing.T) {
	const a, b = "app-a", "app-b"
	owner := model.User{ID: "1", Role: model.RoleOwner}
	editor := model.User{ID: "3", Role: model.RoleMember, AppRoles: map[string]string{a: model.RoleEditor}}
	viewer := model.User{ID: "4", Role: model.RoleMember, AppRoles: map[string]string{a: model.RoleViewer}}
	token := func(apps []string, caps ...Capability) *model.APIToken {
		t := &model.APIToken{Apps: apps}
		for _, c := range caps {
			t.Capabilities = append(t.Capabilities, string(c))
		}
		return t
	}
	for _, tc := range []struct {
		name  string
		user  model.User
		token *model.APIToken
		c     Capability
		app   string
		want  bool
	}{
		{"read in scope", owner, token([]string{a}, ReadApp), ReadApp, a, true},
		{"write not in scope", owner, token([]string{a}, ReadApp), WriteApp, a, false},
		{"write covers read", owner, token([]string{a}, WriteApp), ReadApp, a, true},
		{"other app", owner, token([]string{a}, WriteApp), ReadApp, b, false},
		{"app capability without an app", owner, token([]string{a}, ReadApp), ReadApp, "", false},
		{"instance capability held", owner, token(nil, ManageUsers), ManageUsers, "", true},
		{"instance capability not held", owner, token(nil, ManageUsers), ManageApps, "", false},
		{"instance capability on an app outside the scope", owner, token(nil, ManageApps), ManageApps, a, false},
		{"instance capability on an app of the scope", owner, token([]string{a}, ManageApps), ManageApps, a, true},
		{"no capabilities", owner, token([]string{a}), ReadApp, a, false},
		// Never more than the user: the user's role still decides.
		{"scope beyond the user's role", viewer, token([]string{a}, WriteApp), WriteApp, a, false},
		{"scope beyond the user's apps", editor, token([]string{a, b}, WriteApp), WriteApp, b, false},
		{"scope within the user's role", editor, token([]string{a, b}, WriteApp), WriteApp, a, true},
		{"disabled user", model.User{ID: "6", Role: model.RoleOwner, Disabled: true}, token([]string{a}, ReadApp), ReadApp, a, false},
		// A person's own credentials take a session, whatever the token says.
		{"own credentials", owner, token([]string{a}, OwnCredentials, ManageUsers), OwnCredentials, "", false},
	} {
		if got := Can(model.Principal{User: tc.user, Token: tc.token}, tc.c, tc.app); got != tc.want {
			t.Errorf("%s: Can = %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, ok := Parse("app.write"); !ok {
		t.Error("Parse(app.write) failed")
	}
	for _, name := range []string{"app.delete", string(OwnCredentials)} {
		if _, ok := Parse(name); ok {
			t.Errorf("Parse(%s) succeeded", name)
		}
	}
}
