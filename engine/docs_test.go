package engine

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocExamplesCompile keeps the examples of docs/scripts.md and
// docs/sdk.md true: every js and ts block that default-exports a handler
// must transpile, and in docs/sdk.md every block must be such a script.
func TestDocExamplesCompile(t *testing.T) {
	for _, f := range []struct {
		path      string
		min       int
		allScript bool
	}{{"../docs/scripts.md", 4, false}, {"../docs/sdk.md", 8, true}} {
		doc, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		blocks := regexp.MustCompile("(?s)```(js|ts)\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
		if len(blocks) < f.min {
			t.Fatalf("found %d examples in %s", len(blocks), f.path)
		}
		for _, b := range blocks {
			if !strings.Contains(b[2], "export default") {
				if f.allScript {
					t.Errorf("%s: an example is not a whole script:\n%s", f.path, b[2])
				}
				continue
			}
			if _, err := Transpile(b[2], Language(b[1])); err != nil {
				t.Errorf("%s: example does not compile: %v\n%s", f.path, err, b[2])
			}
		}
	}
}
