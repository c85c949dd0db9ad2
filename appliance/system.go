package appliance

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/appliance/workers"
)

// systemStatus reports the board's and the daemon's health from /proc,
// /sys, the data directory's file system, the database and the executor
// pool, each app's data against its storage quota, and the scripts' open
// transactions from ds (when not nil); what the board does not expose is
// left out.
func systemStatus(cfg config.Config, started time.Time, st *store.Store, exec Executor, ds *data.Service) func(ctx context.Context) (model.SystemStatus, error) {
	return func(ctx context.Context) (model.SystemStatus, error) {
		s := model.SystemStatus{StartedAt: started.UTC(), UptimeSeconds: int64(time.Since(started).Seconds()),
			CPUs: runtime.NumCPU(), ExecutorMode: cfg.Executors.Mode}
		if f := readFields("/proc/uptime"); len(f) > 0 {
			up, _ := strconv.ParseFloat(f[0], 64)
			s.BootUptimeSeconds = int64(up)
		}
		if f := readFields("/proc/loadavg"); len(f) >= 3 {
			for _, v := range f[:3] {
				l, _ := strconv.ParseFloat(v, 64)
				s.Load = append(s.Load, l)
			}
		}
		s.TemperatureC = cpuTemperature()
		mem := meminfo()
		s.MemoryTotalBytes, s.MemoryAvailBytes = mem["MemTotal"], mem["MemAvailable"]
		// In a control group with a memory limit (a container, MemoryMax=)
		// the daemon has the group's memory, not the machine's.
		if limit, used := cgroupMemory(); limit > 0 && limit < s.MemoryTotalBytes {
			s.MemoryTotalBytes = limit
			s.MemoryAvailBytes = min(s.MemoryAvailBytes, max(limit-used, 0))
		}
		if cfg.DataDir != "" {
			var fs syscall.Statfs_t
			if syscall.Statfs(cfg.DataDir, &fs) == nil {
				s.DiskPath = cfg.DataDir
				s.DiskTotalBytes = int64(fs.Blocks) * int64(fs.Bsize) // Bsize is int32 on 32-bit ARM
				s.DiskFreeBytes = int64(fs.Bavail) * int64(fs.Bsize)
				if w := diskWarning(s.DiskTotalBytes, s.DiskFreeBytes); w != "" {
					s.Warnings = append(s.Warnings, w)
				}
			}
		}
		if n, err := st.DatabaseSize(ctx); err == nil {
			s.DatabaseBytes = n
		}
		if f := readFields("/proc/self/statm"); len(f) > 1 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			s.DaemonRSSBytes = pages * int64(os.Getpagesize())
		}
		s.Workers = []model.WorkerStatus{}
		if pool, ok := exec.(*workers.Pool); ok {
			for _, w := range pool.Status() {
				ws := model.WorkerStatus{Index: w.Index, PID: w.PID, RSSBytes: w.RSSBytes, Restarts: w.Restarts}
				if !w.StartedAt.IsZero() {
					at := w.StartedAt.UTC()
					ws.StartedAt = &at
				}
				if w.LastCode != "" {
					ws.LastExit = &model.WorkerExit{Code: w.LastCode, Reason: w.LastReason, At: w.LastAt.UTC()}
				}
				s.Workers = append(s.Workers, ws)
			}
		}
		if apps, err := st.AppsStorage(ctx); err == nil {
			def := int64(cfg.Sandbox.StorageMB) << 20
			if ds != nil && ds.DefaultStorageQuota() > 0 {
				def = ds.DefaultStorageQuota() // as a reload left it
			}
			for _, a := range apps {
				a.QuotaBytes = def
				if a.OwnQuotaBytes != nil {
					a.QuotaBytes = *a.OwnQuotaBytes
				}
				s.Storage = append(s.Storage, a)
			}
		}
		if c, err := st.CountAppUsers(ctx); err == nil {
			s.AppUsers = &c
		}
		if ds != nil {
			if open, max := ds.Transactions(); max > 0 {
				s.Transactions = &model.TransactionsStatus{Open: open, Max: max}
			}
		}
		return s, nil
	}
}

// readFields returns the whitespace-separated fields of a small file.
func readFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// meminfo reads /proc/meminfo in bytes.
func meminfo() map[string]int64 {
	out := map[string]int64{}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		if len(fields) > 1 && fields[1] == "kB" {
			n *= 1024
		}
		out[k] = n
	}
	return out
}

// cpuTemperature reads the CPU's thermal zone (a Pi has cpu-thermal), in
// degrees Celsius; nil where the kernel has none.
func cpuTemperature() *float64 {
	zones, _ := filepath.Glob("/sys/class/thermal/thermal_zone*")
	var best string
	for _, z := range zones {
		kind := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(z, "type")))))
		if best == "" || strings.Contains(kind, "cpu") || strings.Contains(kind, "soc") || kind == "x86_pkg_temp" {
			best = z
		}
	}
	if best == "" {
		return nil
	}
	f := readFields(filepath.Join(best, "temp"))
	if len(f) == 0 {
		return nil
	}
	milli, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return nil
	}
	c := milli / 1000
	return &c
}

func must(b []byte, _ error) []byte { return b }
