package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSelf(t *testing.T) {
	cases := []struct {
		name, in, want, err string
	}{
		{"unified", "0::/system.slice/picloud.service\n", "/system.slice/picloud.service", ""},
		{"after moving into the leaf", "0::/system.slice/picloud.service/daemon\n", "/system.slice/picloud.service/daemon", ""},
		{"hybrid", "12:pids:/system.slice/picloud.service\n1:name=systemd:/system.slice/picloud.service\n0::/system.slice/picloud.service\n",
			"/system.slice/picloud.service", ""},
		{"root", "0::/\n", "/", ""},
		{"legacy only", "4:memory:/user.slice\n1:name=systemd:/user.slice/session-2.scope\n", "", "legacy"},
		{"empty", "", "", "legacy"},
		{"outside the cgroup namespace", "0::/../../system.slice/other.service\n", "", "unexpected"},
		{"relative", "0::system.slice\n", "", "unexpected"},
	}
	for _, c := range cases {
		got, err := ParseSelf([]byte(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %q, %v; want an error with %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestWorkersCPU(t *testing.T) {
	for _, c := range []struct {
		cpus int
		want string
	}{
		{0, "80000 100000"},
		{1, "80000 100000"},  // Pi Zero W, Pi 1
		{2, "100000 100000"}, // one core for the workers, one kept
		{4, "300000 100000"}, // Pi Zero 2 W, Pi 3, 4 and 5
		{8, "700000 100000"},
	} {
		if got := WorkersCPU(c.cpus).String(); got != c.want {
			t.Errorf("WorkersCPU(%d) = %q, want %q", c.cpus, got, c.want)
		}
	}
}

func TestIntersectKeepsTheWantedOrder(t *testing.T) {
	got := intersect(Controllers, []string{"pids", "io", "memory", "cpuset"})
	if want := []string{"memory", "pids"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := intersect(Controllers, nil); got != nil {
		t.Fatalf("no controllers: got %v", got)
	}
}

func TestReadFlatKeyed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "memory.events")
	if err := os.WriteFile(p, []byte("low 0\nhigh 0\nmax 17\noom 2\noom_kill 2\noom_group_kill 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int64{"oom_kill": 2, "oom_group_kill": 1, "max": 17, "absent": 0} {
		if got, err := readFlatKeyed(p, key); err != nil || got != want {
			t.Errorf("%s: got %d, %v; want %d", key, got, err, want)
		}
	}
	if _, err := readFlatKeyed(filepath.Join(t.TempDir(), "none"), "oom_kill"); err == nil {
		t.Error("a missing file read as no events")
	}
}

// Outside a service with Delegate= (a test run, CI), Find must say why it
// found nothing rather than rearrange the caller's cgroup.
func TestFindHereIsDelegatedOrSaysWhy(t *testing.T) {
	tree, err := Find()
	if err != nil {
		if !errors.Is(err, ErrNotDelegated) {
			t.Fatalf("Find: %v, not wrapping ErrNotDelegated", err)
		}
		t.Logf("no delegated subtree here: %v", err)
		return
	}
	b, _ := os.ReadFile("/proc/self/cgroup")
	self, _ := ParseSelf(b)
	if tree.Dir != filepath.Join(Mount, self) || !delegated(tree.Dir) {
		t.Fatalf("Find returned %+v for a process in %s", tree, self)
	}
}
