package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// queueProducer sends the JSON array it is posted to the queue named by
// ?q=, with sendBatch, outside a transaction or (?tx=commit|rollback)
// inside one that commits or throws after the send.
const queueProducer = `import { queue, db } from "picloud"
export default {
  async fetch(request) {
    const u = new URL(request.url)
    const q = u.searchParams.get("q")
    const msgs = await request.json()
    try {
      switch (u.searchParams.get("tx")) {
        case "rollback":
          await db.transaction(async (tx) => { await tx.queue(q).sendBatch(msgs); throw new Error("changed my mind") })
          break
        case "commit":
          await db.transaction(async (tx) => { await tx.queue(q).sendBatch(msgs) })
          break
        default:
          await queue(q).sendBatch(msgs)
      }
    } catch (e) {
      return Response.json({ name: e.name, code: e.code, error: e.message }, { status: 400 })
    }
    return Response.json({ sent: msgs.length })
  },
}`

// queueConsumer logs each message it gets, acks the others and throws
// when a message's body says fail; a batch with a slow body makes it mark
// that it started (in kv) and wait 3 s before acking.
const queueConsumer = `import { kv } from "picloud"
export default {
  async fetch() { return Response.json({ started: (await kv.collection("slow").get("started")) ?? 0 }) },
  async queue(batch, env, ctx) {
    for (const m of batch.messages) {
      console.log("got " + batch.queue + " " + JSON.stringify(m.body) + " attempt=" + m.attempts + " at=" + Date.now())
    }
    if (batch.messages.some((m) => m.body.slow)) {
      await kv.collection("slow").incr("started")
      await new Promise((r) => setTimeout(r, 3000))
    }
    for (const m of batch.messages) {
      if (!m.body.fail) m.ack()
    }
    if (batch.messages.some((m) => m.body.fail)) throw new Error("a message failed")
  },
}`

// delivery is one message a consumer got, from its console line.
type delivery struct {
	queue   string
	body    string
	attempt int
	at      int64 // ms since the epoch
}

// deliveries lists what the consumer script got from queue, in order.
func (d *daemon) deliveries(scriptID, queue string) []delivery {
	d.t.Helper()
	var out []delivery
	for _, e := range d.executions(scriptID) {
		if e.Trigger != "queue" {
			continue
		}
		for _, l := range e.Console {
			if !strings.HasPrefix(l.Message, "got ") {
				continue
			}
			var dl delivery
			if _, err := fmt.Sscanf(l.Message, "got %s %s attempt=%d at=%d", &dl.queue, &dl.body, &dl.attempt, &dl.at); err != nil {
				d.t.Fatalf("console line %q: %v (a body must have no spaces)", l.Message, err)
			}
			if dl.queue == queue {
				out = append(out, dl)
			}
		}
	}
	return out
}

// awaitDeliveries waits until queue has at least n deliveries.
func (d *daemon) awaitDeliveries(scriptID, queue string, n int, within time.Duration) []delivery {
	d.t.Helper()
	var got []delivery
	testkit.Eventually(d.t, within, fmt.Sprintf("%d deliveries from %s", n, queue), func() error {
		if got = d.deliveries(scriptID, queue); len(got) < n {
			return fmt.Errorf("%d so far: %v", len(got), got)
		}
		return nil
	})
	return got
}

// queueStats is a queue as the admin API lists it.
type queueStats struct {
	Queue    string `json:"queue"`
	Depth    int    `json:"depth"`
	InFlight int    `json:"in_flight"`
	Retrying int    `json:"retrying"`
	Failed   int    `json:"failed"`
}

