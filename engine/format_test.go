package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"
)

// goja's Runtime.NewTypeError formats its first argument like
// fmt.Sprintf, and go vet does not know it: a message holding data (a URL
// with %2f, a script's string) must be an argument of a literal format,
// never the format itself. This keeps every call in the engine that way.
func TestNewTypeErrorFormatIsLiteral(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	calls := 0
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "NewTypeError" || len(call.Args) == 0 {
				return true
			}
			calls++
			if lit, ok := call.Args[0].(*ast.BasicLit); !ok || lit.Kind != token.STRING {
				t.Errorf("%s: NewTypeError's format is not a string literal", fset.Position(call.Pos()))
			}
			return true
		})
	}
	if calls == 0 {
		t.Fatal("found no NewTypeError call: the check looks in the wrong place")
	}
}
