//go:build browser

package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/picloud/picloud/appliance/testkit"
)

// tickJS answers requests (fails when asked to) and logs each scheduled
// run.
const tickJS = `export default {
  async fetch(req) {
    if (new URL(req.url).searchParams.has("fail")) throw new Error("asked to fail")
    return new Response("ok")
  },
  async scheduled(controller) { console.log("tick", controller.cron) },
}`

// TestDashboardData drives the data browser and the cron triggers in
// Chromium against the real daemon: a kv value put and seen, then
// deleted; a document edited; the storage used shown against the quota;
// a cron trigger added, run now (its run reaches the execution log) and
// deleted. Every change is checked through the API as well.
func TestDashboardData(t *testing.T) {
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	appID := d.appID("default")
	scriptID := d.deploy(appID, "tick", tickJS, "GET", "/tick")
	kv := "/api/v1/admin/apps/" + appID + "/kv/settings/keys/"
	d.expect(d.call("PUT", kv+"theme", `{"type":"text","value":"dark"}`), 200)
	created := d.call("POST", "/api/v1/admin/apps/"+appID+"/docs/posts/documents", `{"doc":{"title":"draft"}}`)
	d.expect(created, 201)
	docID := created.field(t, "id").(string)

	b := newBrowser(t, d)
	tab := b.tab()
	b.logIn(tab, "admin", "s3cret-passw0rd")

	b.run(tab, "the data of the app",
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		click(`a[href$="/data"]`),
		waitText("h1", "Data of default"),
		waitText(".usage", "Storage:"),
		waitJS(`document.querySelector(".usage meter").value > 0`),
		waitText(`[aria-label="kv collections"]`, "settings"),
	)
	b.run(tab, "a kv value put and seen",
		clickText(`[aria-label="kv collections"] button`, "settings"),
		waitText(".kv-keys", "theme"),
		replace(`input[name=kv-new-collection]`, "settings"),
		typeInto(`input[name=kv-new-key]`, "greeting/en"),
		typeInto(`textarea[name=kv-new-value]`, `{"hello": "board"}`),
		click(`.kv-new button[type=submit]`),
		waitText(`section[aria-labelledby=kv-title] [role=status]`, "Saved greeting/en"),
		waitText(".kv-keys", "greeting/en"),
		waitText(".kv-entry h3", "greeting/en"),
		waitJS(`document.querySelector("textarea[name=kv-value]").value.includes('"hello": "board"')`),
	)
	d.expect(d.call("GET", kv+"greeting%2Fen", ""), 200, `"type":"json"`, `"value":{"hello":"board"}`)
	b.run(tab, "a kv value opened and deleted",
		clickText(`.kv-keys button`, "theme"),
		waitText(".kv-entry h3", "theme"),
		waitJS(`document.querySelector("textarea[name=kv-value]").value === "dark"`),
		click(`button[aria-label="Delete key theme"]`),
		waitText(`section[aria-labelledby=kv-title] [role=status]`, "Deleted theme"),
		waitJS(`!document.querySelector(".kv-keys").innerText.includes("theme")`),
	)
	d.expect(d.call("GET", kv+"theme", ""), 404)

	b.run(tab, "the documents of a collection",
		clickText(`[aria-label="Document collections"] button`, "posts"),
		waitText(".docs", "draft"),
	)
	b.run(tab, "a document opened",
		clickText(`.docs button`, docID),
		waitText(".doc h3", docID),
	)
	b.run(tab, "the document edited and saved",
		replace(`textarea[name=doc-json]`, `{"title": "published", "tags": ["news"]}`),
		click(`.doc button.primary`),
		waitText(`section[aria-labelledby=docs-title] [role=status]`, "Saved as version"),
		waitText(".docs", "published"),
	)
	d.expect(d.call("GET", "/api/v1/admin/apps/"+appID+"/docs/posts/documents/"+docID, ""), 200,
		`"title":"published"`, `"tags":["news"]`)
	b.screenshot(tab, "data")
	b.run(tab, "a document that is not an object is refused",
		replace(`textarea[name=doc-json]`, `[1, 2]`),
		click(`.doc button.primary`),
		waitText(`section[aria-labelledby=docs-title] [role=alert]`, "JSON object"),
	)
	d.expect(d.call("GET", "/api/v1/admin/apps/"+appID+"/docs/posts/documents/"+docID, ""), 200, `"title":"published"`)

	b.run(tab, "a cron trigger added",
		chromedp.Navigate(d.url+"/admin/scripts/"+scriptID),
		waitText("h1", "tick"),
		typeInto(`input[name=cron-schedule]`, "0 3 * * *"),
		replace(`input[name=cron-timezone]`, "Europe/Berlin"),
		click(`section[aria-labelledby=triggers-title] button[type=submit]`),
		waitText(".triggers", "0 3 * * *"),
		waitText(".triggers", "Europe/Berlin"),
		waitText(".triggers", "next "),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID+"/triggers", ""), 200,
		`"schedule":"0 3 * * *"`, `"timezone":"Europe/Berlin"`)
	b.run(tab, "an unknown time zone is refused",
		typeInto(`input[name=cron-schedule]`, "*/5 * * * *"),
		replace(`input[name=cron-timezone]`, "Mars/Olympus"),
		click(`section[aria-labelledby=triggers-title] button[type=submit]`),
		waitText(`section[aria-labelledby=triggers-title] [role=alert]`, "Mars/Olympus"),
	)
	b.run(tab, "run now",
		click(`button[aria-label="Run 0 3 * * * now"]`),
		waitText(`section[aria-labelledby=triggers-title] [role=status]`, "queued"),
	)
	d.await("the run now reaches the execution log", "GET", "/api/v1/admin/logs?script_id="+scriptID, "",
		has(`"path":"0 3 * * *"`, `"status":204`))
	b.screenshot(tab, "triggers")
	b.run(tab, "the trigger deleted",
		click(`button[aria-label="Delete trigger 0 3 * * *"]`),
		waitJS(`document.querySelector(".triggers").innerText.includes("None.")`),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID+"/triggers", ""), 200, `"triggers":[]`)

	// The rollups: the run now, a request and a failed one make three
	// requests and one error, once their minutes are over and written.
	d.expect(d.call("GET", "/api/v1/execute/"+scriptID, ""), 200)
	d.expect(d.call("GET", "/api/v1/execute/"+scriptID+"?fail=1", ""), 500)
	testkit.Eventually(t, 3*time.Minute, "the rollups count three requests and one error", func() error {
		var m struct{ Rollups []struct{ Count, Errors int } }
		d.decode(d.call("GET", "/api/v1/admin/metrics?script_id="+scriptID+"&since=1h", ""), &m)
		count, errors := 0, 0
		for _, r := range m.Rollups {
			count, errors = count+r.Count, errors+r.Errors
		}
		if count != 3 || errors != 1 {
			return fmt.Errorf("%d requests, %d errors", count, errors)
		}
		return nil
	})
	b.run(tab, "the last hour's chart of the script",
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		waitJS(`document.querySelector(".scripts svg.rollup")?.getAttribute("aria-label") === "3 requests, 1 error in the last 60 minutes"`),
	)
	b.run(tab, "the system's chart of requests",
		click(`nav a[href$="/system"]`),
		waitJS(`document.querySelector("[aria-labelledby=requests-title] svg.rollup")?.getAttribute("aria-label") === "3 requests, 1 error in the last 60 minutes"`),
	)

	// The data screen at 375 px, no wider than that.
	phone := b.tab()
	b.run(phone, "phone: the data screen",
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(d.url+"/admin/apps/"+appID+"/data"),
		waitText(`[aria-label="kv collections"]`, "settings"),
		clickText(`[aria-label="kv collections"] button`, "settings"),
		waitText(".kv-keys", "greeting/en"),
		clickText(`[aria-label="Document collections"] button`, "posts"),
		waitText(".docs", "published"),
	)
	if width, err := chromedp.Run(phone, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || width > 375 {
		t.Errorf("the data screen at 375 px is %d px wide (%v)", width, err)
	}
	b.screenshot(phone, "data-phone")
}
