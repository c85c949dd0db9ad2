package engine

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var wptNode = flag.Bool("wpt.node", false,
	"TestWPT: also run the vectors through Node.js (node on PATH) and print its table beside PiCloud's")

// wptFiles are the data files of testdata/wpt, in the order of the table:
// WPT's URL vectors, the Encoding standard's labels and UTF-8 vectors.
var wptFiles = []string{"urltestdata.json", "setters_tests.json", "toascii.json", "IdnaTestV2.json", "percent-encoding.json",
	"encodings.json", "utf-8-decode.json", "text-decode.json"}

// wptResult is what testdata/wpt/harness.js returns for one file.
type wptResult struct {
	API      string `json:"api"` // webapis.js: the API of the row
	Total    int    `json:"total"`
	Failures []struct {
		ID  string `json:"id"`
		Why string `json:"why"`
	} `json:"failures"`
	Disagreements []string `json:"disagreements"`
	Missing       []string `json:"missing"` // static methods the runtime lacks
}

func (r *wptResult) passed() int { return r.Total - len(r.Failures) }

// TestWPT runs every vector of testdata/wpt inside the engine, as a script
// sees the URL API, and prints a pass table per file (go test -v, or make
// wpt, which adds Node.js's figures from the same run). A vector that
// fails must be on testdata/wpt/expected-failures.txt with the reason, and
// one on the list must still fail, so that the list only shrinks.
func TestWPT(t *testing.T) {
	harness := readWPT(t, "harness.js")
	expected := loadExpectedFailures(t, filepath.Join("testdata", "wpt", "expected-failures.txt"))
	nodeVersion := ""
	if *wptNode {
		out, err := exec.Command("node", "--version").Output()
		if err != nil {
			t.Fatalf("-wpt.node: Node.js is not runnable: %v", err)
		}
		nodeVersion = strings.TrimSpace(string(out))
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\nWeb-platform-tests vectors through the Web APIs\n\n| File | Vectors | PiCloud |")
	if *wptNode {
		fmt.Fprintf(&table, " Node.js %s |", nodeVersion)
	}
	table.WriteString("\n| --- | ---: | ---: |")
	if *wptNode {
		table.WriteString(" ---: |")
	}
	table.WriteString("\n")
	documented := documentedWPT(t)
	if *wptNode && !strings.Contains(documented["header"], " Node.js "+nodeVersion+" |") {
		t.Errorf("docs/scripts.md's tables have %q, the run is of Node.js %s: record the new tables", documented["header"], nodeVersion)
	}
	nodeMissing := map[string]bool{}
	for _, file := range wptFiles {
		ours := runWPTEngine(t, harness, file)
		checkWPT(t, file, ours, expected[file])
		row := fmt.Sprintf("| `%s` | %d | %s |", file, ours.Total, passRate(ours))
		if !strings.HasPrefix(documented[file], row) {
			t.Errorf("docs/scripts.md has %q for %s, the run gives %q: record the new table", documented[file], file, row)
		}
		table.WriteString(row)
		if *wptNode {
			node := runWPTNode(t, harness, file)
			full := fmt.Sprintf("%s %s |", row, passRate(node))
			checkNodeColumn(t, documented[file], full)
			table.WriteString(strings.TrimPrefix(full, row))
			for _, m := range node.Missing {
				nodeMissing[m] = true
			}
		}
		table.WriteString("\n")
	}
	if len(nodeMissing) > 0 {
		fmt.Fprintf(&table, "\nNode.js %s has no %s: those checks were left out of its column.\n", nodeVersion, strings.Join(sortedKeys(nodeMissing), " and no "))
	}

	// The cases of webapis.js, a row per API.
	fmt.Fprintf(&table, "\nThe Web APIs' cases (%s)\n\n| API | Cases | PiCloud |", wptAPIsFile)
	if *wptNode {
		fmt.Fprintf(&table, " Node.js %s |", nodeVersion)
	}
	table.WriteString("\n| --- | ---: | ---: |")
	if *wptNode {
		table.WriteString(" ---: |")
	}
	table.WriteString("\n")
	src := harness + "\n" + readWPT(t, wptAPIsFile)
	ours := runAPIsEngine(t, src)
	var nodeRows map[string]*wptResult
	if *wptNode {
		nodeRows = map[string]*wptResult{}
		for _, r := range runAPIsNode(t, src) {
			nodeRows[r.API] = r
		}
	}
	var apis []string
	failing := map[string]string{}
	for _, r := range ours {
		apis = append(apis, r.API)
		for _, f := range r.Failures {
			failing[r.API+": "+f.ID] = f.Why
		}
		row := fmt.Sprintf("| `%s` | %d | %s |", r.API, r.Total, passRate(r))
		if doc := documented["api "+r.API]; !strings.HasPrefix(doc, row) {
			t.Errorf("docs/scripts.md has %q for %s, the run gives %q: record the new table", doc, r.API, row)
		}
		table.WriteString(row)
		if *wptNode {
			full := row + " – |"
			if n := nodeRows[r.API]; n != nil {
				full = fmt.Sprintf("%s %s |", row, passRate(n))
			}
			checkNodeColumn(t, documented["api "+r.API], full)
			table.WriteString(strings.TrimPrefix(full, row))
		}
		table.WriteString("\n")
	}
	for id, why := range failing {
		if _, ok := expected[wptAPIsFile][id]; !ok {
			t.Errorf("%s %s fails (%s): fix it, or list it in expected-failures.txt with the reason", wptAPIsFile, id, why)
		}
	}
	for id := range expected[wptAPIsFile] {
		if _, ok := failing[id]; !ok {
			t.Errorf("%s %s passes now: remove it from expected-failures.txt", wptAPIsFile, id)
		}
	}
	for api := range documented {
		if name, ok := strings.CutPrefix(api, "api "); ok && !slices.Contains(apis, name) {
			t.Errorf("docs/scripts.md has a row for %s, which %s does not test", name, wptAPIsFile)
		}
	}
	if *wptNode {
		var differ []string
		for _, r := range ours {
			n := nodeRows[r.API]
			if n == nil {
				continue
			}
			for _, f := range n.Failures {
				if _, ours := failing[r.API+": "+f.ID]; !ours {
					differ = append(differ, fmt.Sprintf("  %s: %s (Node.js: %s)", r.API, f.ID, f.Why))
				}
			}
		}
		if len(differ) > 0 {
			fmt.Fprintf(&table, "\nWhere Node.js departs from the specifications and PiCloud does not:\n%s\n", strings.Join(differ, "\n"))
		}
	}
	fmt.Print(table.String())
}

// wptAPIsFile holds the cases of the Web APIs besides the vector files.
const wptAPIsFile = "webapis.js"

// runAPIsEngine runs webapis.js's groups in a PiCloud script.
func runAPIsEngine(t *testing.T, src string) []*wptResult {
	t.Helper()
	src += "\nexport default async () => Response.json(await wptRunAPIs(webapiGroups))\n"
	res := runWith(t, testExecutor, JavaScript, src, func(inv *Invocation) {
		inv.Limits = Limits{WallTime: time.Minute, MaxResponseBytes: 16 << 20}
	})
	return decodeAPIs(t, []byte(respBody(t, res)))
}

// runAPIsNode runs them in Node.js.
func runAPIsNode(t *testing.T, src string) []*wptResult {
	t.Helper()
	script := filepath.Join(t.TempDir(), "webapis.js")
	src += "\nwptRunAPIs(webapiGroups).then((r) => process.stdout.write(JSON.stringify(r)))\n"
	if err := os.WriteFile(script, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", script).Output()
	if err != nil {
		t.Fatalf("node on %s: %v", wptAPIsFile, err)
	}
	return decodeAPIs(t, out)
}

func decodeAPIs(t *testing.T, b []byte) []*wptResult {
	t.Helper()
	var rs []*wptResult
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatalf("%s: the harness answered %.300q: %v", wptAPIsFile, b, err)
	}
	if len(rs) == 0 {
		t.Fatalf("%s: no cases ran", wptAPIsFile)
	}
	return rs
}

// documentedWPT reads the rows of the compatibility tables of
// docs/scripts.md, by file, and by "api " and the API for webapis.js's.
func documentedWPT(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "scripts.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Only the section "Compatibility" holds these tables.
	_, section, _ := strings.Cut(string(doc), "\n## Compatibility\n")
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		if _, cols, ok := strings.Cut(line, " | PiCloud |"); ok && (strings.HasPrefix(line, "| File |") || strings.HasPrefix(line, "| API |")) {
			if h, seen := rows["header"]; seen && h != cols {
				t.Errorf("docs/scripts.md's tables name different runs: %q and %q", h, cols)
			}
			rows["header"] = cols
		}
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "| `"), "` |")
		if !ok || !strings.HasPrefix(line, "| `") || !strings.HasPrefix(rest, " ") {
			continue
		}
		if slices.Contains(wptFiles, name) {
			rows[name] = line
		} else {
			rows["api "+name] = line
		}
	}
	return rows
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// passRate is "passed (percent %)".
func passRate(r *wptResult) string {
	if r.Total == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.1f %%)", r.passed(), 100*float64(r.passed())/float64(r.Total))
}

