package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// workersCase is one example of testdata/workers/cases.json: a module
// Worker written from Cloudflare's documented behaviour, its environment,
// and the requests it is sent with the answers it must give.
type workersCase struct {
	Example  string            `json:"example"`
	Env      map[string]string `json:"env"`
	Node     string            `json:"node"` // why Node.js cannot run it, if it cannot
	Requests []struct {
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Body    *string           `json:"body"`
		Want    struct {
			Status  int                        `json:"status"`
			Headers map[string]json.RawMessage `json:"headers"` // a string, a list (set-cookie) or null (absent)
			Body    *string                    `json:"body"`
			JSON    json.RawMessage            `json:"json"`
			Logs    []string                   `json:"logs"` // what console.log printed, if given
		} `json:"want"`
	} `json:"requests"`
}

// workersAnswer is what an example answered: from the engine, or from
// Node.js (testdata/workers/run-node.mjs).
type workersAnswer struct {
	Example   string            `json:"example"`
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"` // lower-case names, set-cookie apart
	SetCookie []string          `json:"setCookie"`
	Body      string            `json:"body"`
	Logs      []string          `json:"logs"`
	Error     string            `json:"error"`
}

func loadWorkersCases(t *testing.T) []workersCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "workers", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []workersCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	return cases
}

// TestWorkersExamples runs each example of testdata/workers, unmodified,
// as a PiCloud script on each of its requests and checks the answers;
// with -wpt.node (make wpt) it runs them in Node.js too, which must give
// the same answers (but for the examples that say why it cannot).
func TestWorkersExamples(t *testing.T) {
	cases := loadWorkersCases(t)
	var node []workersAnswer
	if *wptNode {
		node = runWorkersNode(t, cases)
	}
	ran, nodeRan := 0, 0
	for _, c := range cases {
		src, err := os.ReadFile(filepath.Join("testdata", "workers", c.Example))
		if err != nil {
			t.Fatal(err)
		}
		code := transpile(t, JavaScript, string(src))
		for i, r := range c.Requests {
			inv := &Invocation{Code: code, Env: c.Env, Limits: Limits{WallTime: 10 * time.Second},
				Request: Request{Method: r.Method, URL: r.URL, Header: Header{}}}
			for k, v := range r.Headers {
				inv.Request.Header[k] = []string{v}
			}
			if r.Body != nil {
				inv.Request.Body = []byte(*r.Body)
			}
			res, err := testExecutor.Execute(t.Context(), inv)
			if err != nil {
				t.Fatalf("%s request %d: %v", c.Example, i, err)
			}
			what := fmt.Sprintf("%s, %s %s", c.Example, r.Method, r.URL)
			if node != nil && c.Node == "" {
				if len(node) == 0 {
					t.Fatalf("Node.js answered fewer requests than were sent")
				}
				n := node[0]
				node = node[1:]
				nodeRan++
				if n.Error != "" {
					t.Errorf("%s in Node.js: %s", what, n.Error)
				} else if why := c.judge(i, n); why != "" {
					t.Errorf("%s in Node.js: %s", what, why)
				}
			}
			ran++
			if res.Error != nil {
				t.Errorf("%s: the script failed: %+v", what, res.Error)
				continue
			}
			got := workersAnswer{Status: res.Response.Status, Headers: map[string]string{}, Body: string(res.Response.Body)}
			for _, l := range res.Logs {
				got.Logs = append(got.Logs, l.Message)
			}
			for k, vs := range res.Response.Header {
				if strings.EqualFold(k, "set-cookie") {
					got.SetCookie = append(got.SetCookie, vs...)
				} else {
					got.Headers[strings.ToLower(k)] = strings.Join(vs, ", ")
				}
			}
			if why := c.judge(i, got); why != "" {
				t.Errorf("%s: %s", what, why)
			}
		}
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "scripts.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(doc)), " ")
	figure := fmt.Sprintf("holds %d examples and %d requests", len(cases), ran)
	if !strings.Contains(text, figure) {
		t.Errorf("docs/scripts.md does not say the Workers corpus %s: record the new figures", figure)
	}
	if nodeFigure := fmt.Sprintf("Node.js answers the %d of them it can run", nodeRan); *wptNode && !strings.Contains(text, nodeFigure) {
		t.Errorf("docs/scripts.md does not say %q: record the new figures", nodeFigure)
	}
	fmt.Printf("\nWorkers examples (testdata/workers): %d examples, %d requests checked in PiCloud", len(cases), ran)
	if *wptNode {
		fmt.Printf(", %d of them run by Node.js too", nodeRan)
	}
	fmt.Println()
}

// judge compares an answer with request i's expected one and says how it
// differs, or "".
func (c *workersCase) judge(i int, got workersAnswer) string {
	want := c.Requests[i].Want
	if got.Status != want.Status {
		return fmt.Sprintf("status %d, want %d (body %.200q)", got.Status, want.Status, got.Body)
	}
	for name, raw := range want.Headers {
		name = strings.ToLower(name)
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return "bad expected header " + name
		}
		switch v := v.(type) {
		case nil:
			if h, ok := got.Headers[name]; ok {
				return fmt.Sprintf("header %s is %q, want none", name, h)
			}
		case string:
			if got.Headers[name] != v {
				return fmt.Sprintf("header %s is %q, want %q", name, got.Headers[name], v)
			}
		case []any:
			var list []string
			for _, x := range v {
				list = append(list, fmt.Sprint(x))
			}
			if name != "set-cookie" || !reflect.DeepEqual(got.SetCookie, list) {
				return fmt.Sprintf("set-cookie is %q, want %q", got.SetCookie, list)
			}
		}
	}
	if want.Logs != nil && !reflect.DeepEqual(got.Logs, want.Logs) {
		return fmt.Sprintf("logged %q, want %q", got.Logs, want.Logs)
	}
	if want.Body != nil && got.Body != *want.Body {
		return fmt.Sprintf("body %q, want %q", got.Body, *want.Body)
	}
	if want.JSON != nil {
		var g, w any
		if err := json.Unmarshal([]byte(got.Body), &g); err != nil {
			return fmt.Sprintf("body %.200q is not JSON", got.Body)
		}
		_ = json.Unmarshal(want.JSON, &w)
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("body %s, want %s", got.Body, want.JSON)
		}
	}
	return ""
}

// runWorkersNode runs the examples Node.js can run through
// testdata/workers/run-node.mjs and returns its answers in order.
func runWorkersNode(t *testing.T, cases []workersCase) []workersAnswer {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "workers")
	for _, name := range []string{"cases.json", "run-node.mjs"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join(src, c.Example))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(c.Example, ".js")+".mjs"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("node", filepath.Join(dir, "run-node.mjs"), dir).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var answers []workersAnswer
	if err := json.Unmarshal(out, &answers); err != nil {
		t.Fatalf("node answered %.300q: %v", out, err)
	}
	return answers
}
