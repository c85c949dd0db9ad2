package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/picloud/picloud/appliance/testkit"
)

// TestBoardProfile runs the daemon as on a Pi Zero 2 W: inside a memory
// cgroup of 512 MiB on this much larger machine. The daemon must size itself
// from the group, not from the machine: its workers' memory ceiling is
// the 96 MiB of a board under 1 GiB (the machine's memory would give up to
// 512 MiB), a memory bomb still ends with limit.memory at that ceiling, and
// a bystander keeps answering. The system status shows the group's memory.
func TestBoardProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	procs := testkit.BoardCgroup(t)
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	if out, err := d.picloud("s3cret-passw0rd\n", "user", "add", "admin", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	// The shell moves itself into the group and becomes the daemon, so
	// that PostgreSQL and the workers start inside it too.
	argv := testkit.InCgroup(procs, bin, "serve")
	d.launch(exec.Command(argv[0], argv[1:]...))
	d.waitHealthy()
	login := d.call("POST", "/api/v1/admin/auth/login", `{"username":"admin","password":"s3cret-passw0rd"}`)
	d.expect(login, 200)
	d.token = login.field(t, "token").(string)

	// Every process of the appliance is in the group.
	members, err := os.ReadFile(procs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains("\n"+string(members), "\n"+strconv.Itoa(d.cmd.Process.Pid)+"\n") {
		t.Fatalf("the daemon (%d) is not in the board's group: %q", d.cmd.Process.Pid, members)
	}

	// The system screen shows the board's memory, not the machine's.
	sys := d.call("GET", "/api/v1/admin/system", "")
	d.expect(sys, 200)
	if total := int64(sys.field(t, "memory_total_bytes").(float64)); total != testkit.BoardMemory {
		t.Errorf("the system status shows %d MiB of memory, want the group's %d", total>>20, testkit.BoardMemory>>20)
	}
	if avail := int64(sys.field(t, "memory_available_bytes").(float64)); avail <= 0 || avail >= testkit.BoardMemory {
		t.Errorf("the system status shows %d MiB available of the group's %d", avail>>20, testkit.BoardMemory>>20)
	}

	d.deploy("", "bystander", `export default () => Response.json({ ok: true })`, "*", "/ok")
	d.deploy("", "bomb", `export default () => { const s = "x".repeat(1 << 23); const keep = []; for (;;) keep.push(s + keep.length) }`, "*", "/bomb")

	r := d.call("GET", "/bomb", "")
	if r.status != 500 || !strings.Contains(r.body, `"code":"limit.memory"`) {
		t.Fatalf("the bomb answered %d %.300s, want 500 limit.memory", r.status, r.body)
	}
	if !strings.Contains(r.body, "ceiling of 96 MiB") {
		t.Errorf("the bomb's answer does not name the board's 96 MiB ceiling (the daemon sized its workers from the machine?): %.300s", r.body)
	}
	for i := 0; i < 20; i++ {
		ok := d.call("GET", "/ok", "")
		if ok.status != 200 || !strings.Contains(ok.body, `"ok":true`) {
			t.Fatalf("bystander request %d after the bomb: %d %.300s", i, ok.status, ok.body)
		}
	}
}
