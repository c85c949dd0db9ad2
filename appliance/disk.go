package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"syscall"
	"time"
)

// A disk is nearly full when less than lowDiskShare of it, or less than
// lowDiskBytes, is free: PostgreSQL then soon fails writes ("could not
// extend file"), and an SD card slows down long before.
const (
	lowDiskShare = 0.10
	lowDiskBytes = 100 << 20
)

// diskLow reports whether a file system of total bytes with free left is
// nearly full.
func diskLow(total, free int64) bool {
	return total > 0 && (float64(free) < lowDiskShare*float64(total) || free < lowDiskBytes)
}

// diskWarning is the warning for a nearly full disk, or "".
func diskWarning(total, free int64) string {
	if !diskLow(total, free) {
		return ""
	}
	return fmt.Sprintf("the disk holding PiCloud's data is nearly full (%s free of %s): saves and data writes fail when it is; "+
		"free space, or shorten the execution log (PICLOUD_LOG_RETENTION_HOURS, PICLOUD_LOG_MAX_RECORDS)",
		humanBytes(free), humanBytes(total))
}

// diskUsage is the size and free space of the file system holding dir.
func diskUsage(dir string) (total, free int64, err error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, 0, err
	}
	return int64(fs.Blocks) * int64(fs.Bsize), int64(fs.Bavail) * int64(fs.Bsize), nil // Bsize is int32 on 32-bit ARM
}

// lowDiskListener is told when the disk becomes nearly full and when it
// has room again.
type lowDiskListener interface{ SetLowDisk(bool) }

// watchDisk checks the data directory's file system every interval until
// ctx ends: it logs a warning when the disk becomes nearly full and when it
// has room again, and tells l.
func watchDisk(ctx context.Context, dir string, interval time.Duration, l lowDiskListener, logger *slog.Logger) {
	low := false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		total, free, err := diskUsage(dir)
		if err == nil && diskLow(total, free) != low {
			low = !low
			l.SetLowDisk(low)
			if low {
				logger.Warn(diskWarning(total, free), "component", "disk", "free_bytes", free, "total_bytes", total)
			} else {
				logger.Info("the disk holding PiCloud's data has room again", "component", "disk", "free_bytes", free, "total_bytes", total)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// humanBytes is n in B, KiB, MiB or GiB, for people.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 2; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMG"[exp])
}
