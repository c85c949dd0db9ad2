package engine

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocExamplesCompile keeps the examples of docs/scripts.md and
// docs/sdk.md true: every js and ts block that default-exports a handler
// must transpile, and in docs/sdk.md every block must be such a script
// and every call of kv and docs must be shown.
func TestDocExamplesCompile(t *testing.T) {
	for _, f := range []struct {
		path      string
		min       int
		allScript bool
	}{{"../docs/scripts.md", 4, false}, {"../docs/sdk.md", 16, true}} {
		doc, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		blocks := regexp.MustCompile("(?s)```(js|ts)\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
		if len(blocks) < f.min {
			t.Fatalf("found %d examples in %s", len(blocks), f.path)
		}
		if f.path == "../docs/sdk.md" {
			checkEveryCallShown(t, blocks)
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

// checkEveryCallShown fails unless every call of the SDK's data modules,
// invoke.later and email.send, appears in an example of docs/sdk.md.
func checkEveryCallShown(t *testing.T, blocks [][]string) {
	t.Helper()
	var all strings.Builder
	for _, b := range blocks {
		all.WriteString(b[2])
	}
	calls := map[string][]string{
		"kv":     {"get", "getWithMetadata", "getMany", "put", "delete", "incr", "list"},
		"docs":   {"insert", "get", "replace", "update", "delete", "find", "count", "ensureIndex"},
		"invoke": {"later"},
		"email":  {"send"},
	}
	for module, names := range calls {
		if !strings.Contains(all.String(), "import { "+module+" } from \"picloud\"") {
			t.Errorf("docs/sdk.md: no example imports %s", module)
		}
		for _, name := range names {
			if !strings.Contains(all.String(), "."+name+"(") {
				t.Errorf("docs/sdk.md: no example calls %s's %s", module, name)
			}
		}
	}
}
