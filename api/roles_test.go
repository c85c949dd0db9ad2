package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/picloud/picloud/api/model"
)

// endpoint is one admin endpoint in the role table: how to call it on an
// app's things, and which capability it needs.
type endpoint struct {
	capability string // a capability of api/access, or "" for any user and token
	method     string
	path       string // {app}, {script}, {route}, {domain}, {user}, {interceptor}, {appuser}, {var}, {kvkey}, {docid}, {queuemsg}, {inboxmsg}, {docsindex}, {owntoken}, {password} are filled in per cell
	body       string
	fresh      bool // needs its own session, and may end the others (logout, password change)
}

// sessionOnly lists the endpoints that API tokens may not use.
var sessionOnly = map[string]bool{
	"POST /api/v1/admin/auth/logout":         true,
	"POST /api/v1/admin/auth/password":       true,
	"GET /api/v1/admin/tokens":               true,
	"POST /api/v1/admin/tokens":              true,
	"DELETE /api/v1/admin/tokens/:id":        true,
	"GET /api/v1/admin/auth/keys":            true,
	"POST /api/v1/admin/auth/keys":           true,
	"DELETE /api/v1/admin/auth/keys/:key_id": true,
}

// endpoints lists every authenticated admin endpoint; TestRoleTable fails
// when the router serves one that is not here.
var endpoints = map[string]endpoint{
	"POST /api/v1/admin/auth/logout":                                {"credentials.own", "POST", "/api/v1/admin/auth/logout", "", true},
	"GET /api/v1/admin/auth/me":                                     {"", "GET", "/api/v1/admin/auth/me", "", false},
	"GET /api/v1/admin/apps":                                        {"", "GET", "/api/v1/admin/apps", "", false},
	"POST /api/v1/admin/apps":                                       {"apps.manage", "POST", "/api/v1/admin/apps", `{"name":"new-{n}"}`, false},
	"GET /api/v1/admin/apps/:id":                                    {"app.read", "GET", "/api/v1/admin/apps/{app}", "", false},
	"PATCH /api/v1/admin/apps/:id":                                  {"apps.manage", "PATCH", "/api/v1/admin/apps/{app}", `{"description":"changed"}`, false},
	"DELETE /api/v1/admin/apps/:id":                                 {"apps.manage", "DELETE", "/api/v1/admin/apps/{newapp}", "", false},
	"GET /api/v1/admin/apps/:id/domains":                            {"app.read", "GET", "/api/v1/admin/apps/{app}/domains", "", false},
	"POST /api/v1/admin/apps/:id/domains":                           {"app.write", "POST", "/api/v1/admin/apps/{app}/domains", `{"pattern":"d{n}.example.com"}`, false},
	"DELETE /api/v1/admin/apps/:id/domains/:domain_id":              {"app.write", "DELETE", "/api/v1/admin/apps/{app}/domains/{domain}", "", false},
	"GET /api/v1/admin/apps/:id/interceptors":                       {"app.read", "GET", "/api/v1/admin/apps/{app}/interceptors", "", false},
	"POST /api/v1/admin/apps/:id/interceptors":                      {"app.write", "POST", "/api/v1/admin/apps/{app}/interceptors", `{"script_id":"{script}","path":"/i{n}/*rest"}`, false},
	"DELETE /api/v1/admin/interceptors/:id":                         {"app.write", "DELETE", "/api/v1/admin/interceptors/{interceptor}", "", false},
	"GET /api/v1/admin/apps/:id/users":                              {"apps.manage", "GET", "/api/v1/admin/apps/{app}/users?search=example", "", false},
	"PATCH /api/v1/admin/apps/:id/users/:user_id":                   {"apps.manage", "PATCH", "/api/v1/admin/apps/{app}/users/{appuser}", `{"disabled":true}`, false},
	"DELETE /api/v1/admin/apps/:id/users/:user_id":                  {"apps.manage", "DELETE", "/api/v1/admin/apps/{app}/users/{appuser}", "", false},
	"POST /api/v1/admin/apps/:id/users/:user_id/revoke-sessions":    {"apps.manage", "POST", "/api/v1/admin/apps/{app}/users/{appuser}/revoke-sessions", "", false},
	"GET /api/v1/admin/settings":                                    {"apps.manage", "GET", "/api/v1/admin/settings", "", false},
	"PATCH /api/v1/admin/settings":                                  {"instance.manage", "PATCH", "/api/v1/admin/settings", `{"default_app_fallback":true}`, false},
	"GET /api/v1/admin/users":                                       {"users.manage", "GET", "/api/v1/admin/users", "", false},
	"POST /api/v1/admin/users":                                      {"users.manage", "POST", "/api/v1/admin/users", `{"username":"u{n}","password":"long enough password"}`, false},
	"POST /api/v1/admin/users/:id/roles":                            {"users.manage", "POST", "/api/v1/admin/users/{user}/roles", `{"app_id":"{app}","role":"viewer"}`, false},
	"DELETE /api/v1/admin/users/:id/roles/:app_id":                  {"users.manage", "DELETE", "/api/v1/admin/users/{user}/roles/{app}", "", false},
	"GET /api/v1/admin/scripts":                                     {"app.read", "GET", "/api/v1/admin/scripts?app_id={app}", "", false},
	"POST /api/v1/admin/scripts":                                    {"app.write", "POST", "/api/v1/admin/scripts", `{"app_id":"{app}","name":"s{n}","source":"export default () => 1"}`, false},
	"GET /api/v1/admin/scripts/:id":                                 {"app.read", "GET", "/api/v1/admin/scripts/{script}", "", false},
	"PUT /api/v1/admin/scripts/:id":                                 {"app.write", "PUT", "/api/v1/admin/scripts/{script}", `{"source":"export default () => 2"}`, false},
	"DELETE /api/v1/admin/scripts/:id":                              {"app.write", "DELETE", "/api/v1/admin/scripts/{script}", "", false},
	"GET /api/v1/admin/scripts/:id/versions":                        {"app.read", "GET", "/api/v1/admin/scripts/{script}/versions", "", false},
	"GET /api/v1/admin/scripts/:id/versions/:version":               {"app.read", "GET", "/api/v1/admin/scripts/{script}/versions/1", "", false},
	"POST /api/v1/admin/scripts/:id/rollback":                       {"app.write", "POST", "/api/v1/admin/scripts/{script}/rollback", `{"version":1}`, false},
	"GET /api/v1/admin/scripts/:id/limits":                          {"app.read", "GET", "/api/v1/admin/scripts/{script}/limits", "", false},
	"PUT /api/v1/admin/scripts/:id/limits":                          {"app.write", "PUT", "/api/v1/admin/scripts/{script}/limits", `{"wall_time_ms":1000}`, false},
	"GET /api/v1/admin/scripts/:id/capture":                         {"app.read", "GET", "/api/v1/admin/scripts/{script}/capture", "", false},
	"PUT /api/v1/admin/scripts/:id/capture":                         {"apps.manage", "PUT", "/api/v1/admin/scripts/{script}/capture", `{"max_requests":10,"redact_headers":["X-Api-Key"]}`, false},
	"DELETE /api/v1/admin/scripts/:id/capture":                      {"apps.manage", "DELETE", "/api/v1/admin/scripts/{script}/capture", "", false},
	"GET /api/v1/admin/scripts/:id/capture/requests":                {"app.read", "GET", "/api/v1/admin/scripts/{script}/capture/requests", "", false},
	"POST /api/v1/admin/scripts/:id/versions/:version/replay":       {"app.write", "POST", "/api/v1/admin/scripts/{script}/versions/1/replay", "", false},
	"GET /api/v1/admin/scripts/:id/routes":                          {"app.read", "GET", "/api/v1/admin/scripts/{script}/routes", "", false},
	"POST /api/v1/admin/scripts/:id/routes":                         {"app.write", "POST", "/api/v1/admin/scripts/{script}/routes", `{"method":"GET","path":"/r{n}"}`, false},
	"DELETE /api/v1/admin/routes/:id":                               {"app.write", "DELETE", "/api/v1/admin/routes/{route}", "", false},
	"POST /api/v1/admin/routes/check":                               {"app.read", "POST", "/api/v1/admin/routes/check", `{"app_id":"{app}","method":"GET","path":"/x"}`, false},
	"GET /api/v1/admin/routes/match":                                {"app.read", "GET", "/api/v1/admin/routes/match?host={host}&path=/x", "", false},
	"GET /api/v1/admin/logs":                                        {"app.read", "GET", "/api/v1/admin/logs?app_id={app}", "", false},
	"GET /api/v1/admin/logs/stream":                                 {"app.read", "GET", "/api/v1/admin/logs/stream?script_id={script}", "", false},
	"GET /api/v1/admin/logs/all":                                    {"", "GET", "/api/v1/admin/logs/all", "", false},
	"GET /api/v1/admin/logs/all/stream":                             {"", "GET", "/api/v1/admin/logs/all/stream", "", false},
	"GET /api/v1/admin/audit":                                       {"audit.read", "GET", "/api/v1/admin/audit?app_id={app}", "", false},
	"GET /api/v1/admin/metrics":                                     {"app.read", "GET", "/api/v1/admin/metrics?app_id={app}", "", false},
	"GET /metrics":                                                  {"metrics.read", "GET", "/metrics", "", false},
	"POST /api/v1/admin/auth/password":                              {"credentials.own", "POST", "/api/v1/admin/auth/password", `{"current_password":"{password}","new_password":"{password}"}`, true},
	"PATCH /api/v1/admin/users/:id":                                 {"users.manage", "PATCH", "/api/v1/admin/users/{user}", `{"disabled":true}`, false},
	"POST /api/v1/admin/users/:id/password":                         {"users.manage", "POST", "/api/v1/admin/users/{user}/password", `{"password":"another fixture password"}`, false},
	"GET /api/v1/admin/tokens":                                      {"credentials.own", "GET", "/api/v1/admin/tokens", "", false},
	"POST /api/v1/admin/tokens":                                     {"app.read", "POST", "/api/v1/admin/tokens", `{"name":"t{n}","apps":["{app}"],"capabilities":["app.read"]}`, false},
	"DELETE /api/v1/admin/tokens/:id":                               {"credentials.own", "DELETE", "/api/v1/admin/tokens/{owntoken}", "", false},
	"GET /api/v1/admin/apps/:id/variables":                          {"app.read", "GET", "/api/v1/admin/apps/{app}/variables", "", false},
	"GET /api/v1/admin/apps/:id/variables/:name":                    {"app.read", "GET", "/api/v1/admin/apps/{app}/variables/{var}", "", false},
	"PUT /api/v1/admin/apps/:id/variables/:name":                    {"app.write", "PUT", "/api/v1/admin/apps/{app}/variables/V{n}", `{"value":"x","secret":true}`, false},
	"DELETE /api/v1/admin/apps/:id/variables/:name":                 {"app.write", "DELETE", "/api/v1/admin/apps/{app}/variables/{var}", "", false},
	"GET /api/v1/admin/system":                                      {"apps.manage", "GET", "/api/v1/admin/system", "", false},
	"GET /api/v1/admin/apps/:id/kv":                                 {"app.read", "GET", "/api/v1/admin/apps/{app}/kv", "", false},
	"GET /api/v1/admin/apps/:id/kv/:collection/keys":                {"app.read", "GET", "/api/v1/admin/apps/{app}/kv/c/keys?prefix=k", "", false},
	"GET /api/v1/admin/apps/:id/kv/:collection/keys/*key":           {"app.read", "GET", "/api/v1/admin/apps/{app}/kv/c/keys/{kvkey}", "", false},
	"PUT /api/v1/admin/apps/:id/kv/:collection/keys/*key":           {"app.write", "PUT", "/api/v1/admin/apps/{app}/kv/c/keys/k{n}", `{"type":"text","value":"x"}`, false},
	"DELETE /api/v1/admin/apps/:id/kv/:collection/keys/*key":        {"app.write", "DELETE", "/api/v1/admin/apps/{app}/kv/c/keys/{kvkey}", "", false},
	"GET /api/v1/admin/auth/keys":                                   {"credentials.own", "GET", "/api/v1/admin/auth/keys", "", false},
	"POST /api/v1/admin/auth/keys":                                  {"credentials.own", "POST", "/api/v1/admin/auth/keys", `{"public_key":"{pubkey}"}`, false},
	"DELETE /api/v1/admin/auth/keys/:key_id":                        {"credentials.own", "DELETE", "/api/v1/admin/auth/keys/{ownkey}", "", false},
	"GET /api/v1/admin/users/:id/keys":                              {"users.manage", "GET", "/api/v1/admin/users/{user}/keys", "", false},
	"POST /api/v1/admin/users/:id/keys":                             {"users.manage", "POST", "/api/v1/admin/users/{user}/keys", `{"public_key":"{pubkey}"}`, false},
	"DELETE /api/v1/admin/users/:id/keys/:key_id":                   {"users.manage", "DELETE", "/api/v1/admin/users/{user}/keys/{userkey}", "", false},
	"GET /api/v1/admin/apps/:id/usage":                              {"app.read", "GET", "/api/v1/admin/apps/{app}/usage", "", false},
	"PUT /api/v1/admin/apps/:id/limits":                             {"apps.manage", "PUT", "/api/v1/admin/apps/{app}/limits", `{"storage_bytes":1048576}`, false},
	"GET /api/v1/admin/apps/:id/email-senders":                      {"app.read", "GET", "/api/v1/admin/apps/{app}/email-senders", "", false},
	"PUT /api/v1/admin/apps/:id/email-senders":                      {"instance.manage", "PUT", "/api/v1/admin/apps/{app}/email-senders", `{"senders":null}`, false},
	"GET /api/v1/admin/scripts/:id/triggers":                        {"app.read", "GET", "/api/v1/admin/scripts/{script}/triggers", "", false},
	"POST /api/v1/admin/scripts/:id/triggers":                       {"app.write", "POST", "/api/v1/admin/scripts/{script}/triggers", `{"type":"cron","schedule":"@daily"}`, false},
	"DELETE /api/v1/admin/triggers/:id":                             {"app.write", "DELETE", "/api/v1/admin/triggers/{trigger}", "", false},
	"POST /api/v1/admin/triggers/:id/run":                           {"app.write", "POST", "/api/v1/admin/triggers/{trigger}/run", "", false},
	"POST /api/v1/admin/backups":                                    {"instance.manage", "POST", "/api/v1/admin/backups", `{}`, false},
	"GET /api/v1/admin/apps/:id/queues":                             {"app.read", "GET", "/api/v1/admin/apps/{app}/queues", "", false},
	"GET /api/v1/admin/apps/:id/queues/:queue/messages":             {"app.read", "GET", "/api/v1/admin/apps/{app}/queues/q/messages", "", false},
	"POST /api/v1/admin/apps/:id/queues/:queue/messages/:msg/retry": {"app.write", "POST", "/api/v1/admin/apps/{app}/queues/q/messages/{queuemsg}/retry", "", false},
	"DELETE /api/v1/admin/apps/:id/queues/:queue/messages/:msg":     {"app.write", "DELETE", "/api/v1/admin/apps/{app}/queues/q/messages/{queuemsg}", "", false},
	"POST /api/v1/admin/apps/:id/queues/:queue/redrive":             {"app.write", "POST", "/api/v1/admin/apps/{app}/queues/q/redrive", "", false},
	"GET /api/v1/admin/apps/:id/email/inbox":                        {"app.read", "GET", "/api/v1/admin/apps/{app}/email/inbox?state=failed&limit=5", "", false},
	"GET /api/v1/admin/apps/:id/email/inbox/:msg":                   {"app.read", "GET", "/api/v1/admin/apps/{app}/email/inbox/{inboxmsg}", "", false},
	"POST /api/v1/admin/apps/:id/email/inbox/:msg/retry":            {"app.write", "POST", "/api/v1/admin/apps/{app}/email/inbox/{inboxmsg}/retry", "", false},
	"DELETE /api/v1/admin/apps/:id/email/inbox/:msg":                {"app.write", "DELETE", "/api/v1/admin/apps/{app}/email/inbox/{inboxmsg}", "", false},
	"POST /api/v1/admin/apps/:id/deploy":                            {"app.write", "POST", "/api/v1/admin/apps/{app}/deploy", `{"scripts":[{"name":"d{n}","source":"export default () => 1"}]}`, false},
}

