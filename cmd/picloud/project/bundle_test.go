package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceKeepsNodeImports bundles a script with a local import and an
// import of node:buffer: the local file is bundled, node:buffer is left for
// the engine, which provides it.
func TestSourceKeepsNodeImports(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("util.js", "export const shout = (s) => s.toUpperCase() + '!';\n")
	write("main.js", `import { Buffer } from "node:buffer";
import { kv } from "picloud";
import { shout } from "./util.js";
export default { fetch() { return new Response(shout(Buffer.from("hi").toString("base64")) + typeof kv); } };
`)
	src, err := Source(dir, Script{File: "main.js"})
	if err != nil {
		t.Fatalf("bundle: %v", err)
	}
	for _, want := range []string{`from "node:buffer"`, `from "picloud"`, "toUpperCase"} {
		if !strings.Contains(src, want) {
			t.Errorf("bundle lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(src, "./util.js") {
		t.Errorf("the local import was not bundled:\n%s", src)
	}
}

// TestSourceNamesTheFileAtFault: a missing import is reported at its file
// and line, relative to the project.
func TestSourceNamesTheFileAtFault(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.js"), []byte("\nimport { x } from './missing.js';\nexport default { fetch() { return new Response(x); } };\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Source(dir, Script{File: "main.js"})
	if err == nil || !strings.HasPrefix(err.Error(), "main.js:2:") {
		t.Fatalf("got %v, want an error at main.js:2", err)
	}
}
