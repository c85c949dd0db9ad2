//go:build browser

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// producerJS sends two orders and two waiting jobs (no consumer takes
// those); consumerJS fails every order until kv cfg/mode is "ok".
const (
	producerJS = `import { queue } from "picloud"
export default async () => {
  await queue("orders").send({ n: 1 })
  await queue("orders").send({ n: 2 })
  await queue("waiting").send({ job: "a" })
  await queue("waiting").send({ job: "b" })
  return new Response("sent")
}`
	consumerJS = `import { kv } from "picloud"
export default {
  async fetch() { return new Response("consumer") },
  async queue(batch) {
    if ((await kv.collection("cfg").get("mode")) !== "ok") throw new Error("orders are broken")
  },
}`
)

// TestDashboardQueues drives an app's queues screen in Chromium against
// the real daemon: the queues with their depth, a queue's messages, one
// deleted and one retried, a dead-letter queue's messages with their
// error and origin, redriven once the consumer works. Every change is
// checked through the API as well.
func TestDashboardQueues(t *testing.T) {
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	appID := d.appID("default")
	producer := d.deploy(appID, "producer", producerJS, "GET", "/send")
	consumer := d.deploy(appID, "consumer", consumerJS, "GET", "/consumer")
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+consumer+"/triggers",
		`{"type":"queue","queue":"orders","max_retries":0,"dead_letter":"orders-failed"}`), 201)
	d.expect(d.call("GET", "/api/v1/execute/"+producer, ""), 200)
	queues := "/api/v1/admin/apps/" + appID + "/queues"
	d.await("both orders reach the dead-letter queue", "GET", queues, "",
		has(`"queue":"orders-failed","depth":2`, `"queue":"waiting","depth":2`))
	// ids are the ids of a queue's ready messages by their body.
	ids := func(queue string) map[string]string {
		var l struct {
			Messages []struct {
				ID   string
				Body json.RawMessage
			}
		}
		d.decode(d.call("GET", queues+"/"+queue+"/messages?state=ready", ""), &l)
		m := map[string]string{}
		for _, msg := range l.Messages {
			m[string(msg.Body)] = msg.ID
		}
		return m
	}
	waiting := ids("waiting")
	jobA, jobB := waiting[`{"job":"a"}`], waiting[`{"job":"b"}`]
	if jobA == "" || jobB == "" {
		t.Fatalf("the waiting messages are %v", waiting)
	}

	b := newBrowser(t, d)
	tab := b.tab()
	b.logIn(tab, "admin", "s3cret-passw0rd")
	b.run(tab, "the queues of the app",
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		click(`main a[href$="/queues"]`),
		waitText("h1", "Queues of default"),
		waitText(`tr[data-queue=waiting] td:nth-child(2)`, "2"),
		waitText(`tr[data-queue=orders-failed] td:nth-child(2)`, "2"),
	)
	b.run(tab, "a queue's messages",
		click(`button[aria-label="Messages of waiting"]`),
		waitText(".messages", `{"job":"a"}`),
		waitText(".messages", `{"job":"b"}`),
	)
	b.run(tab, "a message deleted",
		click(`button[aria-label="Delete message `+jobA+`"]`),
		waitText(`[role=status]`, "Deleted message "+jobA),
		waitJS(`!document.querySelector(".messages").innerText.includes('"job":"a"')`),
		waitText(`tr[data-queue=waiting] td:nth-child(2)`, "1"),
	)
	if got := ids("waiting"); len(got) != 1 || got[`{"job":"b"}`] != jobB {
		t.Errorf("after the delete, waiting holds %v, want only job b", got)
	}
	b.run(tab, "a message retried",
		click(`button[aria-label="Retry message `+jobB+`"]`),
		waitText(`[role=status]`, "delivered again now"),
	)
	d.expect(d.call("GET", "/api/v1/admin/audit?limit=20", ""), 200, `queue.message.retry`, `queue.message.delete`)
	b.run(tab, "the dead letters with their error and origin",
		click(`button[aria-label="Messages of orders-failed"]`),
		waitText("#messages-title", "orders-failed"),
		waitText(".messages", `{"n":1}`),
		waitText(".messages", `{"n":2}`),
		waitText(".messages", "from orders"),
		waitText(".messages", "orders are broken"),
	)
	b.screenshot(tab, "queues")
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+appID+"/kv/cfg/keys/mode", `{"type":"text","value":"ok"}`), 200)
	b.run(tab, "the dead letters redriven",
		click(`button[aria-label="Redrive orders-failed"]`),
		waitText(`[role=status]`, "moved 2 messages"),
	)
	d.await("the redriven orders are consumed", "GET", queues, "", func(r reply) error {
		if r.status != 200 || strings.Contains(r.body, `"orders`) {
			return fmt.Errorf("%d %.500s: orders still queued", r.status, r.body)
		}
		return nil
	})

	// The screen at 375 px, no wider than that.
	phone := b.tab()
	b.run(phone, "phone: the queues screen",
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(d.url+"/admin/apps/"+appID+"/queues"),
		waitText(`tr[data-queue=waiting]`, "waiting"),
		click(`button[aria-label="Messages of waiting"]`),
		waitText(".messages", `{"job":"b"}`),
	)
	if width, err := chromedp.Run(phone, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || width > 375 {
		t.Errorf("the queues screen at 375 px is %d px wide (%v)", width, err)
	}
}
