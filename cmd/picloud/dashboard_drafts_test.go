//go:build browser

package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// Versions of the script of TestDashboardDrafts, typed on one line.
const (
	draftV1 = `export default () => Response.json({ v: 1 })`
	draftV2 = `export default () => Response.json({ v: 2 })`
)

// TestDashboardDrafts drives drafts on a script's screen in Chromium
// against the real daemon: a draft saved from the editor, marked in the
// versions list, answered by try it when picked (the PiCloud-Version
// header) while the public route keeps the active version's answer, and
// made active.
func TestDashboardDrafts(t *testing.T) {
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	appID := d.appID("default")
	created := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{
		"app_id": appID, "name": "greet", "language": "js", "source": draftV1,
	}))
	d.expect(created, 201)
	scriptID := created.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/scripts/"+scriptID+"/routes", `{"method":"GET","path":"/greet"}`), 201)

	b := newBrowser(t, d)
	tab := b.tab()
	b.logIn(tab, "admin", "s3cret-passw0rd")
	b.run(tab, "save a draft from the editor",
		chromedp.Navigate(d.url+"/admin/scripts/"+scriptID),
		waitText(".cm-content", "v: 1"),
		typeSource(draftV2),
		clickText(`button`, "Save draft"),
		waitText(`[role=status]`, "Saved as draft version 2; version 1 stays active"),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID, ""), 200, `"active_version":1`, `"latest_version":2`)
	d.expect(d.call("GET", "/greet", ""), 200, `"v":1`)

	b.run(tab, "the versions list marks the draft",
		waitJS(`[...document.querySelectorAll(".versions li")].some((li) => li.innerText.includes("v2") && li.querySelector(".badge.draft"))`),
		waitJS(`[...document.querySelectorAll(".versions li")].some((li) => li.innerText.includes("v1") && li.querySelector(".badge.ok") && !li.querySelector(".badge.draft"))`),
		waitJS(`document.querySelector('button[aria-label="Make version 2 active"]') !== null`),
	)
	b.run(tab, "try the draft",
		typeInto(`select[name=try-version]`, "v2"),
		click(`section[aria-labelledby=try-title] button[type=submit]`),
		waitText(`.result`, "(v2)"),
		waitText(`.result pre`, `"v": 2`),
	)
	b.screenshot(tab, "drafts")
	b.run(tab, "try the active version",
		typeInto(`select[name=try-version]`, "active"),
		click(`section[aria-labelledby=try-title] button[type=submit]`),
		waitJS(`document.querySelectorAll(".result").length === 2`),
		waitText(`[aria-label="Answer 1"] pre`, `"v": 1`),
	)
	d.expect(d.call("GET", "/greet", ""), 200, `"v":1`)

	b.run(tab, "make the draft active",
		click(`button[aria-label="Make version 2 active"]`),
		waitText("h1", "v2"),
		waitJS(`!document.querySelector(".versions .badge.draft")`),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID, ""), 200, `"active_version":2`)
	d.expect(d.call("GET", "/greet", ""), 200, `"v":2`)
}
