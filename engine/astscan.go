package engine

import (
	"reflect"

	"github.com/dop251/goja/ast"
)

// hidesArgs reports whether a program can read arguments its handler does
// not declare: a function with a default or rest parameter (both make
// Function.length undercount), or a use of `arguments`. It walks the AST
// once per compiled version.
func hidesArgs(prg *ast.Program) bool {
	return walkAST(reflect.ValueOf(prg))
}

var (
	typeParams = reflect.TypeFor[*ast.ParameterList]()
	typeIdent  = reflect.TypeFor[*ast.Identifier]()
	astPkg     = typeParams.Elem().PkgPath()
)

func walkAST(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return false
		}
		switch v.Type() {
		case typeParams:
			pl := v.Interface().(*ast.ParameterList)
			if pl.Rest != nil {
				return true
			}
			for _, b := range pl.List {
				if b.Initializer != nil {
					return true
				}
			}
		case typeIdent:
			if v.Interface().(*ast.Identifier).Name == "arguments" {
				return true
			}
		}
		return walkAST(v.Elem())
	case reflect.Struct:
		if v.Type().PkgPath() != astPkg {
			return false // file positions, source maps...
		}
		for i := 0; i < v.NumField(); i++ {
			if walkAST(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if walkAST(v.Index(i)) {
				return true
			}
		}
	}
	return false
}
