package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// The scripts of the durability test: one puts {n, payload} under a key,
// one increments a counter, one reads keys back as the text stored.
const (
	durWriter = `import { kv } from "picloud"
export default async (req) => {
  const { key, n, payload } = await req.json()
  await kv.collection("dur").put(key, { n, payload })
  return Response.json({ ok: true })
}`
	durIncr = `import { kv } from "picloud"
export default async (req) => {
  const { key } = await req.json()
  const { value } = await kv.collection("dur").incr(key)
  return Response.json({ value })
}`
	durReader = `import { kv } from "picloud"
export default async (req) => {
  const { keys } = await req.json()
  const c = kv.collection("dur")
  const out = {}
  for (const k of keys) out[k] = await c.get(k, { type: "text" })
  return Response.json(out)
}`
)

// durPayload is the payload written with value n of key: big enough to span
// pages, and each byte of it follows from key and n.
func durPayload(key string, n int) string {
	return strings.Repeat(fmt.Sprintf("%s=%d;", key, n), 6000/(len(key)+8))
}

// durKey is what one key went through in one round: writes go one after
// the other, with n counting up, so what the key holds after a crash has an
// n between the last answered 2xx and the last attempted.
type durKey struct {
	acked, attempted int // n; 0: none
}

// durRound is the write load of one round, between a start and a kill.
type durRound struct {
	mu       sync.Mutex
	keys     map[string]*durKey
	counter  string
	incrSent atomic.Int64
	incrAck  atomic.Int64
	acks     atomic.Int64
}

// TestDataKVDurability kills the daemon with SIGKILL during a kv write load,
// again and again, and checks after each restart that every write answered
// 2xx is there and that no value is half-written. Odd rounds kill the daemon
// alone, as kill -9 of its pid does (its PostgreSQL lives on and the next
// start uses it); even rounds kill PostgreSQL with it, as systemd does to
// the rest of the unit when its main process dies (the next start recovers
// the cluster from its write-ahead log).
func TestDataKVDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	const rounds, writers, keysPerWriter = 20, 4, 3 // rounds even: see the end
	bin := buildBinary(t)
	d := newDaemon(t, bin,
		"PICLOUD_MAX_CONCURRENT_EXECUTIONS=16",
		"PICLOUD_MAX_REQUEST_BODY_BYTES=1048576",
	)
	t.Cleanup(func() { killCluster(t, d.dataDir) })
	d.startAsOwner()
	for _, s := range []struct{ name, src, path string }{
		{"dur-writer", durWriter, "/dur/write"},
		{"dur-incr", durIncr, "/dur/incr"},
		{"dur-reader", durReader, "/dur/read"},
	} {
		d.deploy("", s.name, s.src, "POST", s.path)
	}

	client := &http.Client{Timeout: 20 * time.Second}
	var all []*durRound
	for round := 1; round <= rounds; round++ {
		r := &durRound{keys: map[string]*durKey{}, counter: fmt.Sprintf("counter-%d", round)}
		all = append(all, r)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.write(client, d.url, fmt.Sprintf("r%d-w%d", round, w), keysPerWriter, stop)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.incr(client, d.url, stop)
		}()
		// Kill mid-load: once some writes of this round were answered.
		testkit.Eventually(t, 30*time.Second, fmt.Sprintf("round %d: writes are answered", round), func() error {
			if n := r.acks.Load(); n < 10 || r.incrAck.Load() < 3 {
				return fmt.Errorf("%d writes and %d increments answered", n, r.incrAck.Load())
			}
			return nil
		})
		withCluster := round%2 == 0
		d.kill(withCluster)
		close(stop)
		wg.Wait()

		d.launch(exec.Command(bin, "serve"))
		if withCluster {
			// The start found the cluster crashed and recovered it.
			d.logged(0, "PostgreSQL was not shut down cleanly")
		}
		d.waitHealthy()
		d.checkRound(t, r)
		t.Logf("round %d (PostgreSQL killed too: %v): %d writes and %d of %d increments answered before the kill",
			round, withCluster, r.acks.Load(), r.incrAck.Load(), r.incrSent.Load())
	}
	// Nothing of an earlier round went missing in a later one's crash.
	for _, r := range all {
		d.checkRound(t, r)
	}
	d.stop()
	// The last round killed PostgreSQL too, so the last start ran its own
	// cluster, and stopped it.
	if pg := clusterProcesses(d.dataDir); pg != nil {
		t.Errorf("PostgreSQL still running after the daemon stopped: %v", pg)
	}
}

// write puts values under keys of prefix, one write after the other, until
// stop is closed or a write fails.
func (r *durRound) write(client *http.Client, url, prefix string, keys int, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		key := fmt.Sprintf("%s-k%d", prefix, i%keys)
		n := i/keys + 1
		r.mu.Lock()
		k := r.keys[key]
		if k == nil {
			k = &durKey{}
			r.keys[key] = k
		}
		k.attempted = n
		r.mu.Unlock()
		body := mustJSON(map[string]any{"key": key, "n": n, "payload": durPayload(key, n)})
		if !post(client, url+"/dur/write", body) {
			return
		}
		r.mu.Lock()
		k.acked = n
		r.mu.Unlock()
		r.acks.Add(1)
	}
}