// checkWPT fails t for each failure not expected, each expected failure
// that passes, and each vector where URL.canParse or URL.parse disagrees
// with the constructor.
func checkWPT(t *testing.T, file string, r *wptResult, expected map[string]string) {
	t.Helper()
	failing := map[string]bool{}
	for _, f := range r.Failures {
		failing[f.ID] = true
		if _, ok := expected[f.ID]; !ok {
			t.Errorf("%s %s fails (%s): fix it, or list it in expected-failures.txt with the reason", file, f.ID, f.Why)
		}
	}
	for id := range expected {
		if !failing[id] {
			t.Errorf("%s %s passes now: remove it from expected-failures.txt", file, id)
		}
	}
	if len(r.Missing) > 0 {
		t.Errorf("%s: the engine lacks %s", file, strings.Join(r.Missing, ", "))
	}
	for _, id := range r.Disagreements {
		t.Errorf("%s %s: URL.canParse or URL.parse disagrees with new URL", file, id)
	}
}

func readWPT(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "wpt", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runWPTEngine runs the vectors of file in a PiCloud script.
func runWPTEngine(t *testing.T, harness, file string) *wptResult {
	t.Helper()
	src := harness + "\nexport default (request, env) => Response.json(wptRun(env.FILE, JSON.parse(env.DATA)))\n"
	res := runWith(t, testExecutor, JavaScript, src, func(inv *Invocation) {
		inv.Env = map[string]string{"FILE": file, "DATA": readWPT(t, file)}
		inv.Limits = Limits{WallTime: 2 * time.Minute, MaxResponseBytes: 64 << 20}
	})
	return decodeWPT(t, file, []byte(respBody(t, res)))
}

// runWPTNode runs the same harness on the same vectors in Node.js.
func runWPTNode(t *testing.T, harness, file string) *wptResult {
	t.Helper()
	script := filepath.Join(t.TempDir(), "wpt.js")
	src := harness + "\nprocess.stdout.write(JSON.stringify(wptRun(process.argv[2], " +
		"JSON.parse(require(\"fs\").readFileSync(process.argv[3], \"utf8\")))))\n"
	if err := os.WriteFile(script, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := filepath.Abs(filepath.Join("testdata", "wpt", file))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", script, file, data).Output()
	if err != nil {
		t.Fatalf("node on %s: %v", file, err)
	}
	return decodeWPT(t, file, out)
}

func decodeWPT(t *testing.T, file string, b []byte) *wptResult {
	t.Helper()
	var r wptResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: the harness answered %.200q: %v", file, b, err)
	}
	if r.Total == 0 {
		t.Fatalf("%s: no vectors ran", file)
	}
	return &r
}

// loadExpectedFailures reads the expected-failure list: "why: reason"
// lines, each followed by the vectors it explains, one "file id" a line;
// "#" starts a comment line.
func loadExpectedFailures(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]string{}
	why := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "why: "):
			why = strings.TrimSpace(strings.TrimPrefix(line, "why: "))
			continue
		}
		file, id, ok := strings.Cut(line, " ")
		if !ok || why == "" {
			t.Fatalf("%s:%d: want \"file id\" after a \"why: reason\" line, got %q", path, n, line)
		}
		if out[file] == nil {
			out[file] = map[string]string{}
		}
		if _, dup := out[file][id]; dup {
			t.Fatalf("%s:%d: %s %s is listed twice", path, n, file, id)
		}
		out[file][id] = why
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for file := range out {
		if !strings.HasSuffix(file, ".json") && file != wptAPIsFile {
			t.Fatalf("%s: %q is not a vector file", path, file)
		}
	}
	return out
}

// checkNodeColumn fails t unless the documented row is the full row of
// the run, Node.js's column included (with -wpt.node).
func checkNodeColumn(t *testing.T, documented, full string) {
	t.Helper()
	if documented != full {
		t.Errorf("docs/scripts.md has %q, the run with Node.js gives %q: record the new table", documented, full)
	}
}
