package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/picloud/picloud/tui/client"
)

// hit gives the model a key and feeds it what the command it answers with
// brings at once (a prompt's error, a screen to open); API calls, which the
// tests do not make, bring nothing.
func hit(m *Model, k tea.KeyMsg) {
	_, cmd := m.Update(k)
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case errMsg, infoMsg, pushMsg:
		feed(m, msg)
	}
}

// TestAppsCreateRenameDelete makes, renames and deletes apps from the
// apps screen: each asks in the last line, the new name is selected when
// the list comes, and a delete needs the app's name typed.
func TestAppsCreateRenameDelete(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			as := m.stack[0].(*appsScreen)
			feed(m, appsMsg{to{as.id()}, []client.App{defApp, shop}})
			m.Update(press("n"))
			typeText(m, "zine")
			m.Update(press("enter"))
			if v := m.View(); !strings.Contains(v, "its description (may stay empty):") {
				t.Fatalf("after the name, no description asked:\n%s", v)
			}
			typeText(m, "the blog's comments")
			golden(t, m, "apps_new")
			m.Update(press("enter"))
			if as.want != "zine" {
				t.Fatalf("the new app is not awaited: %q", as.want)
			}
			zine := client.App{ID: "a2", Name: "zine", Description: "the blog's comments"}
			feed(m, appsMsg{to{as.id()}, []client.App{defApp, shop, zine}})
			if cur, _ := as.current(); cur.Name != "zine" {
				t.Errorf("after create the cursor is on %s", cur.Name)
			}

			// An empty name creates nothing and says so.
			m.Update(press("n"))
			hit(m, press("enter"))
			hit(m, press("enter"))
			if v := m.View(); !strings.Contains(v, "an app needs a name; nothing was created") {
				t.Errorf("an empty name:\n%s", v)
			}

			// Rename: the prompts start from the name and description.
			m.Update(press("e"))
			if v := as.in.in.Value(); v != "zine" {
				t.Fatalf("the rename prompt holds %q", v)
			}
			m.Update(press("enter"))
			if v := as.in.in.Value(); v != "the blog's comments" {
				t.Fatalf("the description prompt holds %q", v)
			}
			m.Update(press("esc"))

			// Delete: a wrong name deletes nothing.
			m.Update(press("d"))
			golden(t, m, "apps_delete")
			typeText(m, "zin")
			hit(m, press("enter"))
			if v := m.View(); !strings.Contains(v, `the name typed is not "zine"; nothing was deleted`) {
				t.Errorf("a wrong name:\n%s", v)
			}
		})
	}
}

// TestDomains lists an app's domains: a claims one, d gives one up after a
// yes; a viewer of the app is offered neither.
func TestDomains(t *testing.T) {
	for _, size := range sizes {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			m := newTestModel(t, w, h)
			as := m.stack[0].(*appsScreen)
			feed(m, appsMsg{to{as.id()}, []client.App{defApp, shop}})
			m.Update(press("down"))
			hit(m, press("D"))
			ds, ok := m.top().(*domainsScreen)
			if !ok || ds.app.ID != shop.ID {
				t.Fatalf("D opened %T", m.top())
			}
			feed(m, domainsMsg{to{ds.id()}, []client.Domain{
				{ID: "d1", AppID: shop.ID, Pattern: "shop.example.com", CreatedAt: at},
				{ID: "d2", AppID: shop.ID, Pattern: "*.shop.example.com", CreatedAt: at.Add(time.Hour)}}})
			golden(t, m, "domains")
			m.Update(press("d"))
			if v := m.View(); !strings.Contains(v, "give up shop.example.com? Its requests will no longer reach shop") {
				t.Errorf("no question before giving a domain up:\n%s", v)
			}
			m.Update(press("n"))
			m.Update(press("a"))
			if v := m.View(); !strings.Contains(v, "domain to claim:") {
				t.Errorf("a asks for no domain:\n%s", v)
			}

			// A member who views the shop: nothing to change.
			m = newTestModel(t, w, h)
			feed(m, meMsg{client.User{ID: "u2", Username: "bob", Role: "member", AppRoles: map[string]string{shop.ID: "viewer"}}})
			ds = open(m, newDomainsScreen(m.e, shop)).(*domainsScreen)
			feed(m, domainsMsg{to{ds.id()}, []client.Domain{{ID: "d1", AppID: shop.ID, Pattern: "shop.example.com", CreatedAt: at}}})
			m.Update(press("d"))
			m.Update(press("a"))
			if v := m.View(); strings.Contains(v, "give up") || strings.Contains(v, "domain to claim") || strings.Contains(v, "add domain") {
				t.Errorf("a viewer is offered changes:\n%s", v)
			}
		})
	}
}