// incr increments the round's counter until stop is closed or a call fails.
func (r *durRound) incr(client *http.Client, url string, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		r.incrSent.Add(1)
		if !post(client, url+"/dur/incr", mustJSON(map[string]string{"key": r.counter})) {
			return
		}
		r.incrAck.Add(1)
	}
}

// post sends a request and says whether it was answered 2xx.
func post(client *http.Client, url, body string) bool {
	res, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return false
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return err == nil && res.StatusCode/100 == 2
}

// checkRound reads back what a round wrote: every key holds a whole value
// written to it, not older than the last one answered 2xx; the counter
// counts every increment answered and none that was not sent.
func (d *daemon) checkRound(t *testing.T, r *durRound) {
	t.Helper()
	names := []string{r.counter}
	for k := range r.keys {
		names = append(names, k)
	}
	got := d.call("POST", "/dur/read", mustJSON(map[string]any{"keys": names}))
	d.expect(got, 200)
	var stored map[string]*string
	if err := json.Unmarshal([]byte(got.body), &stored); err != nil {
		t.Fatalf("read back: %v: %.300s", err, got.body)
	}
	for key, k := range r.keys {
		text := stored[key]
		if text == nil {
			if k.acked > 0 {
				t.Errorf("%s: gone, though write %d of it was answered", key, k.acked)
			}
			continue
		}
		var v struct {
			N       int    `json:"n"`
			Payload string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(*text), &v); err != nil {
			t.Errorf("%s: half-written value (%v): %.100q…", key, err, *text)
			continue
		}
		if v.N < k.acked || v.N > k.attempted || v.N < 1 || v.Payload != durPayload(key, v.N) {
			t.Errorf("%s: holds n=%d (payload whole: %v), want n between %d (answered) and %d (attempted)",
				key, v.N, v.Payload == durPayload(key, v.N), k.acked, k.attempted)
		}
	}
	n := 0
	if text := stored[r.counter]; text != nil {
		var err error
		if n, err = strconv.Atoi(*text); err != nil {
			t.Errorf("counter %s holds %q", r.counter, *text)
		}
	}
	if ack, sent := int(r.incrAck.Load()), int(r.incrSent.Load()); n < ack || n > sent {
		t.Errorf("counter %s is %d after %d increments answered of %d sent", r.counter, n, ack, sent)
	}
}

// kill sends SIGKILL to the daemon and, withCluster, to every process of
// its PostgreSQL cluster (the postmaster and its children, which PostgreSQL
// puts in sessions of their own) at once, then waits until the killed
// processes are gone.
func (d *daemon) kill(withCluster bool) {
	d.t.Helper()
	var pg []int
	if withCluster {
		if pg = clusterProcesses(d.dataDir); pg == nil {
			d.t.Fatal("no PostgreSQL to kill")
		}
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		d.t.Fatal(err)
	}
	for _, pid := range pg {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = d.cmd.Wait()
	testkit.Eventually(d.t, 30*time.Second, "the killed PostgreSQL exits", func() error {
		return anyLive(pg)
	})
}

// clusterProcesses are the pids of the PostgreSQL running on the data
// directory, postmaster first, or nil if there is none.
func clusterProcesses(dataDir string) []int {
	pgData := filepath.Join(dataDir, "postgres")
	raw, err := os.ReadFile(filepath.Join(pgData, "postmaster.pid"))
	if err != nil {
		return nil
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pm, _ := strconv.Atoi(strings.TrimSpace(first))
	if pm <= 0 {
		return nil
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pm))
	if err != nil || filepath.Clean(cwd) != filepath.Clean(pgData) {
		return nil
	}
	pids := []int{pm}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		if _, ppid, live := procStat(f); live && ppid == pm {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat reads the state and parent of a process from its /proc stat
// file; live is false once it has exited (a zombie waiting for its reaper
// has) or is gone.
func procStat(file string) (state string, ppid int, live bool) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", 0, false
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return "", 0, false
	}
	fields := strings.Fields(string(raw[i+1:]))
	if len(fields) < 2 {
		return "", 0, false
	}
	ppid, _ = strconv.Atoi(fields[1])
	return fields[0], ppid, fields[0] != "Z" && fields[0] != "X"
}

// anyLive says which of pids still runs, if any.
func anyLive(pids []int) error {
	for _, pid := range pids {
		if state, _, live := procStat(fmt.Sprintf("/proc/%d/stat", pid)); live {
			return fmt.Errorf("process %d is still there (state %s)", pid, state)
		}
	}
	return nil
}

// killCluster stops a PostgreSQL left running on the data directory by a
// daemon killed with SIGKILL.
func killCluster(t *testing.T, dataDir string) {
	pg := clusterProcesses(dataDir)
	for _, pid := range pg {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := testkit.Poll(30*time.Second, func() error { return anyLive(pg) }); err != nil {
		t.Error(err)
	}
}
