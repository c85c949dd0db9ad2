//go:build browser

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium that records what its pages do: every
// request (which must stay on the daemon), and every error in the
// console, uncaught exception or Content-Security-Policy violation (each
// fails the test).
type browser struct {
	t        *testing.T
	d        *daemon
	alloc    context.Context
	first    context.Context // the first tab: later tabs share its browser
	mu       sync.Mutex
	requests []string
	problems []string
}

// chromiumPath finds Debian's Chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-headless-shell", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: apt-get install chromium (make browser-test needs it)")
	return ""
}

// newBrowser starts Chromium with a fresh profile and none of its own
// connections (updates, sync, QUIC probes): the only requests are the
// pages'.
func newBrowser(t *testing.T, d *daemon) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1280, 860),
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	b := &browser{t: t, d: d, alloc: alloc}
	t.Cleanup(b.check)
	return b
}

// tab opens a new tab, in the same browser as the others (so with the
// same cookies), that records its requests and problems.
func (b *browser) tab() context.Context {
	b.t.Helper()
	parent := b.first
	if parent == nil {
		parent = b.alloc
	}
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithListener(b.listen))
	b.t.Cleanup(cancel)
	if b.first == nil {
		b.first = ctx
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		b.t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		b.t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

func (b *browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.Method+" "+ev.Request.URL)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		// An API answer of 4xx is logged by the network source: the
		// screens show those (a 401 before login, a 409 on a conflict).
		if ev.Entry.Level == log.EntryLevelError && ev.Entry.Source != log.EntrySourceNetwork {
			b.problems = append(b.problems, fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

// mark is the number of requests recorded so far, for since.
func (b *browser) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.requests)
}

// since returns the URLs of the requests recorded after mark m.
func (b *browser) since(m int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var urls []string
	for _, r := range b.requests[m:] {
		_, u, _ := strings.Cut(r, " ")
		urls = append(urls, u)
	}
	return urls
}

// check fails the test on a request that left the daemon, or any problem
// the pages had.
func (b *browser) check() {
	b.mu.Lock()
	defer b.mu.Unlock()
	own, err := url.Parse(b.d.url)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, r := range b.requests {
		_, raw, _ := strings.Cut(r, " ")
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "data" && u.Host != own.Host) {
			b.t.Errorf("the page made a request outside the daemon: %s", r)
		}
	}
	if len(b.requests) == 0 {
		b.t.Errorf("no request recorded: the recording does not work")
	}
	for _, p := range b.problems {
		b.t.Errorf("the page had a problem: %s", p)
	}
}

// stepTimeout bounds one step of a browser test, and waitTimeout one wait
// within it: generous, for a machine busy with other builds; a step that
// works takes a fraction of a second.
const (
	stepTimeout = 2 * time.Minute
	waitTimeout = time.Minute
)

// run runs actions in a tab with a deadline, failing the test with what
// was being done and the page as it was.
func (b *browser) run(ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		b.t.Fatalf("%s: %v\npage: %.3000s", what, err, html)
	}
}

// logIn logs user in on the login page and waits for the apps screen.
func (b *browser) logIn(ctx context.Context, user, password string) {
	b.t.Helper()
	b.run(ctx, "log in as "+user,
		chromedp.Navigate(b.d.url+"/admin/login"),
		typeInto(`input[name=username]`, user),
		typeInto(`input[name=password]`, password),
		click(`button[type=submit]`),
		waitText("h1", "Apps"),
	)
}

// waitText waits until an element matching sel, in the page or in an open
// shadow root (the editor's), has text containing want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => {
		const found = [];
		const walk = (root) => {
			found.push(...root.querySelectorAll(%s));
			root.querySelectorAll("*").forEach((e) => e.shadowRoot && walk(e.shadowRoot));
		};
		walk(document);
		return found.some((e) => e.innerText.includes(%s));
	})()`, jsString(sel), jsString(want)),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout))
}

// waitJS waits until the JavaScript expression is true in the page.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout))
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// typeInto types text into the input or text area of sel.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}

// noText fails the test when the page, or an open shadow root in it,
// shows s anywhere, in its text or in a form field's value.
func (b *browser) noText(ctx context.Context, s string) {
	b.t.Helper()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const s = %s;
		const walk = (root) => [...root.querySelectorAll("*")].some((e) =>
			(e.value !== undefined && String(e.value).includes(s)) || (e.shadowRoot && walk(e.shadowRoot)));
		return document.body.innerText.includes(s) || walk(document);
	})()`, jsString(s))))
	if err != nil {
		b.t.Fatal(err)
	}
	if found {
		b.t.Errorf("the page shows %q", s)
	}
}

// clickText clicks the first element matching sel whose text has want,
// once there is one.
func clickText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => {
		const e = [...document.querySelectorAll(%s)].find((e) => e.innerText.includes(%s));
		if (e) e.click();
		return !!e;
	})()`, jsString(sel), jsString(want)),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout))
}

// click clicks the element of sel.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel))
}

// screenshot saves the page as docs/images/dashboard-NAME.png when
// DASHBOARD_DOCS_DIR names the docs directory (make dashboard-docs), for
// docs/dashboard.md.
func (b *browser) screenshot(ctx context.Context, name string) {
	b.t.Helper()
	dir := os.Getenv("DASHBOARD_DOCS_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "images", "dashboard-"+name+".png"), png, 0o644); err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
}
