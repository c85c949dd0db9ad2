package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// smallDisk mounts a file system of size MiB on a new directory for the
// test, or skips the test where mounting is not allowed.
func smallDisk(t *testing.T, mib int) string {
	t.Helper()
	dir := filepath.Join(traversableTempDir(t), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0755", mib)); err != nil {
		t.Skipf("cannot mount a small file system (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk writes a file that leaves about leave bytes free on dir's file
// system, and returns its path.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	n := int64(fs.Bavail)*int64(fs.Bsize) - leave
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for n > 0 {
		w := min(n, int64(len(chunk)))
		if _, err := f.Write(chunk[:w]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
		n -= w
	}
	return path
}

// TestDiskFull: with the disk holding the data full, a save answers 507
// with words a person can act on (not PostgreSQL's), nothing is half
// saved, routes keep answering, the system screen and picloud status
// warn, and once space is back the save works and the executions of the
// full period are in the log.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real daemon")
	}
	disk := smallDisk(t, 160)
	d := newDaemon(t, buildBinary(t))
	d.dataDir = filepath.Join(disk, "data")
	for i, kv := range d.env {
		if strings.HasPrefix(kv, "PICLOUD_DATA_DIR=") {
			d.env[i] = "PICLOUD_DATA_DIR=" + d.dataDir
		}
	}
	d.startAsOwner()
	d.deploy("", "hello", `export default { fetch() { console.log("hi"); return new Response("hello") } }`, "GET", "/hello")

	filler := fillDisk(t, disk, 256<<10)
	random := make([]byte, 600<<10)
	_, _ = rand.Read(random)
	big := "// " + base64.StdEncoding.EncodeToString(random) + "\nexport default { fetch() { return new Response('big') } }"
	save := d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "big", "source": big}))
	d.expect(save, 507, "the disk holding the database is full", "free some space")
	if strings.Contains(save.body, "could not extend") {
		t.Fatalf("PostgreSQL's words reach the user: %s", save.body)
	}
	for i := 0; i < 5; i++ {
		d.expect(d.call("GET", "/hello", ""), 200, "hello")
	}
	d.expect(d.call("GET", "/api/v1/admin/system", ""), 200, "nearly full")
	out, err := d.picloud("", "status")
	if err != nil || !strings.Contains(out, "warning: the disk holding PiCloud's data is nearly full") {
		t.Fatalf("picloud status (%v):\n%s", err, out)
	}
	d.expect(d.call("GET", "/api/v1/admin/scripts", ""), 200)
	if list := d.call("GET", "/api/v1/admin/scripts", ""); strings.Contains(list.body, `"big"`) {
		t.Fatalf("the refused script was saved: %s", list.body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	d.expect(d.call("POST", "/api/v1/admin/scripts", mustJSON(map[string]string{"name": "big", "source": big})), 201)
	testkit.Eventually(t, 60*time.Second, "the executions of the full period are logged", func() error {
		r := d.call("GET", "/api/v1/admin/logs?limit=100", "")
		if n := strings.Count(r.body, `"status":200`); n < 5 {
			return fmt.Errorf("%d executions logged: %.300s", n, r.body)
		}
		return nil
	})
	d.stop()
}
