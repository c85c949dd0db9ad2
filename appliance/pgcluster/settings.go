package pgcluster

import (
	"sort"
	"strconv"
	"strings"
)

// baseSettings suit a Raspberry Pi Zero 2 W (512 MB RAM, SD card, power that
// may be cut at any moment). They are passed with -c on the command line, so
// postgresql.conf stays as initdb wrote it and package upgrades never conflict.
var baseSettings = [][2]string{
	// Reached only through the private socket directory.
	{"listen_addresses", ""},
	{"port", strconv.Itoa(port)},
	{"unix_socket_permissions", "0700"},
	{"cluster_name", "picloud"},

	// Memory.
	{"max_connections", "20"},
	{"superuser_reserved_connections", "2"},
	{"shared_buffers", "16MB"},
	{"work_mem", "2MB"},
	{"maintenance_work_mem", "16MB"},
	{"temp_buffers", "4MB"},
	{"effective_cache_size", "128MB"},
	{"huge_pages", "off"},
	{"jit", "off"},
	{"max_worker_processes", "4"},
	{"max_parallel_workers", "2"},
	{"max_parallel_workers_per_gather", "0"},
	{"max_parallel_maintenance_workers", "1"},
	{"autovacuum_max_workers", "2"},

	// Durability: a power cut must never corrupt data.
	{"fsync", "on"},
	{"full_page_writes", "on"},
	{"synchronous_commit", "on"},
	// Fewer, compressed writes spare the SD card.
	{"wal_compression", "on"},
	{"checkpoint_timeout", "15min"},
	{"max_wal_size", "256MB"},
	{"min_wal_size", "32MB"},

	// Logging to stderr, forwarded to slog by the parent.
	{"logging_collector", "off"},
	{"log_destination", "stderr"},
	{"log_line_prefix", ""},
	{"log_checkpoints", "off"},
	// Failing statements go back to their client; do not copy their text
	// (and the user data in it) into the system log.
	{"log_min_error_statement", "panic"},
	{"lc_messages", "C"},
}

// ephemeralSettings trade durability for speed in throwaway test clusters.
var ephemeralSettings = [][2]string{
	{"fsync", "off"},
	{"full_page_writes", "off"},
	{"synchronous_commit", "off"},
	{"wal_compression", "off"}, // CPU, when WAL volume does not matter
}

// serverArgs is the postgres command line.
func (c *Cluster) serverArgs(socketDir string) []string {
	args := []string{"-D", c.cfg.DataDir}
	add := func(name, value string) { args = append(args, "-c", name+"="+value) }
	for _, s := range baseSettings {
		add(s[0], s[1])
	}
	// Quoted: a list setting, and the path may hold commas or spaces.
	add("unix_socket_directories", `"`+strings.ReplaceAll(socketDir, `"`, `""`)+`"`)
	if c.cfg.Ephemeral {
		for _, s := range ephemeralSettings {
			add(s[0], s[1])
		}
	}
	names := make([]string, 0, len(c.cfg.Settings))
	for name := range c.cfg.Settings {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		add(name, c.cfg.Settings[name]) // the last -c of a name wins
	}
	return args
}