// docsEndpoints are the endpoints of the scripts' documents, kept apart
// from endpoints so that their long paths do not realign the table.
var docsEndpoints = map[string]endpoint{
	"GET /api/v1/admin/apps/:id/docs":                               {"app.read", "GET", "/api/v1/admin/apps/{app}/docs", "", false},
	"GET /api/v1/admin/apps/:id/docs/:collection/documents":         {"app.read", "GET", "/api/v1/admin/apps/{app}/docs/c/documents?where=%7B%22n%22%3A1%7D", "", false},
	"POST /api/v1/admin/apps/:id/docs/:collection/documents":        {"app.write", "POST", "/api/v1/admin/apps/{app}/docs/c/documents", `{"doc":{"n":{n}}}`, false},
	"GET /api/v1/admin/apps/:id/docs/:collection/documents/:doc":    {"app.read", "GET", "/api/v1/admin/apps/{app}/docs/c/documents/{docid}", "", false},
	"PUT /api/v1/admin/apps/:id/docs/:collection/documents/:doc":    {"app.write", "PUT", "/api/v1/admin/apps/{app}/docs/c/documents/{docid}", `{"doc":{"n":0}}`, false},
	"DELETE /api/v1/admin/apps/:id/docs/:collection/documents/:doc": {"app.write", "DELETE", "/api/v1/admin/apps/{app}/docs/c/documents/{docid}", "", false},
	"GET /api/v1/admin/apps/:id/docs/:collection/indexes":           {"app.read", "GET", "/api/v1/admin/apps/{app}/docs/c/indexes", "", false},
	"POST /api/v1/admin/apps/:id/docs/:collection/indexes":          {"app.write", "POST", "/api/v1/admin/apps/{app}/docs/c/indexes", `{"paths":["p{n}"]}`, false},
	"DELETE /api/v1/admin/apps/:id/docs/:collection/indexes/:index": {"app.write", "DELETE", "/api/v1/admin/apps/{app}/docs/c/indexes/{docsindex}", "", false},
}