// queues lists the app's queues by name.
func (d *daemon) queues(appID string) map[string]queueStats {
	d.t.Helper()
	r := d.call("GET", "/api/v1/admin/apps/"+appID+"/queues", "")
	d.expect(r, 200)
	var out struct {
		Queues []queueStats `json:"queues"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		d.t.Fatalf("queues: %v: %s", err, r.body)
	}
	m := map[string]queueStats{}
	for _, q := range out.Queues {
		m[q.Queue] = q
	}
	return m
}

// awaitQueue waits until the app's queue is as want says.
func (d *daemon) awaitQueue(appID, queue string, want queueStats) {
	d.t.Helper()
	want.Queue = queue
	testkit.Eventually(d.t, 60*time.Second, fmt.Sprintf("queue %s to be %+v", queue, want), func() error {
		got, ok := d.queues(appID)[queue]
		if !ok {
			got.Queue = queue // an empty queue is not listed
		}
		if got != want {
			return fmt.Errorf("it is %+v", got)
		}
		return nil
	})
}

// send posts messages to the producer.
func (d *daemon) sendQueue(queue, tx, msgs string) reply {
	d.t.Helper()
	return d.call("POST", "/send?q="+url.QueryEscape(queue)+"&tx="+tx, msgs)
}

func bodies(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, dl := range ds {
		out[i] = dl.body
	}
	return out
}

// TestQueues drives queues through the real daemon: bad trigger settings
// and oversize messages are refused naming the problem; sent messages are
// consumed once; a send in a rolled-back transaction never arrives; a
// throwing handler gets only what it did not ack again, after the
// configured delay, and a message past max_retries is kept as failed or
// moves to the dead-letter queue, from which it can be redriven; a
// daemon killed mid-batch delivers the whole batch again after restart.
func TestQueues(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_SANDBOX_WALL_TIME_MS=4000", "PICLOUD_SANDBOX_MAX_WALL_TIME_MS=5000",
		"PICLOUD_QUEUE_MAX_MESSAGE_BYTES=1000")
	t.Cleanup(func() { killCluster(t, d.dataDir) })
	d.startAsOwner()
	d.deploy("", "producer", queueProducer, "POST", "/send")
	consumer := d.deploy("", "consumer", queueConsumer, "GET", "/consumer")
	app := d.call("GET", "/api/v1/admin/scripts/"+consumer, "").field(t, "app_id").(string)

	t.Run("bad settings and messages are refused", func(t *testing.T) {
		for _, c := range []struct{ body, want string }{
			{`{"type":"queue"}`, "needs a queue"},
			{`{"type":"queue","queue":"no spaces"}`, "a queue name is"},
			{`{"type":"queue","queue":"q","max_batch_size":0}`, "max_batch_size is 0"},
			{`{"type":"queue","queue":"q","max_retries":-1}`, "max_retries is -1"},
			{`{"type":"queue","queue":"q","dead_letter":"q"}`, "the queue itself"},
			{`{"type":"queue","queue":"q","schedule":"@daily"}`, `unknown field \"schedule\"`},
		} {
			d.expect(d.call("POST", "/api/v1/admin/scripts/"+consumer+"/triggers", c.body), 400, c.want)
		}
		big := `[{"body":"` + strings.Repeat("x", 1000) + `"}]`
		d.expect(d.sendQueue("big", "", big), 400, `"name":"RangeError"`, `"code":"data.too_large"`, "over the 1000")
		d.expect(d.sendQueue("no spaces", "", `[{"body":1}]`), 400, `"name":"TypeError"`, "a queue name is")
		d.expect(d.sendQueue("q", "", `[{"body":1,"delaySeconds":-1}]`), 400, "delaySeconds")
		if qs := d.queues(app); len(qs) != 0 {
			t.Errorf("refused sends left queues %v", qs)
		}
		trig := d.addTrigger(consumer, `{"type":"queue","queue":"never-used"}`)
		d.expect(d.call("POST", "/api/v1/admin/triggers/"+trig+"/run", ""), 400, "runs when messages arrive")
	})

	t.Run("send and consume", func(t *testing.T) {
		d.addTrigger(consumer, `{"type":"queue","queue":"basic","max_batch_size":10,"max_wait_ms":100}`)
		sent := time.Now().UnixMilli()
		d.expect(d.sendQueue("basic", "", `[{"body":{"n":1}},{"body":{"n":2},"dedupeKey":"k"},{"body":{"n":3},"dedupeKey":"k"},{"body":{"n":4},"delaySeconds":2}]`), 200)
		got := d.awaitDeliveries(consumer, "basic", 3, 60*time.Second)
		d.awaitQueue(app, "basic", queueStats{})
		want := []string{`{"n":1}`, `{"n":2}`, `{"n":4}`}
		if b := bodies(d.deliveries(consumer, "basic")); strings.Join(b, " ") != strings.Join(want, " ") {
			t.Errorf("delivered %v, want %v (once each, the duplicate dropped, the delayed one last)", b, want)
		}
		if late := got[len(got)-1]; late.at-sent < 2000 {
			t.Errorf("the message delayed 2 s came %d ms after the send", late.at-sent)
		}
	})

	t.Run("a rolled-back send is never delivered", func(t *testing.T) {
		d.addTrigger(consumer, `{"type":"queue","queue":"tx","max_wait_ms":0}`)
		d.expect(d.sendQueue("tx", "rollback", `[{"body":"rolled-back"}]`), 400, "changed my mind")
		d.expect(d.sendQueue("tx", "commit", `[{"body":"committed"}]`), 200)
		d.expect(d.sendQueue("tx", "", `[{"body":"after"}]`), 200)
		d.awaitDeliveries(consumer, "tx", 2, 60*time.Second)
		d.awaitQueue(app, "tx", queueStats{})
		if b := bodies(d.deliveries(consumer, "tx")); len(b) != 2 || b[0] != `"committed"` || b[1] != `"after"` {
			t.Errorf("delivered %v, want the committed and the later message only", b)
		}
	})

	t.Run("a throwing handler gets only the unacked messages again", func(t *testing.T) {
		d.addTrigger(consumer, `{"type":"queue","queue":"partial","max_batch_size":10,"max_wait_ms":300,"max_retries":2,"retry_delay_seconds":2}`)
		d.expect(d.sendQueue("partial", "", `[{"body":{"ok":1}},{"body":{"fail":1}},{"body":{"ok":2}}]`), 200)
		d.awaitQueue(app, "partial", queueStats{Failed: 1})
		// The execution log is written after the queue is settled: wait
		// for the records of 2 acked and 1 + 2 failing deliveries.
		got := d.awaitDeliveries(consumer, "partial", 5, 30*time.Second)
		var failing []delivery
		count := map[string]int{}
		for _, dl := range got {
			count[dl.body]++
			if dl.body == `{"fail":1}` {
				failing = append(failing, dl)
			}
		}
		if count[`{"ok":1}`] != 1 || count[`{"ok":2}`] != 1 || len(failing) != 3 {
			t.Fatalf("deliveries %v: want each acked message once and the failing one 1 + max_retries (3) times", got)
		}
		for i := 1; i < len(failing); i++ {
			if failing[i].attempt != i+1 {
				t.Errorf("delivery %d has attempt %d", i+1, failing[i].attempt)
			}
			if gap := failing[i].at - failing[i-1].at; gap < 2000 {
				t.Errorf("retry %d came %d ms after the delivery before, want at least retry_delay_seconds (2 s)", i, gap)
			}
		}
		// Kept as failed, never deleted: visible, and retried by hand.
		r := d.call("GET", "/api/v1/admin/apps/"+app+"/queues/partial/messages?state=failed", "")
		d.expect(r, 200, `"body":{"fail":1}`, `"attempts":3`, "a message failed")
		var page struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if err := json.Unmarshal([]byte(r.body), &page); err != nil || len(page.Messages) != 1 {
			t.Fatalf("failed messages: %v %s", err, r.body)
		}
		id := page.Messages[0].ID
		d.expect(d.call("POST", "/api/v1/admin/apps/"+app+"/queues/partial/messages/"+id+"/retry", ""), 204)
		d.awaitDeliveries(consumer, "partial", len(got)+3, 60*time.Second)
		d.awaitQueue(app, "partial", queueStats{Failed: 1})
		d.expect(d.call("DELETE", "/api/v1/admin/apps/"+app+"/queues/partial/messages/"+id, ""), 204)
		d.awaitQueue(app, "partial", queueStats{})
		d.expect(d.call("DELETE", "/api/v1/admin/apps/"+app+"/queues/partial/messages/"+id, ""), 404)
	})

	t.Run("dead letters and redrive", func(t *testing.T) {
		d.addTrigger(consumer, `{"type":"queue","queue":"always","max_wait_ms":0,"max_retries":1,"retry_delay_seconds":0,"dead_letter":"always-dead"}`)
		d.expect(d.sendQueue("always", "", `[{"body":{"fail":"x"}}]`), 200)
		d.awaitQueue(app, "always-dead", queueStats{Depth: 1})
		d.awaitDeliveries(consumer, "always", 2, 30*time.Second)
		if n := len(d.deliveries(consumer, "always")); n != 2 {
			t.Errorf("%d deliveries before the dead-letter queue, want 1 + max_retries (2)", n)
		}
		d.expect(d.call("GET", "/api/v1/admin/apps/"+app+"/queues/always-dead/messages", ""), 200, `"origin_queue":"always"`, `"body":{"fail":"x"}`)
		d.expect(d.call("POST", "/api/v1/admin/apps/"+app+"/queues/always-dead/redrive", ""), 200, `"moved":1`)
		got := d.awaitDeliveries(consumer, "always", 4, 60*time.Second)
		if got[2].attempt != 1 {
			t.Errorf("a redriven message came with attempt %d, want 1", got[2].attempt)
		}
		d.awaitQueue(app, "always-dead", queueStats{Depth: 1})
	})

	t.Run("kill -9 mid-batch delivers the batch again", func(t *testing.T) {
		d.addTrigger(consumer, `{"type":"queue","queue":"slow","max_batch_size":3,"max_wait_ms":5000}`)
		d.expect(d.sendQueue("slow", "", `[{"body":{"slow":1}},{"body":{"slow":2}},{"body":{"slow":3}}]`), 200)
		d.await("the batch to start", "GET", "/consumer", "", has(`"started":1`))
		if qs := d.queues(app)["slow"]; qs.InFlight != 3 {
			t.Errorf("mid-batch the queue is %+v, want 3 in flight", qs)
		}
		d.kill(false)
		d.start()
		got := d.awaitDeliveries(consumer, "slow", 3, 120*time.Second)
		d.awaitQueue(app, "slow", queueStats{})
		seen := map[string]bool{}
		for _, dl := range d.deliveries(consumer, "slow") {
			seen[dl.body] = true
			if dl.attempt != 2 {
				t.Errorf("after the kill %s came with attempt %d, want 2", dl.body, dl.attempt)
			}
		}
		if len(seen) != 3 || len(got) != 3 {
			t.Errorf("after the kill got %v, want each of the 3 messages once", got)
		}
	})
}

