package api

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"
)

// catchAlls are routes that exist to answer 404 (or reserve a prefix), not
// endpoints to document.
var catchAlls = map[string]bool{
	"/admin": true, "/admin/*rest": true,
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// TestOpenAPIMatchesRouter keeps docs/openapi.yaml true to the router: every
// endpoint is documented with its methods, and nothing else is.
func TestOpenAPIMatchesRouter(t *testing.T) {
	raw, err := os.ReadFile("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	anyMethod := map[string]bool{}
	for path, item := range doc.Paths {
		for key := range item {
			switch key {
			case "parameters", "summary", "description":
			case "x-any-method":
				anyMethod[path] = true
			default:
				documented[strings.ToUpper(key)+" "+path] = true
			}
		}
	}

	h, err := New(Config{}, Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, r := range h.(*gin.Engine).Routes() {
		if catchAlls[r.Path] {
			continue
		}
		path := ginParam.ReplaceAllString(r.Path, "{$1}")
		if anyMethod[path] && (r.Method == http.MethodConnect || r.Method == http.MethodTrace) {
			continue
		}
		served[r.Method+" "+path] = true
	}
	for _, k := range sorted(served) {
		if !documented[k] {
			t.Errorf("%s is served but not in docs/openapi.yaml", k)
		}
	}
	for _, k := range sorted(documented) {
		if !served[k] {
			t.Errorf("%s is in docs/openapi.yaml but not served", k)
		}
	}
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
