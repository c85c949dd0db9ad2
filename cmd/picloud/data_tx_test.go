package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/appliance/pgcluster"
	"github.com/picloud/picloud/appliance/testkit"
)

// txScripts are the scripts of the transaction tests, by path. Each
// answers what it saw as JSON.
var txScripts = map[string]string{
	// Two writes committed together; the outer kv, outside the
	// transaction, does not see them before the commit.
	"/tx/commit": `import { kv, db } from "picloud"
export default async () => {
  let outside
  const v = await db.transaction(async (tx) => {
    const c = tx.kv.collection("tx")
    await c.put("a", 1)
    await c.put("b", 2)
    outside = await kv.collection("tx").get("a")
    return (await c.get("a")) + (await c.get("b"))
  })
  return Response.json({ v, outside })
}`,
	// A key and a document in one transaction: both or neither. With
	// ?fail=1 it throws after both writes.
	"/tx/both": `import { kv, docs, db } from "picloud"
export default async (req) => {
  const fail = new URL(req.url).searchParams.get("fail") === "1"
  try {
    const id = await db.transaction(async (tx) => {
      const { id } = await tx.docs.collection("orders").insert({ item: "tea", fail })
      await tx.kv.collection("orders").put("last", id)
      if (fail) throw new Error("after both writes")
      return id
    })
    const doc = await docs.collection("orders").get(id)
    return Response.json({ last: await kv.collection("orders").get("last") === id, item: doc.item })
  } catch (e) {
    return Response.json({ error: e.message, count: await docs.collection("orders").count({ fail: true }), last: await kv.collection("orders").get("last") })
  }
}`,
	// A write, then a throw: rolled back, the error rethrown as it was.
	"/tx/throw": `import { db } from "picloud"
export default async () => {
  try {
    await db.transaction(async (tx) => {
      await tx.kv.collection("tx").put("thrown", 1)
      const err = new Error("boom")
      err.code = "mine"
      throw err
    })
    return Response.json({ committed: true })
  } catch (e) {
    return Response.json({ message: e.message, code: e.code })
  }
}`,
	// A write, then a wait that outlives the execution's time.
	"/tx/forever": `import { db } from "picloud"
export default async () => {
  await db.transaction(async (tx) => {
    await tx.kv.collection("tx").put("forever", 1)
    await new Promise(() => {})
  })
  return "never"
}`,
	// A write, a mark outside the transaction, then a wait for the kill.
	"/tx/killed": `import { kv, db } from "picloud"
export default async () => {
  await db.transaction(async (tx) => {
    await tx.kv.collection("tx").put("killed", 1)
    await kv.collection("tx").put("killed-ready", 1)
    await new Promise(() => {})
  })
  return "never"
}`,
	// A write, a mark outside the transaction, then a wait for the
	// daemon to stop.
	"/tx/stopped": `import { kv, db } from "picloud"
export default async () => {
  await db.transaction(async (tx) => {
    await tx.kv.collection("tx").put("stopped", 1)
    await kv.collection("tx").put("stopped-ready", 1)
    await new Promise(() => {})
  })
  return "never"
}`,
	// The answer goes while the transaction holds a write.
	"/tx/early": `import { db } from "picloud"
export default async () => {
  let written
  const w = new Promise((resolve) => { written = resolve })
  db.transaction(async (tx) => {
    await tx.kv.collection("tx").put("early", 1)
    written()
    await new Promise(() => {})
  })
  await w
  return Response.json({ answered: true })
}`,
	// One unit moves from a to b.
	"/tx/transfer": `import { db } from "picloud"
export default async () => {
  let attempts = 0
  try {
    await db.transaction(async (tx) => {
      attempts++
      const c = tx.kv.collection("bank")
      const a = await c.get("a")
      const b = await c.get("b")
      await c.put("a", a - 1)
      await c.put("b", b + 1)
    })
    return Response.json({ ok: true, attempts })
  } catch (e) {
    return Response.json({ ok: false, attempts, code: e.code ?? null, message: e.message })
  }
}`,
	// The first attempts (how many the request says) read n, then write
	// it outside the transaction before writing it inside: a conflict.
	"/tx/race": `import { kv, db } from "picloud"
export default async (req) => {
  const spoil = Number(new URL(req.url).searchParams.get("spoil"))
  let attempts = 0
  try {
    const v = await db.transaction(async (tx) => {
      attempts++
      const c = tx.kv.collection("race")
      const n = await c.get("n")
      if (attempts <= spoil) await kv.collection("race").put("n", n + 100)
      await c.put("n", n + 1)
      return n + 1
    })
    return Response.json({ attempts, v })
  } catch (e) {
    return Response.json({ attempts, code: e.code ?? null, message: e.message })
  }
}`,
	// Holds a transaction, shows its id outside it, and waits until
	// released; with the id it also reaches its own transaction the way a
	// forger would, which works. (Docs collections carry their
	// transaction's id; kv's native collections do not show it.)
	"/tx/holder": `import { kv, docs, db } from "picloud"
export default async () => {
  const out = kv.collection("forge")
  await db.transaction(async (tx) => {
    const c = tx.docs.collection("forge")
    const held = await c.insert({ held: 1 })
    const proto = Object.getPrototypeOf(c)
    await proto.insert.call({ name: "forge", tx: c.tx }, { self: 1 })
    await out.put("heldid", held.id)
    await out.put("txid", c.tx)
    for (let i = 0; i < 1000 && (await out.get("released")) === null; i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
  })
  return Response.json({ done: true })
}`,
	// Uses the holder's transaction id through the SDK's own methods.
	"/tx/forger": `import { kv, docs } from "picloud"
export default async () => {
  const out = kv.collection("forge")
  const id = await out.get("txid")
  const heldId = await out.get("heldid")
  const proto = Object.getPrototypeOf(docs.collection("forge"))
  const codes = []
  for (const call of [
    () => proto.insert.call({ name: "forge", tx: id }, { forged: 1 }),
    () => proto.get.call({ name: "forge", tx: id }, heldId),
    () => proto.delete.call({ name: "forge", tx: id }, heldId),
  ]) {
    try { await call(); codes.push("ok") } catch (e) { codes.push(e.code) }
  }
  await out.put("released", 1)
  return Response.json({ id, codes })
}`,
	// Holds a transaction with a write until its execution ends.
	"/tx/hold": `import { db } from "picloud"
export default async () => {
  await db.transaction(async (tx) => {
    await tx.kv.collection("hold").put("k" + Math.random(), 1)
    await new Promise(() => {})
  })
}`,
	// The callback's tx kept and used after the commit.
	"/tx/stale": `import { db } from "picloud"
export default async () => {
  const kept = await db.transaction(async (tx) => tx)
  try {
    await kept.kv.collection("tx").put("stale", 1)
    return Response.json({ written: true })
  } catch (e) {
    return Response.json({ code: e.code })
  }
}`,
	// A transaction inside another.
	"/tx/nested": `import { db } from "picloud"
export default async () => {
  try {
    await db.transaction(async () => { await db.transaction(async () => 1) })
    return Response.json({ nested: true })
  } catch (e) {
    return Response.json({ code: e.code, message: e.message })
  }
}`,
}

