package main

import (
	"testing"
)

// TestNodeModulesOnTheDaemon saves, through the admin API, a script that
// imports node:buffer and node:crypto and calls it on its route; a script
// importing a node: module the engine does not have is refused when saved (422, like any compile error),
// with a message naming the ones it has.
func TestNodeModulesOnTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()

	src := `import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { format } from "node:util";
export default {
  fetch() {
    const b = Buffer.from("hello");
    return new Response(format("%s %s %s", b.toString("base64"), createHash("sha256").update(b).digest("hex").slice(0, 16), typeof b.equals));
  },
};
`
	d.deploy("", "node", src, "GET", "/node")
	d.expect(d.call("GET", "/node", ""), 200, "aGVsbG8= 2cf24dba5fb0a30e function")

	refused := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{
		"name": "fs", "source": "import { readFileSync } from \"node:fs\";\nexport default { fetch() { return new Response(readFileSync('/etc/passwd')); } };\n",
	}))
	d.expect(refused, 422, "node:fs", "node:buffer")
}
