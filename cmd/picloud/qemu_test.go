//go:build qemu

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/pgtest"
)

// qemuCPU is the CPU qemu-user emulates: a Pi Zero 2 W's and a Pi 3's.
const qemuCPU = "cortex-a53"

// smokeKVScript writes and reads the calling client's keys: each client
// counts its own requests, so every answer is known in advance.
const smokeKVScript = `import { kv } from "picloud"
export default async (req) => {
  const url = new URL(req.url)
  const c = url.searchParams.get("c"), i = url.searchParams.get("i")
  const col = kv.collection("smoke")
  await col.put("last-" + c, i)
  const { value } = await col.incr("n-" + c)
  return Response.json({ client: c, last: await col.get("last-" + c), n: value })
}`

// smokeTSScript is TypeScript: the engine's transpiler runs on arm64 too.
const smokeTSScript = `interface Sum { a: number; b: number }
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const s: Sum = { a: Number(url.searchParams.get("a")), b: Number(url.searchParams.get("b")) }
    return Response.json({ sum: s.a + s.b, lang: "ts" as string })
  }
}`

// TestArm64Smoke cross-builds the daemon for arm64 and runs it under
// qemu-user on a Cortex-A53, as `make qemu-smoke` does: the owner made with
// the arm64 binary's own `user add`, a kv script and a TypeScript one
// called a few hundred times each by concurrent clients, every answer
// checked. The throughput and median latency are logged, not kept: qemu's
// emulation says nothing of a real board's speed.
//
// Scripts run inside the daemon (PICLOUD_EXECUTOR_MODE=inprocess): a
// worker process is the daemon's binary executed again, and an arm64
// binary started by the daemon runs only where binfmt_misc hands it to
// qemu, which a CI container does not mount.
func TestArm64Smoke(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds the binary and runs it under qemu-user")
	}
	qemu, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		t.Skip("qemu-aarch64-static is not on PATH (Debian's qemu-user-static package): no arm64 smoke run")
	}
	bin := buildArm64(t)
	d := newDaemon(t, bin, "PICLOUD_EXECUTOR_MODE=inprocess", "DATABASE_URL="+pgtest.NewDatabaseURL(t))

	user := exec.Command(qemu, "-cpu", qemuCPU, bin, "user", "add", "admin", "--password-stdin")
	user.Env = d.env
	user.Stdin = strings.NewReader("s3cret-passw0rd\n")
	if out, err := user.CombinedOutput(); err != nil || !strings.Contains(string(out), "created user admin") {
		t.Fatalf("user add under qemu: %v\n%s", err, out)
	}
	begin := time.Now()
	d.launch(exec.Command(qemu, "-cpu", qemuCPU, bin, "serve"))
	d.waitHealthy()
	t.Logf("arm64 daemon healthy under qemu in %s", time.Since(begin).Round(time.Millisecond))
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"s3cret-passw0rd"}`)
	d.expect(login, 200)
	d.token = login.field(t, "token").(string)
	d.expect(d.call("GET", "/version", ""), 200, `"api":"v1"`)

	d.deploy("", "smoke-kv", smokeKVScript, "GET", "/smoke/kv")
	d.deploy("", "smoke.ts", smokeTSScript, "GET", "/smoke/ts")

	const clients, each = 4, 75
	smokeLoad(t, d, "kv", clients, each, func(c, i int) (string, string) {
		return fmt.Sprintf("/smoke/kv?c=%d&i=%d", c, i),
			fmt.Sprintf(`{"client":"%d","last":"%d","n":%d}`, c, i, i+1)
	})
	smokeLoad(t, d, "TypeScript", clients, each, func(c, i int) (string, string) {
		return fmt.Sprintf("/smoke/ts?a=%d&b=%d", c*1000, i),
			fmt.Sprintf(`{"sum":%d,"lang":"ts"}`, c*1000+i)
	})
	d.stop()
}

// buildArm64 cross-builds the picloud command for linux/arm64 with the
// release build's flags (make deb), so that it shares make deb's build cache.
func buildArm64(t *testing.T) string {
	t.Helper()
	dir := traversableTempDir(t)
	path := filepath.Join(dir, "picloud")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	begin := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build for arm64: %v\n%s", err, out)
	}
	t.Logf("cross-built for arm64 in %s", time.Since(begin).Round(time.Millisecond))
	return path
}

// smokeLoad sends each request of clients concurrent clients, one after
// another within a client; call gives the path of client c's i-th request
// and the JSON it must answer. Every answer must be right; the rate and
// median latency are logged.
func smokeLoad(t *testing.T, d *daemon, what string, clients, each int, call func(c, i int) (path, want string)) {
	t.Helper()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  []string
		wg        sync.WaitGroup
	)
	begin := time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				path, want := call(c, i)
				start := time.Now()
				got, err := smokeGet(d.url + path)
				took := time.Since(start)
				mu.Lock()
				latencies = append(latencies, took)
				if err == nil {
					err = sameJSON(got, want)
				}
				if err != nil {
					failures = append(failures, fmt.Sprintf("GET %s: %v", path, err))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if len(failures) > 0 {
		t.Fatalf("%s: %d of %d answers wrong, the first: %s", what, len(failures), clients*each, strings.Join(failures[:min(len(failures), 5)], "\n"))
	}
	slices.Sort(latencies)
	t.Logf("%s under qemu: %d requests from %d clients, all right: %.0f req/s, median %s (functional only: emulation, not a board)",
		what, len(latencies), clients, float64(len(latencies))/elapsed.Seconds(), latencies[len(latencies)/2].Round(10*time.Microsecond))
}

// smokeGet returns the body of a 200 answer to GET url.
func smokeGet(url string) (string, error) {
	res, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return "", fmt.Errorf("reading the answer: %w", err)
	}
	if res.StatusCode != 200 {
		return "", fmt.Errorf("status %d: %.300s", res.StatusCode, body)
	}
	return string(body), nil
}

// sameJSON compares two JSON documents by value, key order aside.
func sameJSON(got, want string) error {
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return fmt.Errorf("not JSON: %.300s", got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return fmt.Errorf("expected answer is not JSON: %s", want)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		return fmt.Errorf("answered %s, want %s", gb, wb)
	}
	return nil
}