// txDB is a connection to the daemon's private cluster, to look at its
// sessions.
func txDB(t *testing.T, d *daemon) *pgx.Conn {
	t.Helper()
	cl, err := pgcluster.New(pgcluster.Config{DataDir: filepath.Join(d.dataDir, "postgres")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cl.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// inTx counts the daemon's connections inside a script's transaction and
// waiting for the client (the script): its last statement began the
// transaction or was a data call. The control plane's own transactions,
// idle for a moment between their statements, do not count.
func inTx(t *testing.T, db *pgx.Conn) int {
	t.Helper()
	var n int
	err := db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'
  AND (query ILIKE 'begin isolation level serializable%' OR query LIKE '%kv\_entries%')`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// noneLeft checks that no connection is left idle in a transaction.
func noneLeft(t *testing.T, db *pgx.Conn) {
	t.Helper()
	if n := inTx(t, db); n != 0 {
		t.Errorf("%d connections are left idle in a transaction", n)
	}
}

func TestDataTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	const wall, grace = 2 * time.Second, 300 * time.Millisecond
	d := newDaemon(t, buildBinary(t),
		"PICLOUD_MAX_CONCURRENT_EXECUTIONS=64",
		"PICLOUD_SANDBOX_WALL_TIME_MS="+strconv.Itoa(int(wall/time.Millisecond)),
		"PICLOUD_EXECUTOR_KILL_GRACE_MS="+strconv.Itoa(int(grace/time.Millisecond)),
	)
	d.startAsOwner()
	ids := map[string]string{}
	for path, src := range txScripts {
		ids[path] = d.deploy("", strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "-"), src, "*", path)
	}
	d.deploy("", "kv", kvScript, "*", "/kv")
	kv := kvClient{d: d}
	db := txDB(t, d)
	absent := func(t *testing.T, collection, key string) {
		t.Helper()
		if got := kv.ok("get", collection, key); got != "null" {
			t.Errorf("key %s of %s holds %s after a rollback", key, collection, got)
		}
	}

	t.Run("commit", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("GET", "/tx/commit", ""), 200, `{"v":3,"outside":null}`)
		if a, b := kv.ok("get", "tx", "a"), kv.ok("get", "tx", "b"); a != "1" || b != "2" {
			t.Errorf("after the commit a = %s, b = %s", a, b)
		}
		noneLeft(t, db)
	})

	t.Run("kv and docs commit and roll back together", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("GET", "/tx/both?fail=1", ""), 200, `{"error":"after both writes","count":0,"last":null}`)
		d.expect(d.call("GET", "/tx/both", ""), 200, `{"last":true,"item":"tea"}`)
		noneLeft(t, db)
	})

	t.Run("rollback on throw", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("GET", "/tx/throw", ""), 200, `{"message":"boom","code":"mine"}`)
		absent(t, "tx", "thrown")
		noneLeft(t, db)
	})

	t.Run("rollback at the time limit", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		r := d.call("GET", "/tx/forever", "")
		if r.status < 500 || !strings.Contains(r.body, "limit.time") {
			t.Fatalf("a script past its time answered %d %s", r.status, r.body)
		}
		noneLeft(t, db)
		absent(t, "tx", "forever")
	})

	t.Run("rollback when the answer goes first", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("GET", "/tx/early", ""), 200, `{"answered":true}`)
		noneLeft(t, db)
		absent(t, "tx", "early")
	})

	t.Run("rollback when the worker is killed", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("PUT", "/api/v1/admin/scripts/"+ids["/tx/killed"]+"/limits", `{"wall_time_ms": 30000}`), 200)
		answered := make(chan reply, 1)
		go func() {
			r, err := d.send(http.DefaultClient, "GET", "/tx/killed", "")
			if err != nil {
				r.body = err.Error()
			}
			answered <- r
		}()
		testkit.Eventually(t, 20*time.Second, "the script holds its transaction", func() error {
			if got := kv.ok("get", "tx", "killed-ready"); got != "1" {
				return fmt.Errorf("killed-ready is %s", got)
			}
			return nil
		})
		if n := inTx(t, db); n != 1 {
			t.Fatalf("%d connections in a transaction, want the script's 1", n)
		}
		killWorkers(t, d)
		r := testkit.Receive(t, 30*time.Second, "the killed execution's answer", answered)
		if r.status == 200 || !strings.Contains(r.body, "executor.") {
			t.Fatalf("the killed execution answered %d %s", r.status, r.body)
		}
		noneLeft(t, db)
		absent(t, "tx", "killed")
	})

	t.Run("a conflict runs the callback again", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		kv.ok("put", "race", "n", 0)
		d.expect(d.call("GET", "/tx/race?spoil=1", ""), 200, `{"attempts":2,"v":101}`)
		if got := kv.ok("get", "race", "n"); got != "101" {
			t.Errorf("n = %s after a retried transaction, want 101", got)
		}
		r := d.call("GET", "/tx/race?spoil=99", "")
		d.expect(r, 200, `"attempts":5,"code":"data.conflict"`, "5 times")
		// Each attempt's outer write stays; none of the transaction's.
		if got := kv.ok("get", "race", "n"); got != "601" {
			t.Errorf("n = %s after a transaction that always conflicted, want 601", got)
		}
		noneLeft(t, db)
	})

	t.Run("concurrent transfers keep the sum", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		kv.ok("put", "bank", "a", 1000)
		kv.ok("put", "bank", "b", 0)
		type outcome struct {
			OK       bool
			Attempts int
			Code     string
		}
		var wg sync.WaitGroup
		results := make(chan outcome, 32)
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := d.send(http.DefaultClient, "GET", "/tx/transfer", "")
				var o outcome
				if err != nil || r.status != 200 || json.Unmarshal([]byte(r.body), &o) != nil {
					t.Errorf("transfer: %v %d %s", err, r.status, r.body)
					return
				}
				results <- o
			}()
		}
		wg.Wait()
		close(results)
		moved, attempts := 0, 0
		for o := range results {
			attempts += o.Attempts
			switch {
			case o.OK:
				moved++
			case o.Code != "data.conflict":
				t.Errorf("a transfer failed with %q", o.Code)
			}
		}
		a, b := kv.ok("get", "bank", "a"), kv.ok("get", "bank", "b")
		if a != strconv.Itoa(1000-moved) || b != strconv.Itoa(moved) {
			t.Errorf("a = %s, b = %s after %d transfers that succeeded", a, b, moved)
		}
		t.Logf("%d of 32 transfers succeeded in %d attempts", moved, attempts)
		if moved == 0 {
			t.Error("no transfer succeeded")
		}
		noneLeft(t, db)
	})

	t.Run("another execution's transaction id is refused", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("PUT", "/api/v1/admin/scripts/"+ids["/tx/holder"]+"/limits", `{"wall_time_ms": 30000}`), 200)
		held := make(chan reply, 1)
		go func() {
			r, err := d.send(http.DefaultClient, "GET", "/tx/holder", "")
			if err != nil {
				r.body = err.Error()
			}
			held <- r
		}()
		testkit.Eventually(t, 20*time.Second, "the holder shows its transaction id", func() error {
			if got := kv.ok("get", "forge", "txid"); got == "null" {
				return fmt.Errorf("txid is %s", got)
			}
			return nil
		})
		d.expect(d.call("GET", "/tx/forger", ""), 200,
			`"codes":["data.no_transaction","data.no_transaction","data.no_transaction"]`)
		d.expect(testkit.Receive(t, 30*time.Second, "the holder's answer", held), 200, `{"done":true}`)
		for field, want := range map[string]int{"held": 1, "self": 1, "forged": 0} {
			var n int
			if err := db.QueryRow(context.Background(),
				`SELECT count(*) FROM docs_documents WHERE collection = 'forge' AND doc ? $1`, field).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%d documents hold %q after the holder's commit, want %d", n, field, want)
			}
		}
		noneLeft(t, db)
	})

	t.Run("a transaction's handle ends with it", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("GET", "/tx/stale", ""), 200, `{"code":"data.no_transaction"}`)
		absent(t, "tx", "stale")
	})

	t.Run("transactions do not nest", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("GET", "/tx/nested", ""), 200, `"code":"data.nested_transaction"`)
		noneLeft(t, db)
	})

	t.Run("held transactions leave the control plane its connections", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token}
		d.expect(d.call("PUT", "/api/v1/admin/scripts/"+ids["/tx/hold"]+"/limits", `{"wall_time_ms": 10000}`), 200)
		max := openTransactions(t, d).Max
		if max < 1 {
			t.Fatalf("the daemon allows %d transactions", max)
		}
		const holders = 24 // more than the daemon's connections (at most 16)
		var answered sync.WaitGroup
		var early sync.Mutex
		done := 0
		for range holders {
			answered.Add(1)
			go func() {
				defer answered.Done()
				r, err := d.send(http.DefaultClient, "GET", "/tx/hold", "")
				if err != nil || !strings.Contains(r.body, "limit.time") {
					t.Errorf("a holder answered %v %d %s", err, r.status, r.body)
				}
				early.Lock()
				done++
				early.Unlock()
			}()
		}
		testkit.Eventually(t, 20*time.Second, "the scripts hold every transaction allowed", func() error {
			if n, open := inTx(t, db), openTransactions(t, d).Open; n < max || open < max {
				return fmt.Errorf("%d held, %d open of %d", n, open, max)
			}
			return nil
		})
		d.expect(d.call("GET", "/api/v1/admin/apps", ""), 200)
		d.expect(d.call("GET", "/api/v1/admin/system", ""), 200)
		if got := kv.ok("get", "hold", "none"); got != "null" {
			t.Errorf("a kv call outside transactions: %s", got)
		}
		n := inTx(t, db)
		early.Lock()
		finished := done
		early.Unlock()
		if finished != 0 {
			t.Fatalf("%d holders ended before the admin API answered", finished)
		}
		if n > max {
			t.Errorf("%d transactions open at once, over the %d allowed", n, max)
		}
		answered.Wait()
		noneLeft(t, db)
		if got := kv.ok("list", "hold", map[string]any{}); !strings.Contains(got, `"items":[]`) {
			t.Errorf("held transactions left writes: %s", got)
		}
	})

	// Last: the daemon stops while a script holds a transaction.
	t.Run("rollback when the daemon stops", func(t *testing.T) {
		d := &daemon{t: t, url: d.url, token: d.token, bin: d.bin, env: d.env, dataDir: d.dataDir, cmd: d.cmd, output: d.output}
		d.expect(d.call("PUT", "/api/v1/admin/scripts/"+ids["/tx/stopped"]+"/limits", `{"wall_time_ms": 30000}`), 200)
		go func() { _, _ = d.send(http.DefaultClient, "GET", "/tx/stopped", "") }()
		testkit.Eventually(t, 20*time.Second, "the script holds its transaction", func() error {
			if got := kv.ok("get", "tx", "stopped-ready"); got != "1" {
				return fmt.Errorf("stopped-ready is %s", got)
			}
			return nil
		})
		// The script outlives the shutdown's wait for in-flight requests,
		// so the daemon cuts it and may report that; what matters is that
		// nothing of its transaction remains.
		_ = testkit.Receive(t, 60*time.Second, "the daemon exits", d.terminate())
		d.start()
		if got := (kvClient{d: d}).ok("get", "tx", "stopped"); got != "null" {
			t.Errorf("the stopped daemon's transaction left %s", got)
		}
	})
}

// openTransactions is the system status's count of the scripts' open
// transactions.
func openTransactions(t *testing.T, d *daemon) (tx struct{ Open, Max int }) {
	t.Helper()
	var sys struct {
		Transactions *struct{ Open, Max int } `json:"transactions"`
	}
	r := d.call("GET", "/api/v1/admin/system", "")
	if err := json.Unmarshal([]byte(r.body), &sys); err != nil || sys.Transactions == nil {
		t.Fatalf("system status without transactions: %v %s", err, r.body)
	}
	return *sys.Transactions
}

// killWorkers SIGKILLs every executor worker of the daemon.
func killWorkers(t *testing.T, d *daemon) {
	t.Helper()
	var sys struct {
		Workers []struct {
			PID int `json:"pid"`
		} `json:"workers"`
	}
	if err := json.Unmarshal([]byte(d.call("GET", "/api/v1/admin/system", "").body), &sys); err != nil || len(sys.Workers) == 0 {
		t.Fatalf("system status: %v %+v", err, sys)
	}
	for _, w := range sys.Workers {
		if w.PID != 0 {
			_ = syscall.Kill(w.PID, syscall.SIGKILL)
		}
	}
}

// TestDataTransactionsInProcess checks transactions where scripts run
// inside the daemon (PICLOUD_EXECUTOR_MODE=inprocess): the engine opens
// the execution's data scope itself.
func TestDataTransactionsInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_EXECUTOR_MODE=inprocess", "PICLOUD_SANDBOX_WALL_TIME_MS=1000")
	d.startAsOwner()
	for _, path := range []string{"/tx/commit", "/tx/forever", "/tx/early"} {
		d.deploy("", strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "-"), txScripts[path], "*", path)
	}
	d.deploy("", "kv", kvScript, "*", "/kv")
	kv := kvClient{d: d}
	db := txDB(t, d)
	d.expect(d.call("GET", "/tx/commit", ""), 200, `{"v":3,"outside":null}`)
	if got := kv.ok("get", "tx", "b"); got != "2" {
		t.Errorf("after the commit b = %s", got)
	}
	if r := d.call("GET", "/tx/forever", ""); !strings.Contains(r.body, "limit.time") {
		t.Errorf("a script past its time answered %d %s", r.status, r.body)
	}
	d.expect(d.call("GET", "/tx/early", ""), 200, `{"answered":true}`)
	noneLeft(t, db)
	for _, key := range []string{"forever", "early"} {
		if got := kv.ok("get", "tx", key); got != "null" {
			t.Errorf("key %s holds %s after a rollback", key, got)
		}
	}
}
