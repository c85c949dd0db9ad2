package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// invokeCaller invokes the script named by ?to= (n times with ?n=), with
// a PUT carrying a header and the body it was posted, after waiting
// ?wait= ms; it answers with the last callee's response, or 424 and the
// error's name, code and message when invoke throws.
const invokeCaller = `import { invoke } from "picloud"
export default {
  async fetch(request) {
    const u = new URL(request.url)
    const wait = Number(u.searchParams.get("wait") || 0)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const body = await request.text()
    let r
    try {
      for (let i = 0; i < Number(u.searchParams.get("n") || 1); i++) {
        r = await invoke(u.searchParams.get("to"), new Request("http://inner.example/echo/path?x=1",
          { method: "PUT", headers: { "X-Test": "yes" }, body }))
      }
    } catch (e) {
      return Response.json({ name: e.name, code: e.code, error: e.message }, { status: 424 })
    }
    return r
  },
}`

// invokeEcho answers 201 with the request it got, and a header.
const invokeEcho = `export default {
  async fetch(request) {
    return Response.json({ method: request.method, url: request.url, test: request.headers.get("x-test"),
      body: await request.text() }, { status: 201, headers: { "X-Echo": "echoed" } })
  },
}`

// invokeSleeper never answers by itself.
const invokeSleeper = `export default {
  async fetch() { await new Promise((r) => setTimeout(r, 60000)); return new Response("woke") },
}`

// chainScript invokes next with the request it got and answers with its
// response; a refused invoke answers 424 with the error.
func chainScript(next string) string {
	return fmt.Sprintf(`import { invoke } from "picloud"
export default {
  async fetch(request) {
    try {
      return await invoke(%q, request)
    } catch (e) {
      return Response.json({ at: %q, name: e.name, code: e.code, error: e.message }, { status: 424 })
    }
  },
}`, next, next)
}

// TestInvoke drives invoke on the real binary with one execution slot, so
// a callee that took a slot of its own would be refused: it runs in its
// caller's.
func TestInvoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_MAX_CONCURRENT_EXECUTIONS=1",
		"PICLOUD_SANDBOX_WALL_TIME_MS=4000", "PICLOUD_SANDBOX_MAX_WALL_TIME_MS=5000", "PICLOUD_SANDBOX_SUBREQUESTS=3")
	t.Cleanup(func() { killCluster(t, d.dataDir) })
	d.startAsOwner()
	d.deploy("", "caller", invokeCaller, "POST", "/call")
	echo := d.deploy("", "echo", invokeEcho, "GET", "/echo")
	sleeper := d.deploy("", "sleeper", invokeSleeper, "GET", "/sleeper")

	t.Run("the callee gets the request and its response comes back", func(t *testing.T) {
		r := d.call("POST", "/call?to=echo", "hello")
		d.expect(r, 201, `"method":"PUT"`, `"url":"http://inner.example/echo/path?x=1"`, `"test":"yes"`, `"body":"hello"`)
		if got := r.header.Get("X-Echo"); got != "echoed" {
			t.Errorf("X-Echo header %q, want the callee's", got)
		}
		testkit.Eventually(t, 10*time.Second, "the callee's invoke execution in the log", func() error {
			for _, e := range d.executions(echo) {
				if e.Trigger == "invoke" && e.Method == "PUT" && e.Path == "/echo/path" && e.Status == 201 {
					return nil
				}
			}
			return fmt.Errorf("log: %+v", d.executions(echo))
		})
	})

	t.Run("a missing script and another app's script are not found", func(t *testing.T) {
		other := d.call("POST", "/api/v1/admin/apps", `{"name":"other"}`)
		d.expect(other, 201)
		d.deploy(other.field(t, "id").(string), "hidden", invokeEcho, "GET", "/hidden")
		for _, name := range []string{"nosuch", "hidden"} {
			d.expect(d.call("POST", "/call?to="+name, ""), 424, `"code":"invoke.not_found"`, `no script named \"`+name+`\"`)
		}
	})

	t.Run("a cycle is refused", func(t *testing.T) {
		d.deploy("", "ping", chainScript("pong"), "GET", "/ping")
		d.deploy("", "pong", chainScript("ping"), "GET", "/pong")
		d.expect(d.call("GET", "/ping", ""), 424, `"at":"ping"`, `"code":"invoke.cycle"`)
	})

	t.Run("a chain deeper than 8 is refused", func(t *testing.T) {
		for i := 0; i < 9; i++ {
			d.deploy("", fmt.Sprintf("d%d", i), chainScript(fmt.Sprintf("d%d", i+1)), "GET", fmt.Sprintf("/d%d", i))
		}
		d.deploy("", "d9", `export default { fetch() { return new Response("bottom") } }`, "GET", "/d9")
		d.expect(d.call("GET", "/d1", ""), 200, "bottom") // 8 invoke calls deep
		d.expect(d.call("GET", "/d0", ""), 424, `"at":"d9"`, `"code":"invoke.depth"`)
	})

	t.Run("the callee ends by the caller's deadline", func(t *testing.T) {
		// The caller has about 2 s of its 4 s left when it invokes a
		// script that would run for a minute: the callee gets those 2 s
		// less the tenth its caller keeps, not its own 4 s, and ends on
		// its own limit; the caller answers by its deadline.
		r := d.call("POST", "/call?to=sleeper&wait=2000", "")
		if r.status != 424 && r.status != 504 {
			t.Fatalf("caller answered %d: %s", r.status, r.body)
		}
		testkit.Eventually(t, 10*time.Second, "the callee's execution ended on the caller's deadline", func() error {
			for _, e := range d.executions(sleeper) {
				if e.Trigger == "invoke" && e.ErrorCode == "limit.time" {
					if strings.Contains(e.Error, "limit of 4s") || !strings.Contains(e.Error, "wall-time limit of") {
						return fmt.Errorf("the callee had its own wall time: %q", e.Error)
					}
					return nil
				}
			}
			return fmt.Errorf("log: %+v", d.executions(sleeper))
		})
	})

	t.Run("invoke calls count as subrequests", func(t *testing.T) {
		d.expect(d.call("POST", "/call?to=echo&n=3", "x"), 201)
		r := d.call("POST", "/call?to=echo&n=4", "x")
		if r.status == 201 || !strings.Contains(r.body, "limit.subrequests") {
			t.Errorf("a 4th invoke under a limit of 3 subrequests: %d %s", r.status, r.body)
		}
	})
}
