//go:build browser

package main

import (
	"fmt"
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
// once the script works and deleted after a confirmation; an email
// trigger added on the script's page (one on a domain the app does not
// hold refused); the app's senders restricted (one outside the board's
// list refused); a docs index made and dropped in the data browser.
func TestDashboardEmail(t *testing.T) {
	d, smtpAddr, _ := mailDaemon(t, "TEST_EMAIL_RETRY_UNIT_MS=100")
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
	b.logIn(tab, "admin", "s3cret-passw0rd")
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

	// More than a page (20): the next one comes with More.
	for i := range 21 {
		if err := m.send("ann@x.example", []string{"orders@shop.example"}, mailMsg(fmt.Sprintf("paged-%02d", i), "order")); err != nil {
			t.Fatal(err)
		}
	}
	d.await("21 messages stored", "GET", inbox+"?limit=100", "", func(r reply) error {
		if n := strings.Count(r.body, `"subject":"paged-`); n != 21 {
			return fmt.Errorf("%d of 21 stored", n)
		}
		return nil
	})
	b.run(tab, "the received email paged",
		chromedp.Reload(),
		waitText(`ul.mails`, "paged-20"),
		waitJS(`document.querySelectorAll("ul.mails li[data-mail]").length === 20`),
		clickText("button", "More"),
		waitText(`ul.mails`, "paged-00"),
		waitJS(`document.querySelectorAll("ul.mails li[data-mail]").length === 21`),
	)

	senders := `section[aria-labelledby=senders-title]`
	b.run(tab, "the app's senders restricted",
		chromedp.Navigate(d.url+"/admin/apps/"+appID),
		waitText(senders, "The app may use all of them"),
		typeInto(`input[name=email-senders]`, "news@other.example"),
		click(senders+` button[type=submit]`),
		waitText(senders+` [role=alert]`, "news@other.example"),
		replace(`input[name=email-senders]`, "news@shop.example"),
		click(senders+` button[type=submit]`),
		waitText(senders, "The app may use only news@shop.example"),
	)
	d.expect(d.call("GET", "/api/v1/admin/apps/"+appID+"/email-senders", ""), 200, `"senders":["news@shop.example"]`)

	triggers := `section[aria-labelledby=triggers-title]`
	b.run(tab, "the script's email trigger listed",
		chromedp.Navigate(d.url+"/admin/scripts/"+mail),
		waitText(triggers+` li[data-trigger=email]`, "mail to orders@shop.example"),
	)
	b.run(tab, "an email trigger on a domain the app does not hold is refused",
		typeInto(`input[name=email-address]`, "news@other.example"),
		click(triggers+` form:has(input[name=email-address]) button[type=submit]`),
		waitText(triggers+` [role=alert]`, "other.example"),
	)
	b.run(tab, "an email trigger added",
		replace(`input[name=email-address]`, "news@shop.example"),
		click(triggers+` form:has(input[name=email-address]) button[type=submit]`),
		waitText(triggers+` [role=status]`, "news@shop.example"),
		waitText(triggers+` .triggers`, "mail to news@shop.example"),
	)
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+mail+"/triggers", ""), 200, `"address":"news@shop.example"`)

	d.expect(d.call("POST", "/api/v1/admin/apps/"+appID+"/docs/orders/documents", `{"doc":{"customer":{"id":7}}}`), 201)
	indexes := "/api/v1/admin/apps/" + appID + "/docs/orders/indexes"
	b.run(tab, "a docs index made",
		chromedp.Navigate(d.url+"/admin/apps/"+appID+"/data"),
		clickText(`[aria-label="Document collections"] button`, "orders"),
		waitText("#indexes-title", "Indexes of orders"),
		waitText(".indexes", "None."),
		typeInto(`input[name=index-paths]`, "customer.id"),
		click(`form:has(input[name=index-paths]) button[type=submit]`),
		waitText(".indexes", "customer.id"),
	)
	var ix struct{ Indexes []struct{ Name string } }
	d.decode(d.call("GET", indexes, ""), &ix)
	if len(ix.Indexes) != 1 {
		t.Fatalf("the indexes of orders are %+v", ix.Indexes)
	}
	b.run(tab, "a docs index dropped",
		click(`button[aria-label="Drop index `+ix.Indexes[0].Name+`"]`),
		waitText(`section[aria-labelledby=docs-title] [role=status]`, "dropped"),
		waitText(".indexes", "None."),
	)
	d.expect(d.call("GET", indexes, ""), 200, `"indexes":[]`)
}
