package engine

import (
	"errors"
	"strings"
	"testing"
)

func TestTranspileAccepts(t *testing.T) {
	tests := []struct {
		name string
		lang Language
		src  string
	}{
		{"object with fetch", JavaScript, `export default { fetch(request) { return "hi" } }`},
		{"async fetch", JavaScript, `export default { async fetch(request, env, ctx) { return "hi" } }`},
		{"default function", JavaScript, `export default function (request) { return "hi" }`},
		{"default async arrow", JavaScript, `export default async (request) => "hi"`},
		{"named default function", JavaScript, `export default async function handle() { return 1 }`},
		{"typescript", TypeScript, `
interface Env { TOKEN: string }
type Params = Record<string, string>
enum Color { Red, Green }
export default {
  async fetch(request: Request, env: Env, ctx: { params: Params }): Promise<Response> {
    const c: Color = Color.Green
    return new Response(String(c) + env.TOKEN as string)
  },
} satisfies { fetch: Function }
`},
		{"sdk import", JavaScript, `import { kv } from "picloud"; export default () => typeof kv`},
		{"sdk default import", JavaScript, `import sdk from "picloud"; export default () => typeof sdk`},
		{"async generator lowered", JavaScript, `async function* g() { yield 1 }
export default async () => { const out = []; for await (const x of g()) out.push(x); return out }`},
		{"class fields", TypeScript, `class A { #x = 1; static y = 2; get x() { return this.#x } }
export default () => ({ x: new A().x, y: A.y })`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := Transpile(tt.src, tt.lang)
			if err != nil {
				t.Fatalf("Transpile: %v", err)
			}
			if !strings.HasPrefix(code, moduleBanner) || !strings.Contains(code, sourceMapPrefix) {
				t.Errorf("unexpected code shape:\n%s", code)
			}
		})
	}
}

func TestTranspileErrors(t *testing.T) {
	tests := []struct {
		name      string
		lang      Language
		src       string
		msg       string
		line, col int
	}{
		{"js syntax", JavaScript, "export default {\n  fetch() {\n    return 1 +;\n  }\n}\n", "Unexpected \";\"", 3, 15},
		{"ts syntax", TypeScript, "const a: number = 1\nexport default {\n  fetch(r: Request) {\n    let x: = 2\n  }\n}\n", "Unexpected \"=\"", 4, 12},
		{"unterminated", JavaScript, "export default {\n  fetch() { return 'x }\n}\n", "Unterminated string literal", 2, 24},
		{"import other module", JavaScript, "import fs from \"fs\";\nexport default () => fs", `import of "fs" is not supported`, 1, 16},
		{"relative import", TypeScript, "import { x } from './lib'\nexport default () => x\n", `import of "./lib" is not supported`, 1, 19},
		{"require", JavaScript, "const fs = require('fs')\nexport default () => fs", `require of "fs" is not supported`, 1, 20},
		{"dynamic import", JavaScript, "export default async () => {\n  const m = await import('os')\n  return m\n}", `import of "os" is not supported`, 2, 26},
		{"no default export", JavaScript, "export const fetch = () => 1\n", "no default export", 1, 1},
		{"column after unicode", JavaScript, "const s = \"héllo\"; let let = 1\nexport default () => s", "", 1, 24},
		{"strict mode", JavaScript, "export default function () { with ({}) {} }", "With statements cannot be used", 1, 30},
		{"duplicate declaration", JavaScript, "let a = 1\nlet a = 2\nexport default () => a", `The symbol "a" has already been declared`, 2, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Transpile(tt.src, tt.lang)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("want *CompileError, got %T %v", err, err)
			}
			if !strings.Contains(ce.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", ce.Message, tt.msg)
			}
			if ce.Line != tt.line || ce.Column != tt.col {
				t.Errorf("position %d:%d, want %d:%d (%s)", ce.Line, ce.Column, tt.line, tt.col, ce.Message)
			}
		})
	}
}

func TestTranspileLimits(t *testing.T) {
	big := "export default () => 1\n//" + strings.Repeat("x", MaxSourceBytes)
	_, err := Transpile(big, JavaScript)
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "too large") {
		t.Errorf("oversized source: got %v", err)
	}
	if _, err := Transpile("export default () => 1", Language("py")); err == nil {
		t.Error("unknown language accepted")
	}
}

// TestCompileMapsGojaErrors checks that an error only goja sees (esbuild
// accepts the syntax) is still reported at the original position.
func TestCompileMapsGojaErrors(t *testing.T) {
	code, err := Transpile("export default () => {\n  return 1\n}\n", JavaScript)
	if err != nil {
		t.Fatal(err)
	}
	// Corrupt the generated code after the banner: goja must fail and the
	// position must come back through the source map.
	broken := strings.Replace(code, "return 1", "return 1 +* 2", 1)
	_, err = compileCode(broken)
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("want CompileError, got %v", err)
	}
	if ce.Line != 2 {
		t.Errorf("line %d, want 2 (%s)", ce.Line, ce.Message)
	}
}
