//go:build browser

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Scripts typed into the editor, on one line each: the editor closes
// brackets and quotes as they are typed, and types over them after.
const (
	brokenTS = `export default async (req: Request) => { return new Response("v2" }`
	fixedTS  = `export default async (req: Request) => { const path = new URL(req.url).pathname; console.log("served", path); return Response.json({ version: 2, path }) }`
	tab2TS   = `export default () => Response.json({ from: "tab two" })`
	tab1TS   = `export default () => Response.json({ from: "tab one" })`
)

// TestDashboard drives the dashboard in Chromium against the real daemon,
// as a user would: first start with the setup token, an app, a script
// written with a compile error and fixed, a route, a request from the
// panel, the execution in the live logs, a rollback, and two tabs saving
// the same script (the second gets the conflict, not an overwrite); then
// the same screens at 375 px. Every request must stay on the daemon, and
// the pages may log no error and violate no Content-Security-Policy.
func TestDashboard(t *testing.T) {
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.start()
	raw, err := os.ReadFile(filepath.Join(d.dataDir, "setup-token"))
	if err != nil {
		t.Fatalf("setup token file: %v", err)
	}
	token := strings.TrimSpace(string(raw))
	b := newBrowser(t, d)
	tab := b.tab()

	// A deep link before anyone exists leads to the first-start form.
	b.run(tab, "first start",
		chromedp.Navigate(d.url+"/admin/apps"),
		waitText("h1", "First start"),
	)
	b.screenshot(tab, "first-start")
	b.run(tab, "set up the owner",
		typeInto(`input[name=token]`, token),
		typeInto(`input[name=username]`, "owner"),
		typeInto(`input[name=password]`, "a long owner password"),
		click(`button[type=submit]`),
		waitText("h1", "Apps"),
		waitText(".apps", "default"),
	)
	d.expect(d.call("GET", "/api/v1/admin/setup", ""), 200, `"needed":false`)
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"owner","password":"a long owner password"}`)
	d.expect(login, 200)
	d.token = login.field(t, "token").(string)

	b.run(tab, "create and rename an app",
		typeInto(`input[name=app-name]`, "shopp"),
		click(`form.card button[type=submit]`),
		waitText(".apps", "shopp"),
		click(`button[aria-label="Rename shopp"]`),
		replace(`input[name=rename]`, "shop"),
		click(`.apps form button[type=submit]`),
		waitText(".apps a", "shop"),
	)
	b.screenshot(tab, "apps")
	appID := d.appID("shop")

	b.run(tab, "create a TypeScript script",
		click(`.apps a[href$="`+appID+`"]`),
		waitText("h1", "shop"),
		typeInto(`input[name=script-name]`, "hello"),
		click(`form.card button[type=submit]`),
		waitText("h1", "hello"),
		waitText(".cm-content", ""),
	)
	scriptID := d.scriptID(appID, "hello")

	b.run(tab, "a compile error is shown at its line",
		typeSource(brokenTS),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		waitText(`[role=alert]`, "Line 1"),
		waitText(".cm-lintRange-error", ""),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID, ""), 200, `"latest_version":1`)
	b.run(tab, "fix and save with ctrl+s; the editor stays the same one",
		waitJS(`(window.editorBefore = document.querySelector(".editor").shadowRoot.querySelector(".cm-editor")) !== null`),
		typeSource(fixedTS),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		waitText(`[role=status]`, "Saved as version 2"),
		waitJS(`document.querySelector(".editor").shadowRoot.querySelector(".cm-editor") === window.editorBefore`),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID, ""), 200, `"latest_version":2`, `version: 2`)

	b.run(tab, "bind a route, and see the conflict check refuse the same again",
		replace(`input[name=route-path]`, "/hello"),
		click(`button[type=submit]:not(.primary)`),
		waitText(".routes", "GET /hello"),
		click(`button[type=submit]:not(.primary)`),
		waitText(`[role=alert]`, "would clash"),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID+"/routes", ""), 200, `"path":"/hello"`)

	b.run(tab, "try it",
		replace(`input[name=try-path]`, "/from-the-panel"),
		click(`section[aria-labelledby=try-title] button[type=submit]`),
		waitText(`.result`, "200"),
		waitText(`.result pre`, `"version": 2`),
		waitText(`.result pre`, `"path": "/api/v1/execute/`+scriptID+`/from-the-panel"`),
	)
	b.screenshot(tab, "editor")

	b.run(tab, "live logs",
		click(`nav a[href$="/logs"]`),
		waitText("h1", "live"),
	)
	d.expect(d.call("GET", "/api/v1/execute/"+scriptID+"/while-watching", ""), 200, `"version":2`)
	b.run(tab, "the execution arrives and opens",
		waitText(".logs", "/while-watching"),
		clickText(`.logs button`, "/while-watching"),
		waitText(".execution", `[info] served /api/v1/execute/`+scriptID+`/while-watching`),
	)
	b.screenshot(tab, "logs")

	b.run(tab, "roll back to version 1",
		chromedp.Navigate(d.url+"/admin/scripts/"+scriptID),
		waitText(".cm-content", ""),
		waitText(".result", "/from-the-panel"), // try it's answers are kept
		click(`button[aria-label="Roll back to version 1"]`),
		waitText("h1", "v1"),
		waitText(".cm-content", "hello"),
	)
	b.run(tab, "compare version 2 with the editor",
		click(`button[aria-label="Show version 2"]`),
		click(`input[name=compare]`),
		waitText(`[aria-label="Difference between version 2 and the editor"]`, "− "+fixedTS),
		waitText(`[aria-label="Difference between version 2 and the editor"]`, `+   return Response.json({ hello: "world" })`),
	)
	d.expect(d.call("GET", "/api/v1/execute/"+scriptID, ""), 200, `"hello":"world"`)

	b.run(tab, "limits: over the ceiling refused, then set",
		typeInto(`input[name=limit-wall_time_ms]`, "999999"),
		click(`section[aria-labelledby=limits-title] button[type=submit]`),
		waitText(`section[aria-labelledby=limits-title] [role=alert]`, "PICLOUD_SANDBOX_MAX_WALL_TIME_MS"),
		replace(`input[name=limit-wall_time_ms]`, "2000"),
		click(`section[aria-labelledby=limits-title] button[type=submit]`),
		waitText(`section[aria-labelledby=limits-title] [role=status]`, "Limits saved"),
		waitText(`section[aria-labelledby=limits-title]`, "applies 2000"),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID+"/limits", ""), 200, `"limits":{"wall_time_ms":2000}`)

	// Two tabs edit the same script from version 2: the first save wins,
	// the second is refused and shows the difference.
	other := b.tab()
	b.run(other, "open the script in a second tab",
		chromedp.Navigate(d.url+"/admin/scripts/"+scriptID),
		waitText(".cm-content", ""),
		typeSource(tab2TS),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		waitText(`[role=status]`, "Saved as version 3"),
	)
	b.run(tab, "the first tab's save gets the conflict",
		typeSource(tab1TS),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		waitText(".conflict h2", "Version 3 was saved while you edited"),
		waitText(".conflict .diff", `+ `+tab1TS),
		waitText(".conflict .diff", `− `+tab2TS),
	)
	b.screenshot(tab, "conflict")
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID, ""), 200, `"latest_version":3`, "tab two")
	b.run(tab, "overwrite knowingly",
		click(`.conflict button.primary`),
		waitText(`[role=status]`, "Saved as version 4"),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID, ""), 200, `"latest_version":4`, "tab one")

	b.run(tab, "variables and a write-only secret",
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		waitText(".scripts", "hello"),
		// The chart of recent requests: the three runs so far, none failed.
		waitJS(`document.querySelectorAll(".scripts svg.spark rect").length === 3 &&
			document.querySelector(".scripts svg.spark").getAttribute("aria-label") === "3 recent requests, 0 failed"`),
		typeInto(`input[name=var-name]`, "GREETING"),
		typeInto(`input[name=var-value]`, "hi there"),
		click(`section[aria-labelledby=vars-title] button[type=submit]`),
		waitText(".vars", "GREETING"),
		waitText(".vars", "hi there"),
		typeInto(`input[name=var-name]`, "API_KEY"),
		click(`input[name=var-secret]`),
		typeInto(`input[name=var-value]`, "s3cr3t-value"),
		click(`section[aria-labelledby=vars-title] button[type=submit]`),
		waitText(".vars", "API_KEY"),
		waitText(".vars", "secret"),
	)
	b.noText(tab, "s3cr3t-value")
	d.expect(d.call("GET", "/api/v1/admin/apps/"+appID+"/variables/API_KEY", ""), 200, `"secret":true`)

	b.run(tab, "claim a domain, and be refused an admin host name",
		typeInto(`input[name=domain]`, "shop.example.com"),
		click(`section[aria-labelledby=domains-title] button[type=submit]`),
		waitText(".domains", "shop.example.com"),
		typeInto(`input[name=domain]`, "localhost"),
		click(`section[aria-labelledby=domains-title] button[type=submit]`),
		waitText(`section[aria-labelledby=domains-title] [role=alert]`, "localhost"),
		typeInto(`input[name=match-host]`, "shop.example.com"),
		replace(`input[name=match-path]`, "/hello"),
		click(`section[aria-labelledby=match-title] button[type=submit]`),
		waitText(".match", "hello v4"),
	)
	b.screenshot(tab, "app")

	b.run(tab, "the fallback setting",
		chromedp.Navigate(d.url+"/admin/apps"),
		waitText(".fallback", "default app answers"),
		click(`input[name=fallback]`),
	)
	d.await("the fallback is off", "GET", "/api/v1/admin/settings", "", has(`"default_app_fallback":false`))
	b.run(tab, "the fallback back on", click(`input[name=fallback]`))
	d.await("the fallback is on", "GET", "/api/v1/admin/settings", "", has(`"default_app_fallback":true`))

	b.run(tab, "an API token, shown once",
		click(`nav a[href$="/account"]`),
		waitText("h1", "Account"),
		typeInto(`input[name=token-name]`, "ci"),
		clickText(`fieldset label`, "shop"),
		click(`section[aria-labelledby=tokens-title] button.primary`),
		waitText(".new-token", "pca_"),
		waitText(".tokens", "ci"),
	)
	apiToken, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(".new-token")))
	if err != nil {
		t.Fatal(err)
	}
	own := d.token
	d.token = strings.TrimSpace(apiToken)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+scriptID, ""), 200, `"name":"hello"`)
	d.token = own
	key := authorizedKey(newSigner(t))
	b.run(tab, "the token is not shown again; an SSH key",
		chromedp.Reload(),
		waitText(".tokens", "ci"),
		typeInto(`textarea[name=public-key]`, key),
		click(`section[aria-label="Your SSH keys"] button[type=submit]`),
		waitText(".keys", "SHA256:"),
	)
	b.noText(tab, strings.TrimSpace(apiToken))
	b.screenshot(tab, "account")

	b.run(tab, "a user with a role in the app",
		click(`nav a[href$="/users"]`),
		waitText("h1", "Users"),
		typeInto(`input[name=new-username]`, "mia"),
		typeInto(`input[name=new-user-password]`, "mia's long password"),
		click(`form.card button.primary`),
		waitText(".users", "mia"),
		typeInto(`li[data-user=mia] select[name=grant-app]`, "shop"),
		click(`li[data-user=mia] form button[type=submit]`),
		waitText("li[data-user=mia] .roles", "shop: viewer"),
	)
	d.expect(d.call("GET", "/api/v1/admin/users", ""), 200, `"username":"mia"`, `"viewer"`)

	b.run(tab, "the audit log",
		click(`nav a[href$="/audit"]`),
		waitText(".audit", "user.create"),
		waitText(".audit", "script.update"),
	)
	b.screenshot(tab, "audit")
	b.run(tab, "the system screen",
		click(`nav a[href$="/system"]`),
		waitText(".workers", "0"),
		waitText("section[aria-labelledby=daemon-title]", "Uptime"),
	)
	// No picture of it for the docs: it shows the test's data directory.

	// The phone pass: the same screens at 375 px, none wider than that.
	phone := b.tab()
	for _, p := range []struct{ path, sel, want, shot string }{
		{"/admin/apps", ".apps", "shop", "apps-phone"},
		{"/admin/apps/" + appID, ".scripts", "hello", "app-phone"},
		{"/admin/scripts/" + scriptID, "h1", "hello", "editor-phone"},
		{"/admin/logs", ".logs", "/while-watching", "logs-phone"},
		{"/admin/account", ".tokens", "ci", "account-phone"},
		{"/admin/users", ".users", "mia", "users-phone"},
		{"/admin/audit", ".audit", "user.create", "audit-phone"},
		{"/admin/system", ".workers", "0", ""},
	} {
		b.run(phone, "phone: "+p.path,
			chromedp.EmulateViewport(375, 800),
			chromedp.Navigate(d.url+p.path),
			waitText(p.sel, p.want),
		)
		width, err := chromedp.Run(phone, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil || width > 375 {
			wide, _ := chromedp.Run(phone, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")]
				.filter((e) => e.getBoundingClientRect().right > 376 && !e.parentElement.closest(".scroll")).slice(0, 5)
				.map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
			t.Errorf("%s at 375 px: the page is %d px wide (%v); past the edge: %q", p.path, width, err, wide)
		}
		if p.shot != "" {
			b.screenshot(phone, p.shot)
		}
	}

	// Load times and sizes: one round checks the budget; for the docs,
	// several, whose medians go into docs/performance.md.
	docs := os.Getenv("DASHBOARD_DOCS_DIR")
	rounds := 1
	if docs != "" {
		rounds = 7
	}
	figures := b.measureLoads(d.url, scriptID, rounds)
	t.Logf("dashboard loads:\n%s", figures)
	if docs != "" {
		err := writeSection(filepath.Join(docs, "performance.md"), "<!-- dashboard-figures:begin -->", "<!-- dashboard-figures:end -->", figures)
		if err != nil {
			t.Fatal(err)
		}
	}
}

// replace replaces the text of the input of sel by typing text.
func replace(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		click(sel),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace),
		typeInto(sel, text),
	)
}

// typeSource replaces the text of the page's editor by typing src.
func typeSource(src string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		click(".editor"),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(src),
		waitText(".cm-content", src),
	)
}

// appID is the id of the app of that name.
func (d *daemon) appID(name string) string {
	d.t.Helper()
	var list struct{ Apps []struct{ ID, Name string } }
	d.decode(d.call("GET", "/api/v1/admin/apps", ""), &list)
	for _, a := range list.Apps {
		if a.Name == name {
			return a.ID
		}
	}
	d.t.Fatalf("no app %q in %+v", name, list.Apps)
	return ""
}

// scriptID is the id of the script of that name in the app.
func (d *daemon) scriptID(appID, name string) string {
	d.t.Helper()
	var list struct{ Scripts []struct{ ID, Name string } }
	d.decode(d.call("GET", "/api/v1/admin/scripts?app_id="+appID, ""), &list)
	for _, s := range list.Scripts {
		if s.Name == name {
			return s.ID
		}
	}
	d.t.Fatalf("no script %q in %+v", name, list.Scripts)
	return ""
}

// decode reads a 200 reply's JSON into v.
func (d *daemon) decode(r reply, v any) {
	d.t.Helper()
	d.expect(r, 200)
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		d.t.Fatalf("%v: %s", err, r.body)
	}
}
