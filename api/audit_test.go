package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAuditLog checks what a record holds (who, channel, from where, what),
// that failed actions write none, the filters and paging, and that no
// password reaches the log.
func TestAuditLog(t *testing.T) {
	s := newStack(t, stackOptions{})
	app := s.admin("POST", "/api/v1/admin/apps", `{"name":"shop"}`).json()["id"].(string)
	// The same action through three channels: bearer token, session cookie,
	// and a client that names its channel.
	for i, h := range []map[string]string{
		{"Authorization": "Bearer TOKEN"},
		{"Cookie": "picloud_session=TOKEN"},
		{"Authorization": "Bearer TOKEN", "X-PiCloud-Channel": "terminal"},
	} {
		body := fmt.Sprintf(`{"app_id":%q,"name":"s%d","source":"export default () => 1"}`, app, i)
		if res := s.do("POST", "/api/v1/admin/scripts", h, body); res.status != 201 {
			t.Fatalf("create script %d: %d %s", i, res.status, res.body)
		}
	}

	// Failed actions leave no record.
	before := s.auditCount()
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v1/admin/apps", `{"name":"shop"}`},                                                           // name taken
		{"POST", "/api/v1/admin/scripts", `{"app_id":"` + app + `","name":"s0","source":"export default () => 1"}`}, // name taken
		{"POST", "/api/v1/admin/scripts", `{"name":"bad","source":"export default {"}`},                             // does not compile
		{"DELETE", "/api/v1/admin/apps/00000000-0000-0000-0000-000000000001", ""},                                   // the default app
		{"POST", "/api/v1/admin/users", `{"username":"bob","password":"short"}`},                                    // password too short
	} {
		if res := s.admin(tc.method, tc.path, tc.body); res.status < 400 {
			t.Fatalf("%s %s: %d, want it refused", tc.method, tc.path, res.status)
		}
	}
	if got := s.auditCount(); got != before {
		t.Fatalf("failed actions wrote %d audit records", got-before)
	}
	if res := s.admin("POST", "/api/v1/admin/users", `{"username":"bob","password":"bob's long password"}`); res.status != 201 {
		t.Fatalf("create user: %d %s", res.status, res.body)
	}

	res := s.admin("GET", "/api/v1/admin/audit?app_id="+app, nil)
	recs := res.json()["audit"].([]any)
	if res.status != 200 || len(recs) != 4 {
		t.Fatalf("records of the app: %d %s", res.status, res.body)
	}
	channels := []string{}
	for _, r := range recs {
		m := r.(map[string]any)
		channels = append(channels, m["channel"].(string))
		if m["username"] != "alice" || m["user_id"] == "" || m["remote"] != "127.0.0.1" || m["app_id"] != app {
			t.Errorf("record lacks who or where: %v", m)
		}
	}
	if got := strings.Join(channels, ","); got != "terminal,dashboard,api,api" {
		t.Errorf("channels newest first = %s, want terminal,dashboard,api,api", got)
	}
	first := recs[3].(map[string]any)
	if first["action"] != "app.create" || first["target"] != app || first["details"].(map[string]any)["name"] != "shop" {
		t.Errorf("app.create record: %v", first)
	}

	// Filters and paging.
	me := s.admin("GET", "/api/v1/admin/auth/me", nil).json()["id"].(string)
	all := s.admin("GET", "/api/v1/admin/audit?user_id="+me, nil).json()["audit"].([]any)
	// login, app.create, 3 × script.create, user.create
	if len(all) != 6 {
		t.Fatalf("records of alice: %d: %v", len(all), all)
	}
	page := s.admin("GET", fmt.Sprintf("/api/v1/admin/audit?limit=2&before=%v", all[1].(map[string]any)["id"]), nil).json()["audit"].([]any)
	if len(page) != 2 || page[0].(map[string]any)["id"] != all[2].(map[string]any)["id"] {
		t.Errorf("page after the second record: %v", page)
	}
	start := url.QueryEscape(first["at"].(string))
	if got := s.admin("GET", "/api/v1/admin/audit?since="+start, nil).json()["audit"].([]any); len(got) != 5 {
		t.Errorf("since the app was made: %d records, want 5", len(got))
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if got := s.admin("GET", "/api/v1/admin/audit?since="+future, nil).json()["audit"].([]any); len(got) != 0 {
		t.Errorf("since an hour ahead: %d records", len(got))
	}
	if got := s.admin("GET", "/api/v1/admin/audit?until="+start, nil).json()["audit"].([]any); len(got) != 2 {
		t.Errorf("until the app was made: %d records, want alice's creation and login", len(got))
	}
	for _, q := range []string{"since=yesterday", "app_id=x", "limit=0", "before=-1", "user_id=1"} {
		if res := s.admin("GET", "/api/v1/admin/audit?"+q, nil); res.status != 400 {
			t.Errorf("?%s: %d, want 400", q, res.status)
		}
	}

	// Who did what is there; passwords are not.
	everything := s.admin("GET", "/api/v1/admin/audit?limit=1000", nil).body
	for _, secret := range []string{"correct horse battery", "bob's long password", s.token} {
		if strings.Contains(everything, secret) {
			t.Errorf("the audit log holds %q: %s", secret, everything)
		}
	}
	if !strings.Contains(everything, `"action":"user.create"`) || !strings.Contains(everything, `"action":"session.login"`) {
		t.Errorf("user.create or session.login missing: %s", everything)
	}
}