func init() {
	for k, ep := range docsEndpoints {
		endpoints[k] = ep
	}
}

// public lists the admin endpoints that need no credentials.
var public = map[string]bool{
	"POST /api/v1/admin/auth/login": true,
	"GET /api/v1/admin/setup":       true,
	"POST /api/v1/admin/setup":      true,
}

// readOnly lists the endpoints that are not GET but change nothing, and so
// write no audit record.
var readOnly = map[string]bool{"POST /api/v1/admin/routes/check": true,
	"POST /api/v1/admin/scripts/:id/versions/:version/replay": true}

// holds says which capabilities each role holds on its own app (app A);
// only owner and admin hold app capabilities on another app. The reader
// and writer are API tokens of the admin, scoped to app A with app.read
// and app.write: the scope narrows what the admin may do.
var holds = map[string]map[string]bool{
	"reader": {"": true, "app.read": true},
	"writer": {"": true, "app.read": true, "app.write": true},
	"owner":  {"": true, "credentials.own": true, "users.manage": true, "instance.manage": true, "apps.manage": true, "audit.read": true, "metrics.read": true, "app.read": true, "app.write": true},
	"admin":  {"": true, "credentials.own": true, "apps.manage": true, "audit.read": true, "metrics.read": true, "app.read": true, "app.write": true},
	"editor": {"": true, "credentials.own": true, "app.read": true, "app.write": true},
	"viewer": {"": true, "credentials.own": true, "app.read": true},
	"member": {"": true, "credentials.own": true},
}

