//go:build browser

package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// brokenMailJS fails every message until kv cfg/mode is "ok".
const brokenMailJS = `import { kv } from "picloud"
export default {
  async fetch() { return new Response("mail") },
  async email(message) {
    if ((await kv.collection("cfg").get("mode")) !== "ok") throw new Error("mail is broken")
  },
}`

// TestDashboardEmail drives an app's received email in Chromium against
// the real daemon: a message sent to its SMTP listener fails in a script
// that throws, is seen failed with its error, opened as text, retried
// once the script works and deleted after a confirmation.
func TestDashboardEmail(t *testing.T) {
	smtpAddr := freePort(t)
	d := newDaemon(t, buildBinary(t), "PICLOUD_SMTP_BIND="+smtpAddr, "TEST_EMAIL_RETRY_UNIT_MS=100")
	t.Cleanup(func() { killCluster(t, d.dataDir) })
	d.startAsOwner()
	appID := d.appID("default")
	inbox := "/api/v1/admin/apps/" + appID + "/email/inbox"
	d.expect(d.call("POST", "/api/v1/admin/apps/"+appID+"/domains", `{"pattern":"shop.example"}`), 201)
	mail := d.deploy(appID, "mail", brokenMailJS, "GET", "/mail")
	d.addTrigger(mail, `{"type":"email","address":"orders@shop.example"}`)

	// The body holds markup, which the page must show as text.
	m := dialMail(t, smtpAddr)
	if err := m.send("ann@x.example", []string{"orders@shop.example"}, mailMsg("broken", "<b>bold</b> order")); err != nil {
		t.Fatal(err)
	}
	d.await("the message fails", "GET", inbox+"?state=failed", "", has(`"subject":"broken"`, `mail is broken`))
	var l struct{ Messages []struct{ ID string } }
	d.decode(d.call("GET", inbox, ""), &l)
	if len(l.Messages) != 1 {
		t.Fatalf("the inbox holds %+v", l.Messages)
	}
	id := l.Messages[0].ID

	b := newBrowser(t, d)
	tab := b.tab()
	b.run(tab, "log in",
		chromedp.Navigate(d.url+"/admin/login"),
		typeInto(`input[name=username]`, "admin"),
		typeInto(`input[name=password]`, "s3cret-passw0rd"),
		click(`button[type=submit]`),
		waitText("h1", "Apps"),
	)
	row := `li[data-mail="` + id + `"]`
	b.run(tab, "the received email of the app",
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		click(`main a[href$="/email"]`),
		waitText("h1", "Received email of default"),
		waitText(row, "broken"),
		waitText(row+" .mail-state", "failed"),
		waitText(row, "mail is broken"),
		waitText(row, "ann@x.example"),
	)
	b.run(tab, "a message opened as text",
		click(`button[aria-label="Open message `+id+`"]`),
		waitText("pre.raw", "<b>bold</b> order"),
		waitJS(`document.querySelector("pre.raw b") === null`),
	)
	b.screenshot(tab, "email")
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+appID+"/kv/cfg/keys/mode", `{"type":"text","value":"ok"}`), 200)
	b.run(tab, "a failed message retried",
		click(`button[aria-label="Retry message `+id+`"]`),
		waitText(`[role=status]`, "delivered again now"),
	)
	d.await("the retried message is delivered", "GET", inbox+"/"+id, "", has(`"state":"delivered"`))
	d.expect(d.call("GET", "/api/v1/admin/audit?limit=20", ""), 200, `email.inbox.retry`)
	b.run(tab, "a message deleted after a confirmation",
		chromedp.Reload(),
		waitText(row+" .mail-state", "delivered"),
		click(`button[aria-label="Delete message `+id+`"]`),
		click(`button[aria-label="Really delete message `+id+`"]`),
		waitText(`[role=status]`, "Deleted message "+id),
		waitJS(`document.querySelector('`+row+`') === null`),
	)
	r := d.call("GET", inbox, "")
	d.expect(r, 200)
	if strings.Contains(r.body, id) {
		t.Errorf("after the delete the inbox holds %s", r.body)
	}
}
