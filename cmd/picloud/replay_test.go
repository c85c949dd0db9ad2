package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// totalsScript answers {total: n*factor, items}, with a cookie; extra
// runs before it answers.
func totalsScript(factor int, extra string) string {
	return fmt.Sprintf(`import { kv, db } from "picloud"
export default async (request) => {
  const n = Number(new URL(request.url).searchParams.get("n") || "1")
  if (n < 0) throw new Error("negative")
  %s
  return Response.json({ total: n * %d, items: ["a", "b"] }, { headers: { "Set-Cookie": "s=resp-secret-cookie" } })
}
`, extra, factor)
}

// replayReport is the replay endpoint's answer, as this test reads it.
type replayReport struct {
	Version        int  `json:"version"`
	CaptureEnabled bool `json:"capture_enabled"`
	Summary        struct{ Total, Same, Different, Failed int }
	Requests       []struct {
		URL     string
		Same    bool
		Status  *struct{ Captured, Replayed int }
		Headers []struct{ Name string }
		Body    *struct {
			Kind    string
			Changes []string
		}
		Error *struct{ Code, Message string }
	}
}

// TestReplay captures a script's public requests and replays drafts
// against them: capture is off by default; the last N are kept, without
// the credentials' and the configured headers; a draft that changes one
// field of the JSON answer is reported with exactly that difference; a
// draft's data writes, inside and outside db.transaction, change
// nothing; a draft that fetches is stopped with replay.refused; deploy
// --replay stops on differences with nothing live, --replay-accept goes
// live.
func TestReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	anon := &daemon{t: t, url: d.url}
	const public = "pi.example.net" // an unclaimed host: the default app's
	token := appToken(d)
	dir := t.TempDir()
	writeProject(t, dir, map[string]string{
		"picloud.toml": "app = \"default\"\n\n[[scripts]]\nname = \"totals\"\nfile = \"totals.js\"\nroutes = [\"GET /totals\"]\n",
		"totals.js":    totalsScript(3, ""),
	})
	deploy := func(args ...string) (string, error) {
		return d.picloud(token+"\n", append([]string{"deploy", "--target", d.url, "--token-stdin"}, append(args, dir)...)...)
	}
	if out, err := deploy(); err != nil {
		t.Fatalf("first deploy: %v\n%s", err, out)
	}
	var id string
	{
		r := d.call("GET", "/api/v1/admin/scripts", "")
		var list struct{ Scripts []struct{ ID, Name string } }
		if err := json.Unmarshal([]byte(r.body), &list); err != nil || len(list.Scripts) != 1 {
			t.Fatalf("scripts: %v %s", err, r.body)
		}
		id = list.Scripts[0].ID
	}
	capture := "/api/v1/admin/scripts/" + id + "/capture"
	secrets := []string{"Bearer app-secret-token", "cookie-secret", "key-secret", "resp-secret-cookie"}
	ask := func(n int) {
		t.Helper()
		anon.expect(anon.call("GET", fmt.Sprintf("/totals?n=%d", n), "", "Host", public,
			"Authorization", "Bearer app-secret-token", "Cookie", "sid=cookie-secret", "X-Api-Key", "key-secret", "X-Plain", "kept"),
			200, fmt.Sprintf(`"total":%d`, n*3))
	}

	// Off by default: a request now is never kept.
	d.expect(d.call("GET", capture, ""), 200, `"enabled":false`, `"max_requests":0`)
	ask(1)
	d.expect(d.call("PUT", capture, `{"max_requests":201}`), 400, "between 1 and 200")
	d.expect(d.call("PUT", capture, `{"redact_headers":["X-Api-Key"]}`), 400, "max_requests is required")
	d.expect(d.call("PUT", capture, `{"max_requests":2,"redact_headers":["bad header"]}`), 400, "not a header name")
	d.expect(d.call("PUT", capture, `{"max_requests":2,"redact_headers":["x-api-key"]}`), 200, `"enabled":true`, `"redact_headers":["X-Api-Key"]`)
	// An app.write token may not turn capture on: owners and admins do.
	tokenUser := &daemon{t: t, url: d.url, token: token}
	tokenUser.expect(tokenUser.call("PUT", capture, `{"max_requests":5}`), 403)

	// The last two of three are kept, redacted. Never kept: a try by id
	// with admin credentials, a failed execution.
	ask(2)
	ask(3)
	d.expect(d.call("GET", "/api/v1/execute/"+id+"?n=7", "", "PiCloud-Version", "1"), 200, `"total":21`)
	anon.expect(anon.call("GET", "/totals?n=-1", "", "Host", public), 500)
	ask(4)
	listing := d.await("the last request captured", "GET", capture+"/requests", "", func(r reply) error {
		if !strings.Contains(r.body, "n=4") {
			return errors.New("n=4 not captured yet")
		}
		return nil
	})
	var kept struct {
		Requests []struct {
			URL             string
			RequestHeaders  map[string][]string `json:"request_headers"`
			ResponseHeaders map[string][]string `json:"response_headers"`
			Status          int
			ResponseBody    string `json:"response_body"`
		}
	}
	if err := json.Unmarshal([]byte(listing.body), &kept); err != nil {
		t.Fatal(err)
	}
	if len(kept.Requests) != 2 || !strings.HasSuffix(kept.Requests[0].URL, "n=3") || !strings.HasSuffix(kept.Requests[1].URL, "n=4") {
		t.Fatalf("want the requests n=3 and n=4 kept, got %s", listing.body)
	}
	for _, s := range secrets {
		if strings.Contains(listing.body, s) {
			t.Errorf("the captured requests show %q: %s", s, listing.body)
		}
	}
	q := kept.Requests[0]
	for _, h := range []string{"Authorization", "Cookie", "X-Api-Key"} {
		if got := q.RequestHeaders[h]; !reflect.DeepEqual(got, []string{"[redacted]"}) {
			t.Errorf("captured request header %s: %q", h, got)
		}
	}
	if got := q.RequestHeaders["X-Plain"]; !reflect.DeepEqual(got, []string{"kept"}) {
		t.Errorf("captured request header X-Plain: %q", got)
	}
	if got := q.ResponseHeaders["Set-Cookie"]; !reflect.DeepEqual(got, []string{"[redacted]"}) {
		t.Errorf("captured response header Set-Cookie: %q", got)
	}
	if q.Status != 200 || !strings.Contains(q.ResponseBody, `"total":9`) {
		t.Errorf("captured response: %d %s", q.Status, q.ResponseBody)
	}
	// Nor are the secrets anywhere in the table.
	db := txDB(t, d)
	var leaked int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM captured_requests
