package appliance

import (
	"testing"

	"github.com/picloud/picloud/appliance/config"
)

func TestPoolShape(t *testing.T) {
	cfg := config.Default()
	for _, c := range []struct {
		name string
		mem  int64
		cpus int
		want PoolShape
	}{
		{"Pi Zero 2 W", 427 << 20, 4, PoolShape{Workers: 2, PerWorker: 16, MaxMemoryBytes: 96 << 20, Procs: 1, GCPercent: 150}},
		{"Pi 5 4 GB", 4 << 30, 4, PoolShape{Workers: 3, PerWorker: 11, MaxMemoryBytes: 341 << 20, Procs: 1, GCPercent: 400}},
		{"Pi 5 8 GB", 8 << 30, 4, PoolShape{Workers: 3, PerWorker: 11, MaxMemoryBytes: 512 << 20, Procs: 1, GCPercent: 400}},
		{"tiny", 200 << 20, 1, PoolShape{Workers: 1, PerWorker: 32, MaxMemoryBytes: 96 << 20, Procs: 1, GCPercent: 150}},
		{"2-core server", 24 << 30, 2, PoolShape{Workers: 1, PerWorker: 32, MaxMemoryBytes: 512 << 20, Procs: 1, GCPercent: 400}},
		{"8-core server", 16 << 30, 8, PoolShape{Workers: 7, PerWorker: 5, MaxMemoryBytes: 512 << 20, Procs: 1, GCPercent: 400}},
	} {
		if got := poolShape(cfg, c.mem, c.cpus); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	cfg.Executors.Workers, cfg.Executors.Concurrency, cfg.Sandbox.MaxMemoryMB = 3, 5, 200
	if got := poolShape(cfg, 8<<30, 4); got != (PoolShape{3, 5, 200 << 20, 1, 400}) {
		t.Errorf("explicit: %+v", got)
	}
}

// The first-owner command fits how the daemon runs: the packaged service's
// user and environment, or this program run as is.
func TestFirstUserCommand(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = "/var/lib/picloud"
	if got := firstUserCommand(cfg, "picloud"); got != FirstUserHint {
		t.Errorf("packaged: %s", got)
	}
	cfg.DataDir = "/home/ada/.local/share/picloud"
	if got := firstUserCommand(cfg, "./bin/picloud"); got != "printf '%s' 'a long password' | ./bin/picloud user add admin --password-stdin" {
		t.Errorf("make run: %s", got)
	}
}
