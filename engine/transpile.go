package engine

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
	"github.com/evanw/esbuild/pkg/api"
)

// MaxSourceBytes is the largest script source Transpile accepts.
const MaxSourceBytes = 1 << 20

// SDKModule is the only module a script may import.
const SDKModule = "picloud"

// Names used in transpiled code and in stack traces.
const (
	sourceNameJS  = "script.js"
	sourceNameTS  = "script.ts"
	generatedName = "script.gen.js"
	// The transpiled module is a function expression; the executor calls
	// it once per execution with an object that receives the handler and
	// the require function imports of the SDK compile to.
	moduleBanner    = "(function (__picloud, require) {"
	moduleFooter    = "})"
	entryName       = "picloud-entry.js"
	entryGlue       = `import * as script from "picloud:script"; __picloud.handler = script.default;`
	scriptNamespace = "picloud-script"
	sourceMapPrefix = "//# sourceMappingURL=data:application/json;base64,"
)

// gojaUnsupported lists syntax features goja lacks, which esbuild lowers.
var gojaUnsupported = map[string]bool{
	"async-generator": false,
	"for-await":       false,
	"decorators":      false,
	"using":           false,
}

// Transpile turns an ES module written in JavaScript or TypeScript into the
// code an executor runs (Invocation.Code): types are stripped, not checked,
// the module becomes a CommonJS-style function, and an inline source map
// keeps runtime positions mapped to the original source. Syntax errors come
// back as *CompileError with 1-based positions in the original source.
// Imports other than "picloud" and the node: modules of node.go are
// refused.
func Transpile(source string, lang Language) (string, error) {
	if len(source) > MaxSourceBytes {
		return "", &CompileError{Message: fmt.Sprintf(
			"script is too large: %d bytes, the limit is %d bytes", len(source), MaxSourceBytes)}
	}
	var loader api.Loader
	var name string
	switch lang {
	case JavaScript:
		loader, name = api.LoaderJS, sourceNameJS
	case TypeScript:
		loader, name = api.LoaderTS, sourceNameTS
	default:
		return "", fmt.Errorf("transpile: unsupported language %q", lang)
	}
	res := api.Build(api.BuildOptions{
		// The entry is glue importing the script as a module: the script's
		// exports are then bound statically and esbuild emits no CommonJS
		// helpers, which would otherwise run at every execution.
		Stdin:          &api.StdinOptions{Contents: entryGlue, Sourcefile: entryName, Loader: api.LoaderJS},
		Bundle:         true,
		Write:          false,
		Outfile:        generatedName,
		AbsWorkingDir:  "/",
		Format:         api.FormatCommonJS,
		Platform:       api.PlatformNeutral,
		Target:         api.ESNext,
		Supported:      gojaUnsupported,
		Sourcemap:      api.SourceMapExternal,
		SourcesContent: api.SourcesContentExclude,
		LegalComments:  api.LegalCommentsNone,
		TsconfigRaw:    "{}",
		LogLevel:       api.LogLevelSilent,
		Banner:         map[string]string{"js": moduleBanner},
		Footer:         map[string]string{"js": moduleFooter},
		Plugins:        []api.Plugin{scriptLoader(source, name, loader)},
	})
	if len(res.Errors) > 0 {
		return "", esbuildError(res.Errors)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w.Text, `Import "default" will always be undefined`) {
			return "", &CompileError{Message: "the script has no default export: " +
				"export default { async fetch(request, env, ctx) { ... } }", Line: 1, Column: 1}
		}
	}
	var code, smap []byte
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".map") {
			smap = f.Contents
		} else {
			code = f.Contents
		}
	}
	if code == nil || smap == nil {
		return "", errors.New("transpile: esbuild produced no output")
	}
	smap, err := shiftSourceMap(smap, map[string]string{scriptNamespace + ":" + name: name})
	if err != nil {
		return "", fmt.Errorf("transpile: source map: %w", err)
	}
	var b strings.Builder
	b.Grow(len(code) + len(sourceMapPrefix) + base64.StdEncoding.EncodedLen(len(smap)) + 1)
	b.Write(code)
	b.WriteString(sourceMapPrefix)
	b.WriteString(base64.StdEncoding.EncodeToString(smap))
	b.WriteByte('\n')
	out := b.String()
	if _, err := compileCode(out); err != nil {
		return "", err
	}
	return out, nil
}

