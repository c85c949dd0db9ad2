package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTUIDocs drives the data screen of picloud tui against the real
// daemon for documents: a document a script inserted is found with the /
// search, shown as formatted JSON, edited (and the script reads the edit)
// and deleted, all audited as the terminal's.
func TestTUIDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	d.deploy("", "docs", docsScript, "*", "/docs")
	c := kvClient{d: d, path: "/docs"}
	hello := decodeInto[inserted](t, c.ok("insert", "posts", map[string]any{"title": "hello", "views": 3}))
	c.ok("insert", "posts", map[string]any{"title": "other", "views": 1})

	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("admin (owner)")
	term.waitFor("default")
	term.send("v")
	term.waitFor("posts")
	term.waitFor("2 documents")
	term.send(enter)
	term.waitFor(`{"title": "other"`)

	// The search goes to the board; the cursor is on what it found.
	term.send("/", "h", "e", "l", "l", "o", enter)
	term.waitFor("/hello")
	term.send(enter)
	term.waitFor(fmt.Sprint("version ", hello.Version))
	term.waitFor(`  "title": "hello",`)
	term.waitFor(`  "views": 3`)

	// Edit the views: the last line but one of the formatted document.
	term.send("e")
	term.waitFor("document " + hello.ID + " of posts (json)")
	term.send("\x1b[A", "\x05", "\x7f", "42", ctrlS)
	term.waitFor("saved document " + hello.ID)
	term.waitFor(`  "views": 42`)
	got := decodeInto[map[string]any](t, c.ok("get", "posts", hello.ID))
	if got["views"] != 42.0 || got["title"] != "hello" {
		t.Errorf("the script reads %v after the edit", got)
	}

	// Delete it, after a yes.
	term.send("d")
	term.waitFor("delete document " + hello.ID + "?")
	term.send("y")
	term.waitFor("deleted document " + hello.ID)
	if got := c.ok("get", "posts", hello.ID); got != "null" {
		t.Errorf("the script reads %s after the delete", got)
	}
	term.send(ctrlC)
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("picloud tui did not quit on ctrl+c")
	}

	audit := d.call("GET", "/api/v1/admin/audit?limit=5", "")
	d.expect(audit, 200, `"action":"docs.replace"`, `"action":"docs.delete"`, `"target":"`+hello.ID+`"`, `"channel":"terminal"`)
	if strings.Contains(audit.body, "hello") {
		t.Errorf("the audit log holds the document: %s", audit.body)
	}
}
