//go:build browser

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// loadBudget is the most JavaScript, gzipped, that the login and list
// pages may load before they can be used (issue 14): the editor comes
// later, by itself.
const loadBudget = 150 << 10

// builtDir is the dashboard's build, which the daemon under test embeds.
const builtDir = "../../api/dashboard/build"

// pageLoad is what loading a dashboard page took: the time from the
// navigation to the moment it could be used, and the scripts and styles
// it fetched.
type pageLoad struct {
	took   time.Duration
	assets []string // paths under /admin, e.g. /_app/immutable/chunks/x.js
}

// load opens url in a tab with the browser's cache off and waits until
// ready (a JavaScript expression) is true; the time is the page's own
// clock from the start of the navigation.
func (b *browser) load(ctx context.Context, page, ready string) pageLoad {
	b.t.Helper()
	from := b.mark()
	_, err := chromedp.Run(ctx, chromedp.Steps(
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
			return err
		}),
		chromedp.Navigate(page),
	))
	if err != nil {
		b.t.Fatalf("load %s: %v", page, err)
	}
	at, err := chromedp.Run(ctx, chromedp.Poll[float64](`(`+ready+`) && performance.now()`,
		chromedp.WithPollingInterval(5*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		b.t.Fatalf("load %s: never ready (%s): %v", page, ready, err)
	}
	var assets []string
	for _, raw := range b.since(from) {
		u, err := url.Parse(raw)
		// The editor's TypeScript worker starts once the editor is up, and
		// is measured by itself (TestDashboardTypeScript).
		if err == nil && strings.HasPrefix(u.Path, "/admin/_app/") && !strings.HasPrefix(u.Path, "/admin/_app/immutable/workers/") &&
			(strings.HasSuffix(u.Path, ".js") || strings.HasSuffix(u.Path, ".css")) {
			assets = append(assets, strings.TrimPrefix(u.Path, "/admin"))
		}
	}
	return pageLoad{took: time.Duration(at * float64(time.Millisecond)), assets: assets}
}

// gzipped is the gzipped size (level 9) of the built files, by kind.
func gzipped(paths []string) (js, css int, err error) {
	for _, p := range uniq(paths) {
		data, err := os.ReadFile(filepath.Join(builtDir, filepath.FromSlash(p)))
		if err != nil {
			return 0, 0, fmt.Errorf("built file of %s: %w", p, err)
		}
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = w.Write(data)
		_ = w.Close()
		if strings.HasSuffix(p, ".css") {
			css += buf.Len()
		} else {
			js += buf.Len()
		}
	}
	return js, css, nil
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// median of the durations.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// kib says a byte count in KiB with one decimal.
func kib(n int) string { return fmt.Sprintf("%.1f KiB", float64(n)/1024) }

// measureLoads loads the login, app list and editor pages several times
// each, checks the budget of the first two, and returns the Markdown of
// docs/performance.md's dashboard figures.
func (b *browser) measureLoads(base, scriptID string, rounds int) string {
	b.t.Helper()
	deep := `((sel) => { const walk = (r) => r.querySelector(sel) || [...r.querySelectorAll("*")].map((e) => e.shadowRoot && walk(e.shadowRoot)).find(Boolean); return walk(document); })`
	pages := []struct{ name, path, ready string }{
		{"login", "/admin/login", `document.querySelector("input[name=password]")`},
		{"app list", "/admin/apps", `document.querySelector(".apps li")`},
		{"editor", "/admin/scripts/" + scriptID, deep + `(".cm-content")`},
	}
	tab := b.tab()
	loads := map[string][]pageLoad{}
	for range rounds {
		for _, p := range pages {
			loads[p.name] = append(loads[p.name], b.load(tab, base+p.path, p.ready))
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "Measured %s on a machine with %d CPUs (%s/%s), shared with other builds.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	out.WriteString("| Page | JavaScript, gzipped | CSS, gzipped | Time to interactive (median of " + fmt.Sprint(rounds) + ") |\n| --- | ---: | ---: | ---: |\n")
	listAssets := loads["app list"][0].assets
	for _, p := range pages {
		ls := loads[p.name]
		js, css, err := gzipped(ls[0].assets)
		if err != nil {
			b.t.Fatal(err)
		}
		if p.name != "editor" && js > loadBudget {
			b.t.Errorf("the %s page loads %s of JavaScript gzipped, over the budget of %s", p.name, kib(js), kib(loadBudget))
		}
		var times []time.Duration
		for _, l := range ls {
			times = append(times, l.took)
		}
		fmt.Fprintf(&out, "| %s | %s | %s | %d ms |\n", p.name, kib(js), kib(css), median(times).Milliseconds())
	}
	var lazy []string
	for _, a := range loads["editor"][0].assets {
		if !slices.Contains(listAssets, a) {
			lazy = append(lazy, a)
		}
	}
	js, _, err := gzipped(lazy)
	if err != nil {
		b.t.Fatal(err)
	}
	fmt.Fprintf(&out, "\nOf the editor page, %s of JavaScript (gzipped) is what the app list does not load: the editor (CodeMirror with the JavaScript and TypeScript grammar) and the script screen, fetched when a script is opened; the TypeScript worker comes after it, and is not counted here (below).\n", kib(js))
	return out.String()
}

// writeSection replaces the text between the markers begin and end in the
// file at path.
func writeSection(path, begin, end, text string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s … %s", path, begin, end)
	}
	return os.WriteFile(path, []byte(s[:i+len(begin)]+"\n"+text+s[j:]), 0o644)
}
