package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// laterPlanner plans a run of the script p.to with invoke.later, with
// p.body (or a string of p.big characters) and p.delaySeconds, outside a
// transaction or (p.tx "commit" or "rollback") in one; with p.sync, it
// invokes p.to at once with the headers of a run of invoke.later and
// answers with its response. It answers {id,
// before}, before being the time just before the call, 400 when it rolled
// back on purpose, and 424 with the error's name, code and message when
// invoke.later throws.
const laterPlanner = `import { invoke, db } from "picloud"
export default {
  async fetch(request) {
    const p = await request.json()
    const opts = "delaySeconds" in p ? { delaySeconds: p.delaySeconds } : undefined
    const body = p.big ? "x".repeat(p.big) : p.body
    if (p.sync) {
      return invoke(p.to, new Request("http://inner.example/", { method: "POST", body: "{}",
        headers: { "x-picloud-trigger": "invoke", "x-picloud-invoke-id": "1", "x-picloud-attempt": "1" } }))
    }
    const before = Date.now()
    try {
      let r
      if (p.tx) {
        r = await db.transaction(async (tx) => {
          const r = await tx.invoke.later(p.to, body, opts)
          if (p.tx === "rollback") throw new Error("changed my mind")
          return r
        })
      } else {
        r = await invoke.later(p.to, body, opts)
      }
      return Response.json({ id: r.id, before })
    } catch (e) {
      return Response.json({ name: e.name, code: e.code, error: e.message }, { status: e.message === "changed my mind" ? 400 : 424 })
    }
  },
}`

// laterWorker logs and answers what its request carries; a body with
// "fail-once" throws on the first attempt, one with "fail-always" answers
// 503 every time.
const laterWorker = `export default {
  async fetch(request) {
    const h = (n) => request.headers.get(n)
    const seen = { method: request.method, url: request.url, trigger: h("x-picloud-trigger"), id: h("x-picloud-invoke-id"),
      attempt: h("x-picloud-attempt"), type: h("content-type"), body: await request.text(), at: Date.now() }
    console.log(JSON.stringify(seen))
    if (seen.attempt === "1" && seen.body.includes("fail-once")) throw new Error("the first attempt fails")
    if (seen.body.includes("fail-always")) return new Response("down", { status: 503 })
    return Response.json(seen)
  },
}`

// laterRun is what laterWorker saw in one run, and how the run ended.
type laterRun struct {
	Method, URL, Trigger, ID, Attempt, Type, Body string
	At                                            int64
	// From the execution record.
	RecTrigger, RecMethod, RecPath, ErrorCode string
	Status                                    int
}

// laterRuns are the runs of laterWorker started by invoke.later, oldest
// first.
func (d *daemon) laterRuns(scriptID string) []laterRun {
	d.t.Helper()
	var out []laterRun
	for _, e := range d.executions(scriptID) {
		if e.Trigger != "invoke" {
			continue
		}
		for _, l := range e.Console {
			var r laterRun
			if err := json.Unmarshal([]byte(l.Message), &r); err != nil {
				d.t.Fatalf("console line %q: %v", l.Message, err)
			}
			r.RecTrigger, r.RecMethod, r.RecPath, r.ErrorCode, r.Status = e.Trigger, e.Method, e.Path, e.ErrorCode, e.Status
			out = append(out, r)
		}
	}
	return out
}

// awaitLaterRuns waits until the worker has n runs by invoke.later with
// an id in ids, and returns them.
func (d *daemon) awaitLaterRuns(scriptID string, n int, ids ...string) []laterRun {
	d.t.Helper()
	var got []laterRun
	testkit.Eventually(d.t, 60*time.Second, fmt.Sprintf("%d runs of invoke.later %v", n, ids), func() error {
		got = got[:0]
		for _, r := range d.laterRuns(scriptID) {
			for _, id := range ids {
				if r.ID == id {
					got = append(got, r)
				}
			}
		}
		if len(got) < n {
			return fmt.Errorf("runs: %+v", got)
		}
		return nil
	})
	return got
}

// plan asks laterPlanner to plan a run.
func (d *daemon) plan(p map[string]any) reply {
	d.t.Helper()
	return d.call("POST", "/plan", mustJSON(p))
}

