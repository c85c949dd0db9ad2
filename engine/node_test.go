package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nodeModulesCheck uses node:buffer, node:crypto and node:util as Workers
// scripts do; the answer below is what Node.js 20 prints for it.
const nodeModulesCheck = `
  const b = Buffer.from("héllo")
  const out = [b.length, b.toString("hex"), b.toString("base64"), Buffer.from("aGk=", "base64").toString(), Buffer.from("6869", "hex").toString("utf8"),
    b instanceof Uint8Array, Buffer.isBuffer(b), Buffer.isBuffer(new Uint8Array(1)), b.subarray(1, 3) instanceof Buffer, b.slice(0, 1).toString(),
    Buffer.concat([Buffer.from("a"), Buffer.from("bc")]).toString(), Buffer.alloc(3, "ab").toString(), JSON.stringify(Buffer.from([1, 2])),
    Buffer.byteLength("é"), Buffer.from("abc").equals(Buffer.from("abc")), Buffer.from("hello world").indexOf("world"),
    createHash("sha256").update("abc").digest("hex"), createHmac("sha256", "Jefe").update("what do ya want for nothing?").digest("hex"),
    createHash("md5").update("").digest("base64"), timingSafeEqual(Buffer.from("a"), Buffer.from("a")),
    format("%s=%d", "x", 5, new Map([[1, 2]])), inspect("s"), Buffer.from("€").toString("latin1").length, Buffer.from([0xff]).toString("base64url"),
    Buffer.from("aGk", "base64url").toString(), Buffer.from("ff00", "hex").readUInt16BE(0), Buffer.from("hi", "utf16le").length]
`

const nodeModulesWant = `[6,"68c3a96c6c6f","aMOpbGxv","hi","hi",true,true,false,true,"h","abc","aba","{\"type\":\"Buffer\",\"data\":[1,2]}",2,true,6,` +
	`"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",` +
	`"1B2M2Y8AsgTpgAmY7PhCfg==",true,"x=5 Map(1) { 1 => 2 }","'s'",3,"_w","hi",65280,4]`

const nodeModulesImports = `import { Buffer } from "node:buffer"
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import { format, inspect } from "node:util"
`

// TestNodeModules checks node:buffer, node:crypto and node:util against
// Node.js's own answers, and with -wpt.node (make wpt) against Node.js
// run on the same code.
func TestNodeModules(t *testing.T) {
	got := respBody(t, run(t, nodeModulesImports+"export default () => {"+nodeModulesCheck+"return Response.json(out) }"))
	if got != nodeModulesWant {
		t.Errorf("got  %s\nwant %s", got, nodeModulesWant)
	}
	if *wptNode {
		script := filepath.Join(t.TempDir(), "node.mjs")
		if err := os.WriteFile(script, []byte(nodeModulesImports+nodeModulesCheck+"process.stdout.write(JSON.stringify(out))\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("node", script).Output()
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		if string(out) != nodeModulesWant {
			t.Errorf("Node.js gives %s\nthe test wants %s", out, nodeModulesWant)
		}
	}
	for _, name := range []string{"node:fs", "node:child_process", "fs"} {
		_, err := Transpile(`import x from "`+name+`"; export default () => x`, JavaScript)
		if err == nil || !strings.Contains(err.Error(), "node:buffer, node:crypto and node:util") {
			t.Errorf("import of %s: %v, want it refused with the modules that exist", name, err)
		}
	}
}
