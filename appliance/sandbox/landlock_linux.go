//go:build linux

package sandbox

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// readDirs are the directories a worker may read beneath: the system's
// libraries and shared data (time zones, CA certificates; a cgo build's
// resolver loads NSS modules from there) and the usual CA bundle
// directories. Nothing in them is PiCloud's.
var readDirs = []string{
	"/usr", "/lib", "/lib64", "/lib32",
	"/etc/ssl/certs", "/etc/pki/tls/certs", "/etc/pki/ca-trust/extracted",
}

// readFiles are the single files of /etc a worker may read: what Go's
// resolver reads on every look-up (fetch), the time zone, the dynamic
// loader's cache, and the usual CA bundle files.
var readFiles = []string{
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
	"/etc/services", "/etc/protocols", "/etc/localtime", "/etc/ld.so.cache",
	"/etc/ssl/cert.pem", "/etc/ssl/ca-bundle.pem", "/etc/pki/tls/cacert.pem",
}

// envPaths name variables whose paths Go reads: CA certificates and the
// time zone database.
var envPaths = []string{"SSL_CERT_FILE", "SSL_CERT_DIR", "ZONEINFO"}

// landlockABI is the kernel's Landlock ABI version, or 0 and why not.
func landlockABI() (int, string) {
	v, err := ll.LandlockGetABIVersion()
	switch {
	case err != nil:
		return 0, "not available: " + err.Error()
	case v < 1:
		return 0, "not enabled in the kernel"
	}
	return min(v, maxABI), ""
}

// maxABI is the newest Landlock ABI this package's library knows.
const maxABI = 11

// restrictFiles makes the files of readPaths the only ones this process
// can read, and nothing writable, for all its threads; it also keeps it
// from signalling or reaching abstract Unix sockets of processes outside
// its domain. The network stays open (fetch). It returns the ABI version
// in force, or 0 and why none.
func restrictFiles() (int, string, error) {
	abi, note := landlockABI()
	if abi == 0 {
		return 0, note, nil
	}
	cfg := landlock.Config{HandledAccessFS: landlock.V11.HandledAccessFS, Scoped: landlock.V11.Scoped}.BestEffort()
	if err := cfg.Restrict(readRules()...); err != nil {
		return 0, "", err
	}
	return abi, "", nil
}

// readRules turns the readable paths that exist into Landlock rules:
// directories readable beneath, files readable alone.
func readRules() []landlock.Rule {
	var dirs, files []string
	for _, p := range readPaths() {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case fi.IsDir():
			dirs = append(dirs, p)
		default:
			files = append(files, p)
		}
	}
	var rules []landlock.Rule
	if len(dirs) > 0 {
		rules = append(rules, landlock.PathAccess(ll.AccessFSReadFile|ll.AccessFSReadDir, dirs...).IgnoreIfMissing())
	}
	if len(files) > 0 {
		rules = append(rules, landlock.PathAccess(ll.AccessFSReadFile, files...).IgnoreIfMissing())
	}
	return rules
}

// readPaths lists the paths to keep readable: the built-in ones, those
// named by Go's variables, and the directory of /etc/resolv.conf or
// /etc/hosts when a network manager keeps them under /run behind a
// symbolic link, since it replaces the file rather than rewriting it.
func readPaths() []string {
	paths := append(append([]string(nil), readDirs...), readFiles...)
	for _, name := range envPaths {
		for _, p := range filepath.SplitList(os.Getenv(name)) {
			if filepath.IsAbs(p) {
				paths = append(paths, p)
			}
		}
	}
	for _, f := range []string{"/etc/resolv.conf", "/etc/hosts"} {
		if t, err := filepath.EvalSymlinks(f); err == nil && t != f && strings.HasPrefix(t, "/run/") {
			paths = append(paths, filepath.Dir(t))
		}
	}
	return paths
}