// TestInvokeLater drives invoke.later on the real binary: the run comes
// after its delay with the body and the headers, a throw is retried, a
// rolled-back transaction plans nothing, another app's script is not
// found and bad arguments are refused.
func TestInvokeLater(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	// Retries after 0.1, 1.6 and 8.1 s instead of 1, 16 and 81 s.
	d := newDaemon(t, buildBinary(t), "TEST_INVOKE_RETRY_UNIT_MS=100")
	t.Cleanup(func() { killCluster(t, d.dataDir) })
	d.startAsOwner()
	d.deploy("", "planner", laterPlanner, "POST", "/plan")
	worker := d.deploy("", "worker", laterWorker, "POST", "/worker")
	// A run that always fails is planned first: its retries take about
	// 10 s in all, checked last.
	failing := d.plan(map[string]any{"to": "worker", "body": "fail-always"})
	d.expect(failing, 200)

	t.Run("the callee runs after the delay with the body and the headers", func(t *testing.T) {
		r := d.plan(map[string]any{"to": "worker", "body": map[string]any{"hello": "world"}, "delaySeconds": 2})
		d.expect(r, 200, `"id":"`)
		id, before := r.field(t, "id").(string), int64(r.field(t, "before").(float64))
		got := d.awaitLaterRuns(worker, 1, id)[0]
		want := laterRun{Method: "POST", URL: "http://invoke.local/", Trigger: "invoke", ID: id, Attempt: "1",
			Type: "application/json", Body: `{"hello":"world"}`, At: got.At,
			RecTrigger: "invoke", RecMethod: "POST", RecPath: "/", Status: 200}
		if got != want {
			t.Errorf("run\n got %+v\nwant %+v", got, want)
		}
		if got.At-before < 2000 {
			t.Errorf("the run planned 2 s ahead came %d ms after the call", got.At-before)
		}
	})

	t.Run("public requests and invoke cannot carry the headers", func(t *testing.T) {
		r := d.call("POST", "/worker", "{}", "X-Picloud-Trigger", "invoke", "X-Picloud-Invoke-Id", "1", "X-Picloud-Attempt", "1")
		d.expect(r, 200, `"trigger":null`, `"id":null`, `"attempt":null`)
		// Nor can a script, through invoke.
		d.expect(d.plan(map[string]any{"to": "worker", "sync": true}), 200, `"url":"http://inner.example/"`,
			`"trigger":null`, `"id":null`, `"attempt":null`)
	})

	t.Run("a throw is retried", func(t *testing.T) {
		r := d.plan(map[string]any{"to": "worker", "body": "fail-once"})
		d.expect(r, 200)
		id := r.field(t, "id").(string)
		got := d.awaitLaterRuns(worker, 2, id)
		if len(got) != 2 || got[0].Attempt != "1" || got[0].ErrorCode != "script.exception" ||
			got[1].Attempt != "2" || got[1].ErrorCode != "" || got[1].Status != 200 || got[1].Body != `"fail-once"` {
			t.Errorf("runs %+v, want attempt 1 failing and attempt 2 answering 200", got)
		}
	})

	t.Run("a rolled-back transaction plans nothing", func(t *testing.T) {
		d.expect(d.plan(map[string]any{"to": "worker", "body": "rolled-back", "tx": "rollback"}), 400, "changed my mind")
		committed := d.plan(map[string]any{"to": "worker", "body": "committed", "tx": "commit"})
		d.expect(committed, 200)
		after := d.plan(map[string]any{"to": "worker", "body": "after"})
		d.expect(after, 200)
		d.awaitLaterRuns(worker, 2, committed.field(t, "id").(string), after.field(t, "id").(string))
		for _, r := range d.laterRuns(worker) {
			if r.Body == `"rolled-back"` {
				t.Errorf("the run planned in a rolled-back transaction ran: %+v", r)
			}
		}
	})

	t.Run("another app's script and a missing one are not found", func(t *testing.T) {
		other := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
		d.expect(other, 201)
		d.deploy(other.field(t, "id").(string), "hidden", laterWorker, "POST", "/hidden")
		for _, name := range []string{"hidden", "nosuch"} {
			d.expect(d.plan(map[string]any{"to": name, "body": 1}), 424, `"code":"invoke.not_found"`, `no script named \"`+name+`\"`)
		}
	})

	t.Run("bad arguments are refused", func(t *testing.T) {
		for _, delay := range []any{-1, 7*24*3600 + 1, "soon", nil} {
			d.expect(d.plan(map[string]any{"to": "worker", "body": 1, "delaySeconds": delay}), 424,
				`"name":"TypeError"`, `"code":"data.invalid"`, "delaySeconds must be a number from 0 to 604800")
		}
		d.expect(d.plan(map[string]any{"to": "worker", "big": 200 << 10}), 424, `"code":"data.too_large"`, "over the 131072 it may have")
		d.expect(d.plan(map[string]any{"to": "", "body": 1}), 424, `"name":"TypeError"`, "the script name must be")
		for _, r := range d.laterRuns(worker) {
			if strings.Contains(r.Body, "xxxx") || r.Body == "1" {
				t.Errorf("a refused call ran: %+v", r)
			}
		}
	})

	t.Run("a run failing every time is dropped after 4 attempts, with a warning", func(t *testing.T) {
		id := failing.field(t, "id").(string)
		got := d.awaitLaterRuns(worker, 4, id)
		for i, r := range got {
			if r.Attempt != fmt.Sprint(i+1) || r.Status != 503 {
				t.Errorf("run %d: %+v, want attempt %d answering 503", i, r, i+1)
			}
		}
		d.logged(0, "invoke.later dropped after its last attempt")
		for _, l := range strings.Split(d.output.String(), "\n") {
			if strings.Contains(l, "dropped after its last attempt") && !strings.Contains(l, "invoke_id="+id+" ") {
				t.Errorf("the warning does not name run %s: %s", id, l)
			}
		}
	})
}
