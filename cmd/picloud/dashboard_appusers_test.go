//go:build browser

package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// membersJS creates the users it is given (POST {"emails"}), each with a
// session, and says whose session token X-Member-Token holds (GET).
const membersJS = `import { users } from "picloud"
export default async (req) => {
  if (req.method === "POST") {
    const { emails } = await req.json()
    const made = {}
    for (const email of emails) {
      const u = await users.create({ email, password: "a long password" })
      made[email] = { id: u.id, token: (await users.issueSession(u.id, { ttl: 3600 })).token }
    }
    return Response.json(made, { status: 201 })
  }
  const user = await users.fromToken(req.headers.get("x-member-token") ?? "")
  return user ? Response.json({ email: user.email }) : Response.json({ error: "log in" }, { status: 401 })
}`

// TestDashboardAppUsers drives an app's users screen in Chromium against
// the real daemon: the users listed a page at a time, found by email, one
// logged out everywhere, disabled and enabled again, and deleted after
// the confirmation; an editor of the app told plainly that only owners
// and admins manage them. Every change is checked through the API as
// well.
func TestDashboardAppUsers(t *testing.T) {
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	appID := d.appID("default")
	scriptID := d.deploy(appID, "members", membersJS, "GET", "/members")
	emails := []string{"ann@shop.test", "bob@shop.test"}
	for i := range 23 {
		emails = append(emails, fmt.Sprintf("user%02d@shop.test", i))
	}
	made := d.call("POST", "/api/v1/execute/"+scriptID, mustJSON(map[string]any{"emails": emails}))
	d.expect(made, 201)
	var users map[string]struct{ ID, Token string }
	if err := json.Unmarshal([]byte(made.body), &users); err != nil {
		t.Fatalf("%v: %s", err, made.body)
	}
	ann := users["ann@shop.test"]
	me := func() reply {
		return d.call("GET", "/api/v1/execute/"+scriptID, "", "X-Member-Token", ann.Token)
	}
	d.expect(me(), 200, `"email":"ann@shop.test"`)
	list := "/api/v1/admin/apps/" + appID + "/users"

	b := newBrowser(t, d)
	tab := b.tab()
	b.logIn(tab, "admin", "s3cret-passw0rd")
	rows := func(n int) chromedp.Action[chromedp.Void] {
		return waitJS(fmt.Sprintf(`document.querySelectorAll(".app-users tbody tr").length === %d`, n))
	}
	b.run(tab, "the users of the app, a page at a time",
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		click(`main a[href$="/apps/`+appID+`/users"]`),
		waitText("h1", "Users of default"),
		waitText(".app-users", "ann@shop.test"),
		rows(20),
		clickText(`.pages button`, "Next page"),
		waitText(".app-users", "user22@shop.test"),
		rows(5),
		waitJS(`!document.querySelector(".app-users").innerText.includes("ann@shop.test")`),
		clickText(`.pages button`, "Previous page"),
		waitText(".app-users", "ann@shop.test"),
		rows(20),
	)
	b.run(tab, "a user found by email",
		typeInto(`input[name=user-search]`, "ann@"),
		click(`form[role=search] button[type=submit]`),
		rows(1),
		waitText(".app-users", "ann@shop.test"),
		waitText(".app-users", "active"),
	)
	b.run(tab, "logged out everywhere",
		click(`button[aria-label="Log ann@shop.test out everywhere"]`),
		waitText(`[role=status]`, "1 session ended"),
	)
	d.expect(me(), 401)
	b.run(tab, "disabled",
		click(`button[aria-label="Disable ann@shop.test"]`),
		waitText(`[role=status]`, "Disabled ann@shop.test"),
		waitText(".app-users", "disabled"),
	)
	d.expect(d.call("GET", list+"?search=ann@", ""), 200, `"disabled":true`)
	b.run(tab, "enabled again",
		click(`button[aria-label="Enable ann@shop.test"]`),
		waitText(`[role=status]`, "Enabled ann@shop.test"),
		waitText(".app-users", "active"),
	)
	d.expect(d.call("GET", list+"?search=ann@", ""), 200, `"disabled":false`)
	b.screenshot(tab, "app-users")
	b.run(tab, "deleted after the confirmation",
		click(`button[aria-label="Delete ann@shop.test"]`),
		waitText(".app-users .confirm", "Delete ann@shop.test"),
		click(`button[aria-label="Really delete ann@shop.test"]`),
		waitText(`[role=status]`, "Deleted ann@shop.test"),
		waitText("main", "No user's email contains"),
	)
	d.expect(d.call("GET", list+"?search=ann@", ""), 200, `"users":[]`)
	d.expect(d.call("GET", list+"?search=bob@", ""), 200, `"email":"bob@shop.test"`)

	// An editor of the app who is not an owner or admin of the board is
	// told plainly that the screen is not for it.
	ed := d.call("POST", "/api/v1/admin/users", `{"username":"ed","password":"ed's long password"}`)
	d.expect(ed, 201)
	d.expect(d.call("POST", "/api/v1/admin/users/"+ed.field(t, "id").(string)+"/roles", `{"app_id":"`+appID+`","role":"editor"}`), 204)
	other := newBrowser(t, d).tab()
	b.run(other, "an editor is told who manages an app's users",
		chromedp.Navigate(d.url+"/admin/login"),
		typeInto(`input[name=username]`, "ed"),
		typeInto(`input[name=password]`, "ed's long password"),
		click(`button[type=submit]`),
		waitText("h1", "Apps"),
		chromedp.Navigate(d.url+"/admin/apps/"+appID+"/users"),
		waitText(`[role=alert]`, "Only owners and admins manage an app's users"),
	)

	// The screen at 375 px, no wider than that.
	phone := b.tab()
	b.run(phone, "phone: the users screen",
		chromedp.EmulateViewport(375, 800),
		chromedp.Navigate(d.url+"/admin/apps/"+appID+"/users"),
		waitText(".app-users", "bob@shop.test"),
	)
	if width, err := chromedp.Run(phone, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || width > 375 {
		t.Errorf("the users screen at 375 px is %d px wide (%v)", width, err)
	}
	b.screenshot(phone, "app-users-phone")
}