WHERE request_headers::text ~ 'secret' OR response_headers::text ~ 'secret'`).Scan(&leaked); err != nil || leaked != 0 {
		t.Errorf("rows with a secret in captured_requests: %d (%v)", leaked, err)
	}

	replay := func(version int) replayReport {
		t.Helper()
		r := d.call("POST", fmt.Sprintf("/api/v1/admin/scripts/%s/versions/%d/replay", id, version), "")
		d.expect(r, 200)
		var rep replayReport
		if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
			t.Fatal(err)
		}
		if !rep.CaptureEnabled || rep.Summary.Total != 2 || len(rep.Requests) != 2 {
			t.Fatalf("replay of version %d: %s", version, r.body)
		}
		return rep
	}
	draft := func(src string) int {
		t.Helper()
		r := d.call("PUT", "/api/v1/admin/scripts/"+id, mustJSON(map[string]any{"source": src, "activate": false}))
		d.expect(r, 200, `"active_version":1`)
		return int(r.field(t, "latest_version").(float64))
	}

	// The active version answers the same.
	if rep := replay(1); rep.Summary.Same != 2 {
		t.Errorf("replay of the active version: %+v", rep)
	}

	// One field of the JSON answer changes: exactly that is reported.
	rep := replay(draft(totalsScript(4, "")))
	if rep.Summary.Different != 2 || rep.Summary.Same != 0 || rep.Summary.Failed != 0 {
		t.Errorf("summary: %+v", rep.Summary)
	}
	for i, want := range []string{"$.total: 9 → 12", "$.total: 12 → 16"} {
		r := rep.Requests[i]
		if r.Same || r.Status != nil || len(r.Headers) != 0 || r.Error != nil || r.Body == nil || r.Body.Kind != "json" ||
			!reflect.DeepEqual(r.Body.Changes, []string{want}) {
			t.Errorf("request %d: %+v %+v, want only %q", i, r, r.Body, want)
		}
	}

	// Writes, outside and inside db.transaction, leave nothing behind.
	rep = replay(draft(totalsScript(3, `await kv.collection("c").put("outside", "written")
  await db.transaction(async (tx) => { await tx.kv.collection("c").put("inside", "written") })
  if (await kv.collection("c").get("outside") !== "written") throw new Error("the replay does not see its own write")`)))
	if rep.Summary.Same != 2 {
		t.Errorf("a draft that writes: %+v", rep)
	}
	var rows int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM kv_entries WHERE collection = 'c'`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("the replay's writes outlived it: %d rows (%v)", rows, err)
	}

	// A fetch is stopped by the replay's rules.
	rep = replay(draft(totalsScript(3, `await fetch("http://example.com/")`)))
	if rep.Summary.Failed != 2 {
		t.Errorf("a draft that fetches: %+v", rep.Summary)
	}
	for _, r := range rep.Requests {
		if r.Error == nil || r.Error.Code != "replay.refused" || !strings.Contains(r.Error.Message, "fetch") {
			t.Errorf("a draft that fetches: %+v", r.Error)
		}
	}

	// Replays are not written to the execution log: once a later try is
	// there, no record of a draft's version is.
	d.expect(d.call("GET", "/api/v1/execute/"+id+"/after-replays", "", "PiCloud-Version", "1"), 200)
	logs := d.await("the try after the replays logged", "GET", "/api/v1/admin/logs?script_id="+id+"&limit=1000", "", has("after-replays"))
	for v := 2; v <= 4; v++ {
		if strings.Contains(logs.body, fmt.Sprintf(`"script_version":%d`, v)) {
			t.Errorf("a replay of version %d is in the execution log: %s", v, logs.body)
		}
	}

	// deploy --replay: differences stop it, nothing goes live.
	writeProject(t, dir, map[string]string{"totals.js": totalsScript(4, "")})
	out, err := deploy("--replay")
	if err == nil || !strings.Contains(out, "$.total: 9 → 12") || !strings.Contains(out, "2 different") || !strings.Contains(out, "nothing went live") {
		t.Fatalf("deploy --replay: %v\n%s", err, out)
	}
	if a, _ := scriptState(d, "totals"); a != 1 {
		t.Fatalf("deploy --replay made version %d active", a)
	}
	// --replay-accept goes live: the draft is promoted.
	out, err = deploy("--replay", "--replay-accept")
	if err != nil || !strings.Contains(out, "$.total: 9 → 12") || !strings.Contains(out, "deployed 1 change(s)") {
		t.Fatalf("deploy --replay --replay-accept: %v\n%s", err, out)
	}
	anon.expect(anon.call("GET", "/totals?n=5", "", "Host", public), 200, `"total":20`)

	// Off deletes what was kept.
	d.expect(d.call("DELETE", capture, ""), 204)
	d.expect(d.call("GET", capture+"/requests", ""), 200, `"requests":[]`)
	d.expect(d.call("GET", "/api/v1/admin/audit?limit=10", ""), 200, `"script.capture_off"`, `"script.capture"`)
}
