package engine

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocExamplesCompile keeps the examples of docs/scripts.md true: every
// js and ts block that default-exports a handler must transpile.
func TestDocExamplesCompile(t *testing.T) {
	doc, err := os.ReadFile("../docs/scripts.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(js|ts)\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 4 {
		t.Fatalf("found %d examples in docs/scripts.md", len(blocks))
	}
	for _, b := range blocks {
		if !strings.Contains(b[2], "export default") {
			continue
		}
		if _, err := Transpile(b[2], Language(b[1])); err != nil {
			t.Errorf("example does not compile: %v\n%s", err, b[2])
		}
	}
}
