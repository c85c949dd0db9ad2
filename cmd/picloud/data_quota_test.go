package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// dataUsage is GET /api/v1/admin/apps/{id}/usage.
type dataUsage struct {
	UsedBytes     int64  `json:"used_bytes"`
	QuotaBytes    int64  `json:"quota_bytes"`
	OwnQuotaBytes *int64 `json:"own_quota_bytes"`
	Stores        []struct {
		Kind                      string
		Collections, Items, Bytes int64
	} `json:"stores"`
}

func usageOf(t *testing.T, r reply) dataUsage {
	t.Helper()
	var u dataUsage
	if r.status != 200 || json.Unmarshal([]byte(r.body), &u) != nil {
		t.Fatalf("usage: %d %s", r.status, r.body)
	}
	return u
}

func TestDataStorageQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	app := d.call("POST", "/api/v1/admin/apps", `{"name":"quota"}`)
	d.expect(app, 201)
	appID := app.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/apps/"+appID+"/domains", `{"pattern":"quota.test"}`), 201)
	d.deploy(appID, "kv", kvScript, "*", "/kv")
	d.deploy(appID, "tx", `import { db } from "picloud"
export default async () => {
  try {
    await db.transaction(async (tx) => {
      const c = tx.kv.collection("c")
      await c.put("t1", "x".repeat(300))
      await c.put("t2", "x".repeat(300))
    })
    return Response.json({ committed: true })
  } catch (e) {
    return Response.json({ code: e.code })
  }
}`, "*", "/tx")
	d.deploy(appID, "docs", `import { docs } from "picloud"
export default async () => {
  try {
    await docs.collection("d").insert({ text: "x".repeat(500) })
    return Response.json({ inserted: true })
  } catch (e) {
    return Response.json({ code: e.code })
  }
}`, "*", "/docs")
	kv := kvClient{d: d, host: []string{"Host", "quota.test"}}
	usagePath, limitsPath := "/api/v1/admin/apps/"+appID+"/usage", "/api/v1/admin/apps/"+appID+"/limits"

	u := usageOf(t, d.call("GET", usagePath, ""))
	if u.QuotaBytes != 256<<20 || u.OwnQuotaBytes != nil || u.UsedBytes != 0 {
		t.Errorf("a new app's usage: %+v, want 0 of the default 256 MiB", u)
	}

	// An editor of the app reads its usage but cannot change its quota.
	ed := d.call("POST", "/api/v1/admin/users", `{"username":"ed","password":"ed's long password"}`)
	d.expect(ed, 201)
	d.expect(d.call("POST", "/api/v1/admin/users/"+ed.field(t, "id").(string)+"/roles", `{"app_id":"`+appID+`","role":"editor"}`), 204)
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"ed","password":"ed's long password"}`)
	d.expect(login, 200)
	editor := &daemon{t: t, url: d.url, token: login.field(t, "token").(string)}
	editor.expect(editor.call("GET", usagePath, ""), 200, `"quota_bytes":268435456`)
	editor.expect(editor.call("PUT", limitsPath, `{"storage_bytes": 1073741824}`), 403)

	// Bad input changes nothing.
	for _, body := range []string{`{}`, `{"storage_bytes": 0}`, `{"storage_bytes": -5}`, `{"storage_bytes": "big"}`,
		`{"storage_bytes": 1.5}`, `{"storage_bytes": 1099511627776000}`} {
		d.expect(d.call("PUT", limitsPath, body), 400, "storage_bytes")
	}
	if u := usageOf(t, d.call("GET", usagePath, "")); u.OwnQuotaBytes != nil {
		t.Fatalf("refused quotas changed it: %+v", u)
	}

	const quota = 2000
	u = usageOf(t, d.call("PUT", limitsPath, fmt.Sprintf(`{"storage_bytes": %d}`, quota)))
	if u.QuotaBytes != quota || u.OwnQuotaBytes == nil || *u.OwnQuotaBytes != quota {
		t.Fatalf("after setting the quota: %+v", u)
	}
	value := func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("v", 396) }

	// Four values of 400 bytes (and their keys) fit in 2000 bytes, the
	// fifth does not.
	for i := range 4 {
		kv.ok("put", "c", fmt.Sprintf("k%d", i), value(i))
	}
	from := d.output.Len()
	msg := kv.fails("Error", "limit.storage", "put", "c", "k4", value(4))
	if !strings.Contains(msg, "storage quota") {
		t.Errorf("the refusal says %q", msg)
	}
	d.logged(from, "limit.storage")
	for i := range 4 {
		if got := kv.ok("get", "c", fmt.Sprintf("k%d", i)); got != `"`+value(i)+`"` {
			t.Errorf("k%d holds %.40s… after the refusal", i, got)
		}
	}
	if got := kv.ok("get", "c", "k4"); got != "null" {
		t.Errorf("the refused key holds %.40s…", got)
	}
	// Documents count against the same quota, and so do administrators'
	// writes, which are refused with 507 and change nothing.
	d.expect(d.call("GET", "/docs", "", "Host", "quota.test"), 200, `{"code":"limit.storage"}`)
	big := mustJSON(map[string]string{"type": "text", "value": strings.Repeat("z", 600)})
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+appID+"/kv/c/keys/admin", big), 507, "storage quota")
	d.expect(d.call("POST", "/api/v1/admin/apps/"+appID+"/docs/d/documents", mustJSON(map[string]any{"doc": map[string]string{"text": strings.Repeat("z", 600)}})), 507, "storage quota")
	if got := kv.ok("get", "c", "admin"); got != "null" {
		t.Errorf("the refused administrator's key holds %.40s…", got)
	}
	// In a transaction too; the refusal rolls back its earlier write.
	d.expect(d.call("GET", "/tx", "", "Host", "quota.test"), 200, `{"code":"limit.storage"}`)
	if got := kv.ok("get", "c", "t1"); got != "null" {
		t.Errorf("the refused transaction left t1: %.40s…", got)
	}
	u = usageOf(t, d.call("GET", usagePath, ""))
	if len(u.Stores) != 3 || u.Stores[0].Kind != "kv" || u.Stores[0].Items != 4 || u.Stores[0].Collections != 1 || u.Stores[1].Kind != "docs" ||
		u.Stores[2].Kind != "users" || u.Stores[2].Items != 0 || u.UsedBytes != 4*(2+400) {
		t.Errorf("usage of four keys: %+v", u)
	}

	// A delete always works and frees its space at once.
	if got := kv.ok("delete", "c", "k0"); got != "true" {
		t.Fatalf("delete: %s", got)
	}
	kv.ok("put", "c", "k4", value(4))
	kv.fails("Error", "limit.storage", "put", "c", "k5", value(5))

	// An administrator raises the quota: the next write sees it.
	d.expect(d.call("PUT", limitsPath, `{"storage_bytes": 4000}`), 200, `"quota_bytes":4000`)
	kv.ok("put", "c", "k5", value(5))
	kv.ok("put", "c", "k6", value(6))
	d.expect(d.call("GET", "/api/v1/admin/audit?app_id="+appID, ""), 200, "app.storage_quota")

	// Back to the default.
	u = usageOf(t, d.call("PUT", limitsPath, `{"storage_bytes": null}`))
	if u.QuotaBytes != 256<<20 || u.OwnQuotaBytes != nil || u.Stores[0].Items != 6 {
		t.Errorf("back to the default: %+v", u)
	}
	kv.ok("put", "c", "k7", value(7))

	// The system status shows every app's usage.
	var sys struct {
		Storage []struct {
			App        string `json:"app"`
			UsedBytes  int64  `json:"used_bytes"`
			QuotaBytes int64  `json:"quota_bytes"`
		} `json:"storage"`
	}
	r := d.call("GET", "/api/v1/admin/system", "")
	if err := json.Unmarshal([]byte(r.body), &sys); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range sys.Storage {
		if a.App == "quota" {
			found = a.UsedBytes == 7*(2+400) && a.QuotaBytes == 256<<20
		}
	}
	if !found {
		t.Errorf("the system status's storage: %s", r.body)
	}
}
