package main

import (
	"strings"
	"testing"
	"time"
)

// TestTUIData drives the data screen of picloud tui against the real
// daemon: keys a script wrote are browsed, filtered, shown as formatted
// JSON, edited (and the script reads the edit) and deleted, all audited as
// the terminal's.
func TestTUIData(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	d.deploy("", "kv", kvScript, "*", "/kv")
	c := kvClient{d: d}
	c.ok("put", "carts", "cart/1", map[string]any{"items": []any{map[string]any{"sku": "a", "qty": 2}}, "total": 12.5})
	c.ok("put", "carts", "dir/odd key%?#", "odd")
	c.ok("put", "carts", "note", "plain text")
	c.ok("put", "sessions", "s1", "x", map[string]any{"ttl": 3600})

	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("admin (owner)")
	term.waitFor("default")
	term.send("v")
	term.waitFor("sessions")
	term.waitFor("carts")
	term.send(enter)
	term.waitFor("dir/odd key%?#")
	term.waitFor("note")

	// The filter narrows the keys; the cursor is on the one left.
	term.send("/", "c", "a", "r", "t", enter)
	term.waitFor("/cart")
	term.send(enter)
	term.waitFor("type json")
	term.waitFor(`      "qty": 2,`)
	term.waitFor(`  "total": 12.5`)

	// Edit the total: the last line but one of the formatted value.
	term.send("e")
	term.waitFor("key cart/1 of carts (json)")
	term.send("\x1b[A", "\x05", "\x7f", "\x7f", "\x7f", "\x7f", "99", ctrlS)
	term.waitFor("saved key cart/1")
	term.waitFor(`  "total": 99`)
	if got := c.ok("get", "carts", "cart/1", map[string]string{"type": "json"}); got != `{"items":[{"qty":2,"sku":"a"}],"total":99}` {
		t.Errorf("the script reads %s after the edit", got)
	}

	// Delete it, after a yes.
	term.send("d")
	term.waitFor("delete key cart/1?")
	term.send("y")
	term.waitFor("deleted key cart/1")
	if got := c.ok("get", "carts", "cart/1"); got != "null" {
		t.Errorf("the script reads %s after the delete", got)
	}
	term.send(ctrlC)
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("picloud tui did not quit on ctrl+c")
	}

	audit := d.call("GET", "/api/v1/admin/audit?limit=5", "")
	d.expect(audit, 200, `"action":"kv.put"`, `"action":"kv.delete"`, `"target":"cart/1"`, `"channel":"terminal"`)
	if strings.Contains(audit.body, `total`) || strings.Contains(audit.body, `sku`) {
		t.Errorf("the audit log holds the value: %s", audit.body)
	}
}