func TestRoleTable(t *testing.T) {
	s := newStack(t, stackOptions{})
	// Fixtures are made by an owner of their own, whose session no cell ends.
	if _, err := s.mgr.AddUser(context.Background(), terminal, "fixtures", "fixtures password", "owner"); err != nil {
		t.Fatal(err)
	}
	owner := s.login("fixtures", "fixtures password")
	create := func(path, body string) string {
		t.Helper()
		res := s.as(owner, "POST", path, body)
		if res.status != 201 {
			t.Fatalf("setup POST %s: %d %s", path, res.status, res.body)
		}
		return res.json()["id"].(string)
	}
	apps := map[string]string{"own": create("/api/v1/admin/apps", `{"name":"app-a"}`), "other": create("/api/v1/admin/apps", `{"name":"app-b"}`)}
	hostOf := map[string]string{"own": "a.example.org", "other": "b.example.org"}
	for k, app := range apps {
		create("/api/v1/admin/apps/"+app+"/domains", `{"pattern":"`+hostOf[k]+`"}`)
	}
	tokens := map[string]string{"owner": s.token}
	logins := map[string][2]string{"owner": {"alice", "correct horse battery"}} // user name, password
	userIDs := map[string]string{"owner": s.admin("GET", "/api/v1/admin/auth/me", nil).json()["id"].(string)}
	for _, role := range []string{"admin", "editor", "viewer", "member"} {
		instanceRole := "member"
		if role == "admin" {
			instanceRole = "admin"
		}
		id := create("/api/v1/admin/users", fmt.Sprintf(`{"username":%q,"password":"password of %s","role":%q}`, role, role, instanceRole))
		userIDs[role] = id
		if role == "editor" || role == "viewer" {
			if res := s.as(owner, "POST", "/api/v1/admin/users/"+id+"/roles", fmt.Sprintf(`{"app_id":%q,"role":%q}`, apps["own"], role)); res.status != 204 {
				t.Fatalf("grant %s: %d %s", role, res.status, res.body)
			}
		}
		logins[role] = [2]string{role, "password of " + role}
		tokens[role] = s.login(role, "password of "+role)
	}
	for role, capability := range map[string]string{"reader": "app.read", "writer": "app.write"} {
		res := s.as(tokens["admin"], "POST", "/api/v1/admin/tokens", fmt.Sprintf(`{"name":%q,"apps":[%q],"capabilities":[%q]}`, role, apps["own"], capability))
		if res.status != 201 {
			t.Fatalf("token %s: %d %s", role, res.status, res.body)
		}
		tokens[role], userIDs[role] = res.json()["token"].(string), userIDs["admin"]
	}
	roles := []string{"owner", "admin", "editor", "viewer", "member", "reader", "writer"}

	// Every served admin endpoint must be in the table.
	for _, r := range s.handler.(*gin.Engine).Routes() {
		key := r.Method + " " + r.Path
		if (strings.HasPrefix(r.Path, "/api/v1/admin/") || r.Path == "/metrics") && !public[key] {
			if _, ok := endpoints[key]; !ok {
				t.Errorf("%s has no entry in the role table", key)
			}
		}
	}

	n := 0
	for name, ep := range endpoints {
		for _, role := range roles {
			isToken := role == "reader" || role == "writer"
			for _, which := range []string{"own", "other"} {
				n++
				app := apps[which]
				fill := func(v string) string {
					r := strings.NewReplacer("{app}", app, "{host}", hostOf[which], "{n}", fmt.Sprint(n), "{password}", logins[role][1])
					v = r.Replace(v)
					if strings.Contains(v, "{script}") || strings.Contains(v, "{route}") || strings.Contains(v, "{trigger}") {
						script := create("/api/v1/admin/scripts", fmt.Sprintf(`{"app_id":%q,"name":"fixture-%d","source":"export default () => 1"}`, app, n))
						v = strings.ReplaceAll(v, "{script}", script)
						if strings.Contains(v, "{trigger}") {
							v = strings.ReplaceAll(v, "{trigger}", create("/api/v1/admin/scripts/"+script+"/triggers", `{"type":"cron","schedule":"@yearly"}`))
						}
						if strings.Contains(v, "{route}") {
							v = strings.ReplaceAll(v, "{route}", create("/api/v1/admin/scripts/"+script+"/routes", fmt.Sprintf(`{"method":"GET","path":"/fixture-%d"}`, n)))
						}
					}
					if strings.Contains(v, "{interceptor}") {
						script := create("/api/v1/admin/scripts", fmt.Sprintf(`{"app_id":%q,"name":"fixture-i%d","source":"export default { intercept() {} }"}`, app, n))
						v = strings.ReplaceAll(v, "{interceptor}", create("/api/v1/admin/apps/"+app+"/interceptors", fmt.Sprintf(`{"script_id":%q,"path":"/fixture-%d"}`, script, n)))
					}
					if strings.Contains(v, "{appuser}") {
						u, err := s.store.CreateAppUser(context.Background(), app, fmt.Sprintf("fixture-%d@example.org", n), "", []byte(`{}`))
						if err != nil {
							t.Fatal(err)
						}
						v = strings.ReplaceAll(v, "{appuser}", u.ID)
					}
					if strings.Contains(v, "{domain}") {
						v = strings.ReplaceAll(v, "{domain}", create("/api/v1/admin/apps/"+app+"/domains", fmt.Sprintf(`{"pattern":"fixture-%d.example.org"}`, n)))
					}
					if strings.Contains(v, "{newapp}") {
						v = strings.ReplaceAll(v, "{newapp}", create("/api/v1/admin/apps", fmt.Sprintf(`{"name":"fixture-%d"}`, n)))
					}
					if strings.Contains(v, "{var}") {
						name := fmt.Sprint("FIXTURE_", n)
						if res := s.as(owner, "PUT", "/api/v1/admin/apps/"+app+"/variables/"+name, `{"value":"v"}`); res.status != 201 {
							t.Fatalf("setup variable: %d %s", res.status, res.body)
						}
						v = strings.ReplaceAll(v, "{var}", name)
					}
					if strings.Contains(v, "{kvkey}") {
						key := fmt.Sprint("fixture/", n)
						if _, err := s.store.PutKV(context.Background(), model.KVPut{AppID: app, Collection: "c", Key: key,
							Type: "text", Value: []byte("v")}); err != nil {
							t.Fatal(err)
						}
						v = strings.ReplaceAll(v, "{kvkey}", key)
					}
					if strings.Contains(v, "{queuemsg}") {
						key := fmt.Sprint("fixture-", n)
						if err := s.store.SendQueue(context.Background(), app, "q", []model.QueueSend{{Body: `1`, DedupeKey: key}}); err != nil {
							t.Fatal(err)
						}
						ms, err := s.store.QueueMessages(context.Background(), app, "q", "", "", 1000)
						if err != nil {
							t.Fatal(err)
						}
						for _, m := range ms {
							if m.DedupeKey == key {
								v = strings.ReplaceAll(v, "{queuemsg}", m.ID)
							}
						}
					}
					if strings.Contains(v, "{inboxmsg}") {
						// A failed message, which a retry takes.
						script := create("/api/v1/admin/scripts", fmt.Sprintf(`{"app_id":%q,"name":"fixture-m%d","source":"export default () => 1"}`, app, n))
						var id string
						err := s.store.Pool().QueryRow(context.Background(), `INSERT INTO email_inbox (app_id, script_id, sender, recipient, message, state, attempts)
VALUES ($1, $2, 'ann@x.example', 'in@x.example', 'Subject: fixture'::bytea, 'failed', 6) RETURNING id::text`, app, script).Scan(&id)
						if err != nil {
							t.Fatal(err)
						}
						v = strings.ReplaceAll(v, "{inboxmsg}", id)
					}
					if strings.Contains(v, "{docid}") {
						id := uuid.Must(uuid.NewV7()).String()
						if _, err := s.store.InsertDoc(context.Background(), app, "c", id, []byte(`{"n":1}`)); err != nil {
							t.Fatal(err)
						}
						v = strings.ReplaceAll(v, "{docid}", id)
					}
					if strings.Contains(v, "{docsindex}") {
						ix := model.DocsIndex{AppID: app, Collection: "c", Name: fmt.Sprint("docs_ix_fixture_", n),
							Paths: []model.DocsPath{{fmt.Sprint("f", n)}}}
						if err := s.store.EnsureDocsIndex(context.Background(), ix); err != nil {
							t.Fatal(err)
						}
						v = strings.ReplaceAll(v, "{docsindex}", ix.Name)
					}
					if strings.Contains(v, "{owntoken}") {
						tok, err := s.store.CreateAPIToken(context.Background(), model.APIToken{UserID: userIDs[role], Name: "fixture",
							Hint: "pca_x", TokenHash: []byte(fmt.Sprint("fixture-", n)), Capabilities: []string{"app.read"}})
						if err != nil {
							t.Fatal(err)
						}
						v = strings.ReplaceAll(v, "{owntoken}", tok.ID)
					}
					if strings.Contains(v, "{pubkey}") {
						v = strings.ReplaceAll(v, "{pubkey}", newPublicKey(t))
					}
					if strings.Contains(v, "{ownkey}") {
						v = strings.ReplaceAll(v, "{ownkey}", addKey(t, s, userIDs[role]))
					}
					if strings.Contains(v, "{user}") {
						id := create("/api/v1/admin/users", fmt.Sprintf(`{"username":"fixture-%d","password":"fixture password"}`, n))
						_ = s.as(owner, "POST", "/api/v1/admin/users/"+id+"/roles", fmt.Sprintf(`{"app_id":%q,"role":"viewer"}`, app))
						v = strings.ReplaceAll(v, "{user}", id)
						if strings.Contains(v, "{userkey}") {
							v = strings.ReplaceAll(v, "{userkey}", addKey(t, s, id))
						}
					}
					return v
				}
				path, body := fill(ep.path), fill(ep.body)
				tok := tokens[role]
				if ep.fresh && !isToken {
					tok = s.login(logins[role][0], logins[role][1])
				}
				allowed := holds[role][ep.capability] && !(isToken && sessionOnly[name])
				appScoped := strings.HasPrefix(ep.capability, "app.")
				if appScoped && which == "other" && role != "owner" && role != "admin" {
					allowed = false
				}
				audited := s.auditCount()
				var res response
				if strings.HasSuffix(strings.SplitN(ep.path, "?", 2)[0], "/stream") {
					res = streamStatus(s, tok, path)
				} else {
					res = s.as(tok, ep.method, path, body)
				}
				cell := fmt.Sprintf("%s as %s on %s app", name, role, which)
				// Every change writes one audit record; nothing else does.
				want := 0
				if res.status >= 200 && res.status <= 299 && ep.method != "GET" && !readOnly[name] {
					want = 1
				}
				if got := s.auditCount() - audited; got != want {
					t.Errorf("%s: %d audit records written, want %d", cell, got, want)
				}
				if ep.fresh && !isToken {
					tokens[role] = s.login(logins[role][0], logins[role][1])
				}
				switch {
				case allowed && (res.status < 200 || res.status > 299):
					t.Errorf("%s: %d %s, want it allowed", cell, res.status, res.body)
				case !allowed && res.status != http.StatusForbidden && res.status != http.StatusNotFound:
					t.Errorf("%s: %d %s, want 403 or 404", cell, res.status, res.body)
				case !allowed && appScoped && which == "other" && !(isToken && sessionOnly[name]) && res.status != http.StatusNotFound:
					t.Errorf("%s: %d, want 404: another app's things are not even shown to exist", cell, res.status)
				}
			}
		}
	}
	t.Logf("%d cells checked", n)
}

// streamStatus opens the log stream and returns its status without reading
// the (endless) body.
func streamStatus(s *stack, token, path string) response {
	req, _ := http.NewRequest("GET", s.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	body := ""
	if res.StatusCode != 200 {
		b := make([]byte, 512)
		k, _ := res.Body.Read(b)
		body = string(b[:k])
	}
	return response{t: s.t, status: res.StatusCode, header: res.Header, body: body}
}
