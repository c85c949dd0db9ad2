package engine

import (
	"os"
	"regexp"
	"testing"

	"github.com/evanw/esbuild/pkg/api"
)

// The declarations parse, name every global the runtime provides, and the
// copy in docs is the same file.
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
	doc, err := os.ReadFile("../docs/picloud.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != TypeDefinitions {
		t.Error("docs/picloud.d.ts differs from engine/types/picloud.d.ts: copy it over")
	}
}
