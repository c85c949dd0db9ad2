package appliance

import (
	"bufio"
	"log/slog"
	"os"
	"runtime/debug"
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
		limit = memTotal() / 4
	}
	if limit > 0 {
		debug.SetMemoryLimit(limit)
		log.Debug("runtime tuned", "gc_percent", cfg.GCPercent, "memory_limit_mb", limit>>20)
	}
}

// memTotal is the machine's memory in bytes, from /proc/meminfo; 0 if unknown.
func memTotal() int64 {
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