// scriptLoader serves the script to the entry glue and refuses every
// import but the SDK module and the node: modules (see node.go), which
// stay external (require calls).
func scriptLoader(source, name string, loader api.Loader) api.Plugin {
	return api.Plugin{
		Name: "picloud",
		Setup: func(b api.PluginBuild) {
			b.OnResolve(api.OnResolveOptions{Filter: "^picloud:script$"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				if a.Importer != entryName {
					return api.OnResolveResult{}, fmt.Errorf("import of %q is not supported: scripts can only import %q",
						a.Path, SDKModule)
				}
				return api.OnResolveResult{Path: name, Namespace: scriptNamespace}, nil
			})
			b.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: scriptNamespace}, func(api.OnLoadArgs) (api.OnLoadResult, error) {
				return api.OnLoadResult{Contents: &source, Loader: loader}, nil
			})
			b.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
				if _, node := nodeModules[a.Path]; a.Path == SDKModule || node {
					return api.OnResolveResult{Path: a.Path, External: true}, nil
				}
				what := "import of"
				if a.Kind == api.ResolveJSRequireCall {
					what = "require of"
				}
				return api.OnResolveResult{}, fmt.Errorf("%s %q is not supported: scripts can only import %q "+
					"and node:buffer, node:crypto and node:util", what, a.Path, SDKModule)
			})
		},
	}
}

// esbuildError turns esbuild's messages into a CompileError about the first.
func esbuildError(msgs []api.Message) *CompileError {
	m := msgs[0]
	ce := &CompileError{Message: m.Text}
	if len(msgs) > 1 {
		ce.Message += fmt.Sprintf(" (and %d more errors)", len(msgs)-1)
	}
	if loc := m.Location; loc != nil {
		ce.Line = loc.Line
		col := loc.Column
		if col > len(loc.LineText) {
			col = len(loc.LineText)
		}
		ce.Column = utf8.RuneCountInString(loc.LineText[:col]) + 1
	}
	return ce
}

// refuseSourceMapFiles keeps goja from reading source maps from the file
// system: only the inline data: map written by Transpile is used.
var refuseSourceMapFiles = parser.WithSourceMapLoader(func(path string) ([]byte, error) {
	return nil, errors.New("source maps are only read inline")
})

// compileCode compiles transpiled code into a goja program. Positions in
// errors are mapped back to the original source through the inline map.
func compileCode(code string) (*goja.Program, error) {
	prg, _, err := compileAST(code)
	return prg, err
}

// compileAST is compileCode also returning the parsed program.
func compileAST(code string) (*goja.Program, *ast.Program, error) {
	tree, err := parser.ParseFile(nil, generatedName, code, 0, refuseSourceMapFiles)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			return nil, nil, mappedCompileError(code, list[0].Message, list[0].Position.Line, list[0].Position.Column)
		}
		return nil, nil, &CompileError{Message: err.Error()}
	}
	prg, err := goja.CompileAST(tree, true)
	if err != nil {
		var ce *goja.CompilerSyntaxError
		if errors.As(err, &ce) && ce.File != nil {
			// The file carries the inline source map, so the position is
			// already in the original source.
			pos := ce.File.Position(ce.Offset)
			return nil, nil, &CompileError{Message: ce.Message, Line: pos.Line, Column: pos.Column}
		}
		return nil, nil, &CompileError{Message: err.Error()}
	}
	return prg, tree, nil
}

// mappedCompileError maps a position in generated code to the original
// source through the inline source map at the end of code.
func mappedCompileError(code, msg string, line, col int) *CompileError {
	ce := &CompileError{Message: msg}
	if m := inlineSourceMap(code); m != nil {
		if l, c, ok := lookupSourceMap(m, line, col); ok {
			ce.Line, ce.Column = l, c
		}
	}
	return ce
}
