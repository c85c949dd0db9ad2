package engine

import (
	"regexp"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

// The declarations parse and name every global the runtime provides.
func TestTypeDefinitions(t *testing.T) {
	res := api.Transform(TypeDefinitions, api.TransformOptions{Loader: api.LoaderTS})
	for _, m := range res.Errors {
		t.Errorf("picloud.d.ts:%d: %s", m.Location.Line, m.Text)
	}
	for name := range globalFactories {
		re := regexp.MustCompile(`(?m)^declare (class|function|const) ` + regexp.QuoteMeta(name) + `\b`)
		if !re.MatchString(TypeDefinitions) {
			t.Errorf("picloud.d.ts does not declare the global %s", name)
		}
	}
}
