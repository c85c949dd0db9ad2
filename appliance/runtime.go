package appliance

import (
	"bufio"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/picloud/picloud/appliance/config"
)

// tuneRuntime sets the garbage collector's target and the soft memory limit
// from the configuration, unless GOGC or GOMEMLIMIT are set in the
// environment, which win.
func tuneRuntime(cfg config.Config, logger *slog.Logger) {
	log := logger.With("component", "appliance")
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(cfg.GCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	limit := int64(cfg.MemoryLimitMB) << 20
	if limit == 0 {
		limit = defaultMemoryLimit(memTotal())
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Debug("runtime tuned", "gc_percent", cfg.GCPercent, "memory_limit_mb", limit>>20)
	}
}

// defaultMemoryLimit is the daemon's soft memory limit for a machine of
// mem bytes: a twentieth of it, from 24 to 128 MiB (25.6 MiB on a 512 MB
// board). The daemon's live heap stays well under that under load, so the
// limit costs no measurable throughput (BenchmarkFootprint's board
// profile): it stops GOGC's headroom from holding tens of MiB of garbage
// on a small board.
func defaultMemoryLimit(mem int64) int64 {
	if mem <= 0 {
		return 128 << 20
	}
	return min(max(mem/20, 24<<20), 128<<20)
}

// memTotal is the memory the daemon and what it starts may use, in bytes:
// the machine's (/proc/meminfo), or less when the daemon runs in a control
// group with a memory limit (a container, a systemd MemoryMax=, the board
// profile of the benchmarks); 0 if unknown.
func memTotal() int64 {
	m := machineMemory()
	if lim, _ := cgroupMemory(); lim > 0 && (m <= 0 || lim < m) {
		return lim
	}
	return m
}

// cgroupMemory is the smallest memory limit on the daemon's control group
// and its ancestors, and the memory used in the group that sets it; 0, 0
// when there is none.
func cgroupMemory() (limit, used int64) {
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, 0
	}
	limit, dir, usage := cgroupMemoryLimit(cg, "/sys/fs/cgroup")
	if limit > 0 {
		used = readInt(filepath.Join(dir, usage))
	}
	return limit, used
}

// cgroupMemoryLimit is the smallest memory limit of the control group
// described by procCgroup (the text of /proc/self/cgroup) and of its
// ancestors, under the hierarchy mounted at root: memory.max for cgroup v2
// (at root, or root/unified on a hybrid system), memory.limit_in_bytes for
// v1's memory controller. It also returns the directory of the group that
// sets it and the name of its usage file there (memory.current, or v1's
// memory.usage_in_bytes). A limit of 0 means none was found.
func cgroupMemoryLimit(procCgroup []byte, root string) (limit int64, dir, usage string) {
	consider := func(d, file, usageFile string) {
		v := readInt(filepath.Join(d, file))
		if v <= 0 || v >= 1<<60 { // "max", v1's unlimited, or unreadable
			return
		}
		if limit == 0 || v < limit {
			limit, dir, usage = v, d, usageFile
		}
	}
	for _, line := range strings.Split(string(procCgroup), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		var roots []string
		var file, usageFile string
		switch {
		case parts[0] == "0" && parts[1] == "":
			roots, file, usageFile = []string{root, filepath.Join(root, "unified")}, "memory.max", "memory.current"
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			roots, file, usageFile = []string{filepath.Join(root, "memory")}, "memory.limit_in_bytes", "memory.usage_in_bytes"
		default:
			continue
		}
		for _, r := range roots {
			for p := filepath.Clean("/" + parts[2]); ; p = filepath.Dir(p) {
				consider(filepath.Join(r, p), file, usageFile)
				if p == "/" {
					break
				}
			}
		}
	}
	return limit, dir, usage
}

// readInt reads a file holding one integer; 0 if it cannot.
func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// machineMemory is the machine's memory in bytes, from /proc/meminfo; 0 if
// unknown.
func machineMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