// TestQueuesInTheTUI: the queues screen shows a queue's failed message,
// retries it (it fails again) and deletes it.
func TestQueuesInTheTUI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	d.deploy("", "producer", queueProducer, "POST", "/send")
	consumer := d.deploy("", "consumer", queueConsumer, "GET", "/consumer")
	app := d.call("GET", "/api/v1/admin/scripts/"+consumer, "").field(t, "app_id").(string)
	d.addTrigger(consumer, `{"type":"queue","queue":"jobs","max_wait_ms":0,"max_retries":0}`)
	d.expect(d.sendQueue("jobs", "", `[{"body":{"fail":"tui"}}]`), 200)
	d.awaitQueue(app, "jobs", queueStats{Failed: 1})

	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("default")
	term.send("Q")
	term.waitFor("IN FLIGHT")
	term.waitFor("jobs")
	term.send(enter)
	term.waitFor(`{"fail":"tui"}`)
	term.waitFor("script.except")
	term.send("x")
	d.awaitDeliveries(consumer, "jobs", 2, 30*time.Second)
	d.awaitQueue(app, "jobs", queueStats{Failed: 1})
	term.send("d")
	term.waitFor("delete this message?")
	term.send("y")
	d.awaitQueue(app, "jobs", queueStats{})
	term.waitFor("no messages")
}
