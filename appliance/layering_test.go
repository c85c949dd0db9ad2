package appliance

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/picloud/picloud"

// layerRules says, per package prefix, which imports are forbidden. The
// longest matching prefix wins. Dependencies point one way: the engine and
// the store know nothing of HTTP, the API nothing of PostgreSQL, and only the
// composition root (appliance) and cmd know everything.
var layerRules = []struct {
	prefix    string
	forbidden []string
}{
	{module + "/engine", []string{module + "/api", module + "/appliance", module + "/tui", module + "/cmd", module + "/migrations", "net/http", "github.com/gin-gonic/", "github.com/jackc/"}},
	// The engine's one HTTP client: scripts' fetch and its policy.
	{module + "/engine/egress", []string{module + "/", "github.com/gin-gonic/", "github.com/jackc/"}},
	{module + "/api/model", []string{module + "/"}},
	{module + "/api/routing", []string{module + "/", "net/http", "github.com/gin-gonic/"}},
	// The dashboard's files and their headers: plain net/http.
	{module + "/api/dashboard", []string{module + "/", "github.com/gin-gonic/"}},
	{module + "/api/hosts", []string{module + "/", "net/http", "github.com/gin-gonic/"}},
	{module + "/api/access", []string{module + "/api/manager", module + "/api/orchestrator", "net/http", "github.com/gin-gonic/", "github.com/jackc/"}},
	{module + "/api/auth", []string{module + "/", "net/http", "github.com/gin-gonic/", "github.com/jackc/"}},
	{module + "/api/secrets", []string{module + "/", "net/http", "github.com/gin-gonic/", "github.com/jackc/"}},
	// Email trace fields, for the SMTP listener and the data service alike.
	{module + "/api/mailtrace", []string{module + "/", "net/http", "github.com/gin-gonic/", "github.com/jackc/"}},
	{module + "/api", []string{module + "/appliance", module + "/migrations", module + "/tui", module + "/cmd", "github.com/jackc/"}},
	// The metrics read the data service through the composition root.
	{module + "/api/metrics", []string{module + "/api/data", module + "/appliance", module + "/migrations", module + "/tui", module + "/cmd", "github.com/jackc/"}},
	{module + "/appliance/store", []string{module + "/api/manager", module + "/api/orchestrator", module + "/engine", "net/http", "github.com/gin-gonic/"}},
	// The SMTP listener stores what it receives and knows nothing of
	// scripts or HTTP.
	{module + "/appliance/smtpin", []string{module + "/api/manager", module + "/api/orchestrator", module + "/api/data", module + "/engine", "net/http", "github.com/gin-gonic/", "github.com/jackc/"}},
	{module + "/appliance/pgcluster", []string{module + "/api", module + "/engine", "net/http", "github.com/gin-gonic/"}},
	{module + "/migrations", []string{module + "/api", module + "/engine", module + "/appliance", "net/http"}},
	{module + "/tui", []string{module + "/appliance", module + "/engine", "github.com/jackc/"}},
	// What makes data safe to draw: for every layer, so it needs none.
	{module + "/tui/safetext", []string{module + "/"}},
	// Test helpers for the tests of every layer, so they need none.
	{module + "/appliance/testkit", []string{module + "/"}},
}

// testOnly are packages for tests: no package's non-test code imports them.
var testOnly = []string{module + "/appliance/testkit"}

type goPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		best := -1
		for i, r := range layerRules {
			if (p.ImportPath == r.prefix || strings.HasPrefix(p.ImportPath, r.prefix+"/")) &&
				(best < 0 || len(r.prefix) > len(layerRules[best].prefix)) {
				best = i
			}
		}
		if best < 0 {
			continue
		}
		for _, imp := range p.Imports {
			for _, f := range layerRules[best].forbidden {
				if imp == strings.TrimSuffix(f, "/") || strings.HasPrefix(imp, f) || strings.HasPrefix(imp, f+"/") {
					t.Errorf("%s imports %s, which its layer may not", p.ImportPath, imp)
				}
			}
		}
	}
}

// TestTestHelpersStayInTests checks that only tests import the test helpers.
func TestTestHelpersStayInTests(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			for _, f := range testOnly {
				if imp == f {
					t.Errorf("%s imports %s, which is for tests only", p.ImportPath, imp)
				}
			}
		}
	}
}

// TestProcessStateStaysAtTheRoot checks that only cmd and appliance touch
// process state: environment, signals, exit and standard output.
func TestProcessStateStaysAtTheRoot(t *testing.T) {
	touch := regexp.MustCompile(`\bos\.(Exit|Getenv|LookupEnv|Setenv|Environ|Stdout|Stdin)\b|"os/signal"`)
	for _, p := range listPackages(t) {
		// Programs (cmd, and the build tools under packaging) own their process.
		if strings.HasPrefix(p.ImportPath, module+"/cmd") || strings.HasPrefix(p.ImportPath, module+"/appliance") ||
			strings.HasPrefix(p.ImportPath, module+"/packaging/cmd/") {
			continue
		}
		for _, f := range p.GoFiles {
			src, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if m := touch.Find(src); m != nil {
				t.Errorf("%s/%s uses %s; only cmd and appliance touch process state", p.ImportPath, f, m)
			}
		}
	}
}
