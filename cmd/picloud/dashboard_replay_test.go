//go:build browser

package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDashboardReplay drives capture and replay on a script's pages in
// Chromium against the real daemon: capture turned on through the page
// (checked through the API), public requests kept and opened with their
// headers redacted, then a draft that changes one field of the JSON
// answer replayed from the versions list, reported with exactly that
// change for each request.
func TestDashboardReplay(t *testing.T) {
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	appID := d.appID("default")
	id := d.deploy(appID, "totals", totalsScript(3, ""), "GET", "/totals")
	capture := "/api/v1/admin/scripts/" + id + "/capture"
	anon := &daemon{t: t, url: d.url}
	const public = "pi.example.net" // an unclaimed host: the default app's

	b := newBrowser(t, d)
	tab := b.tab()
	b.logIn(tab, "admin", "s3cret-passw0rd")
	b.run(tab, "the script's capture, off",
		chromedp.Navigate(d.url+"/admin/scripts/"+id),
		clickText("a", "Capture and replay"),
		waitText("h1", "Capture and replay · totals"),
		waitJS(`document.querySelector("[data-capture]")?.dataset.capture === "off"`),
	)
	b.run(tab, "a bad number refused on the page",
		replace(`input[name=capture-max]`, "500"),
		click(`section[aria-labelledby=capture-title] button[type=submit]`),
		waitText(`section[aria-labelledby=capture-title] [role=alert]`, "a whole number from 1 to 200"),
	)
	b.run(tab, "a bad header name refused with the API's reason",
		replace(`input[name=capture-max]`, "5"),
		typeInto(`input[name=capture-redact]`, "bad:name"),
		click(`section[aria-labelledby=capture-title] button[type=submit]`),
		waitText(`section[aria-labelledby=capture-title] [role=alert]`, `"bad:name" is not a header name`),
	)
	d.expect(d.call("GET", capture, ""), 200, `"enabled":false`)
	b.run(tab, "capture turned on",
		replace(`input[name=capture-redact]`, "x-api-key"),
		click(`section[aria-labelledby=capture-title] button[type=submit]`),
		waitText(`section[aria-labelledby=capture-title] [role=status]`, "Capture is on: the last 5 public requests are kept."),
		waitJS(`document.querySelector("[data-capture]")?.dataset.capture === "on"`),
	)
	d.expect(d.call("GET", capture, ""), 200, `"enabled":true`, `"max_requests":5`, `"redact_headers":["X-Api-Key"]`)

	for _, n := range []int{2, 3} {
		anon.expect(anon.call("GET", fmt.Sprintf("/totals?n=%d", n), "", "Host", public, "X-Api-Key", "key-secret", "X-Plain", "kept"),
			200, fmt.Sprintf(`"total":%d`, n*3))
	}
	d.await("both requests captured", "GET", capture+"/requests", "", func(r reply) error {
		if !strings.Contains(r.body, "n=2") || !strings.Contains(r.body, "n=3") {
			return errors.New("not captured yet")
		}
		return nil
	})
	b.run(tab, "the captured requests, one opened",
		click(`section[aria-labelledby=capture-title] .bar button`),
		waitText(".kept", "2 requests kept"),
		clickText(".captured button", "/totals?n=3"),
		waitText(".captured .detail", "X-Api-Key: [redacted]"),
		waitText(".captured .detail", "X-Plain: kept"),
		waitText(".captured .detail", `{"total":9,"items":["a","b"]}`),
	)
	b.noText(tab, "key-secret")

	// A draft that changes one field of the JSON answer.
	r := d.call("PUT", "/api/v1/admin/scripts/"+id, mustJSON(map[string]any{"source": totalsScript(4, ""), "activate": false}))
	d.expect(r, 200, `"active_version":1`, `"latest_version":2`)

	b.run(tab, "the draft's replay page, from the versions list",
		chromedp.Navigate(d.url+"/admin/scripts/"+id),
		waitText(".versions", "v2"),
		click(`a[aria-label="Replay version 2"]`),
		waitText("h1", "Replay of totals v2"),
		clickText("button", "Run the replay"),
		waitText(`section[aria-labelledby=replay-title] [role=status]`, "2 replayed: 0 same, 2 different, 0 failed."),
	)
	// Exactly the one change, for each request, in the order they came.
	got, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".results > li")].map((li) =>
		li.className.split(" ")[0] + " " + li.querySelector(".url").innerText + " " +
		[...li.querySelectorAll(".changes li, .status-change, .headers tbody tr, .diff, .error")].map((e) => e.innerText).join(" | "))`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"different http://" + public + "/totals?n=2 $.total: 6 → 8", "different http://" + public + "/totals?n=3 $.total: 9 → 12"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the replay shows %q, want %q", got, want)
	}
	b.screenshot(tab, "replay")

	// The active version answers the same.
	b.run(tab, "the active version replayed",
		chromedp.Navigate(d.url+"/admin/scripts/"+id+"/versions/1/replay"),
		waitText("h1", "Replay of totals v1"),
		clickText("button", "Run the replay"),
		waitText(`section[aria-labelledby=replay-title] [role=status]`, "2 replayed: 2 same, 0 different, 0 failed."),
		waitJS(`document.querySelectorAll(".results > li.same").length === 2`),
	)

	// An editor of the app, not an owner or admin, may replay but not
	// change capture: the API's 403 turns the form read-only.
	ed := d.call("POST", "/api/v1/admin/users", `{"username":"ed","password":"ed's long password"}`)
	d.expect(ed, 201)
	d.expect(d.call("POST", "/api/v1/admin/users/"+ed.field(t, "id").(string)+"/roles", `{"app_id":"`+appID+`","role":"editor"}`), 204)
	other := newBrowser(t, d).tab()
	b.run(other, "an editor's capture is read-only",
		chromedp.Navigate(d.url+"/admin/login"),
		typeInto(`input[name=username]`, "ed"),
		typeInto(`input[name=password]`, "ed's long password"),
		click(`button[type=submit]`),
		waitText("h1", "Apps"),
		chromedp.Navigate(d.url+"/admin/scripts/"+id+"/capture"),
		waitJS(`document.querySelector("[data-capture]")?.dataset.capture === "on"`),
		clickText("button", "Turn capture off"),
		waitText(`section[aria-labelledby=capture-title] [role=alert]`, "Only owners and admins"),
		waitJS(`document.querySelector("section[aria-labelledby=capture-title] fieldset").disabled`),
	)
	d.expect(d.call("GET", capture, ""), 200, `"enabled":true`, `"captured":2`)

	// The replay page at 375 px, no wider than that.
	phone := b.tab()
	b.run(phone, "phone: the replay page",
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(d.url+"/admin/scripts/"+id+"/versions/2/replay"),
		clickText("button", "Run the replay"),
		waitText(`section[aria-labelledby=replay-title] [role=status]`, "2 different"),
	)
	if width, err := chromedp.Run(phone, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || width > 375 {
		t.Errorf("the replay page at 375 px is %d px wide (%v)", width, err)
	}
}
