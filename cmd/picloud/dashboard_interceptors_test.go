//go:build browser

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// interceptJS lets every request pass, marking it.
const interceptJS = `export default {
  async intercept(req, env, ctx) { ctx.data.seen = true },
}`

// TestDashboardInterceptors drives an app's interceptors on the app page
// in Chromium against the real daemon: two added in front of one
// pattern and listed in the order they run, a bad pattern refused with
// the API's reason, one deleted. Every change is checked through the API
// as well.
func TestDashboardInterceptors(t *testing.T) {
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	appID := d.appID("default")
	d.deploy(appID, "page", `export default async () => new Response("members")`, "GET", "/members/*rest")
	guard := d.deploy(appID, "guard", interceptJS, "GET", "/guard")
	audit := d.deploy(appID, "audit", interceptJS, "GET", "/audit")
	list := "/api/v1/admin/apps/" + appID + "/interceptors"
	// chain is the scripts of the app's interceptors, in the order they run.
	chain := func() []string {
		var l struct {
			Interceptors []struct {
				ScriptID string `json:"script_id"`
			}
		}
		r := d.call("GET", list, "")
		d.expect(r, 200)
		if err := json.Unmarshal([]byte(r.body), &l); err != nil {
			t.Fatalf("%v: %s", err, r.body)
		}
		var ids []string
		for _, i := range l.Interceptors {
			ids = append(ids, i.ScriptID)
		}
		return ids
	}

	b := newBrowser(t, d)
	tab := b.tab()
	b.logIn(tab, "admin", "s3cret-passw0rd")
	b.run(tab, "the interceptors of the app",
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		click(`a[href$="#interceptors-title"]`),
		waitText(`section[aria-labelledby=interceptors-title]`, "None."),
	)
	b.run(tab, "an interceptor added",
		typeInto(`input[name=interceptor-path]`, "/members/*rest"),
		typeInto(`select[name=interceptor-script]`, "guard"),
		replace(`input[name=interceptor-order]`, "10"),
		click(`section[aria-labelledby=interceptors-title] button[type=submit]`),
		waitText(`section[aria-labelledby=interceptors-title] [role=status]`, "guard now runs in front of /members/*rest"),
		waitText(".interceptors", "guard"),
	)
	d.expect(d.call("GET", list, ""), 200, `"script_id":"`+guard+`"`, `"path":"/members/*rest"`, `"order":10`)
	b.run(tab, "a second one, listed first since it runs first",
		typeInto(`input[name=interceptor-path]`, "/members/*rest"),
		typeInto(`select[name=interceptor-script]`, "audit"),
		replace(`input[name=interceptor-order]`, "-5"),
		click(`section[aria-labelledby=interceptors-title] button[type=submit]`),
		waitJS(`document.querySelectorAll(".interceptors li").length === 2`),
		waitText(".interceptors li:first-child", "audit"),
		waitText(".interceptors li:last-child", "guard"),
	)
	if got, want := strings.Join(chain(), " "), audit+" "+guard; got != want {
		t.Errorf("the interceptors run in the order %s, want %s (audit, guard)", got, want)
	}
	b.run(tab, "a bad pattern refused with the API's reason",
		typeInto(`input[name=interceptor-path]`, "members"),
		click(`section[aria-labelledby=interceptors-title] button[type=submit]`),
		waitText(`section[aria-labelledby=interceptors-title] [role=alert]`, "must start with /"),
		waitJS(`document.querySelectorAll(".interceptors li").length === 2`),
	)
	b.screenshot(tab, "interceptors")
	b.run(tab, "one deleted",
		click(`button[aria-label="Delete interceptor /members/*rest guard"]`),
		waitText(`section[aria-labelledby=interceptors-title] [role=status]`, "guard no longer runs"),
		waitJS(`document.querySelectorAll(".interceptors li").length === 1`),
		waitText(".interceptors", "audit"),
	)
	if got := chain(); fmt.Sprint(got) != fmt.Sprint([]string{audit}) {
		t.Errorf("after the delete the interceptors are %v, want only audit's %s", got, audit)
	}

	// The app page at 375 px, no wider than that.
	phone := b.tab()
	b.run(phone, "phone: the interceptors",
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		waitText(".interceptors", "audit"),
	)
	if width, err := chromedp.Run(phone, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || width > 375 {
		t.Errorf("the app page at 375 px is %d px wide (%v)", width, err)
	}
}
