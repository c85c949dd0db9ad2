package main

import (
	"testing"
)

// TestNodeModulesOnTheDaemon saves, through the admin API, a script that
// imports node:buffer and node:crypto and calls it on its route (and logs
// built-ins, which the execution log shows as Node.js formats them); a script
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
    console.log(new Map([["a", 1]]), new Set([1, 2]), new Uint8Array([7]));
    return new Response(format("%s %s %s", b.toString("base64"), createHash("sha256").update(b).digest("hex").slice(0, 16), typeof b.equals));
  },
};
`
	id := d.deploy("", "node", src, "GET", "/node")
	d.expect(d.call("GET", "/node", ""), 200, "aGVsbG8= 2cf24dba5fb0a30e function")
	// Built-ins are logged as Node.js and Workers log them, not as {}.
	d.await("the console line in the execution log", "GET", "/api/v1/admin/logs?script_id="+id, "",
		has(`Map(1) { 'a' =`, `Set(2) { 1, 2 } Uint8Array(1) [ 7 ]`))

	refused := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{
		"name": "fs", "source": "import { readFileSync } from \"node:fs\";\nexport default { fetch() { return new Response(readFileSync('/etc/passwd')); } };\n",
	}))
	d.expect(refused, 422, "node:fs", "node:buffer")
}
