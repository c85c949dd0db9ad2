package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// minMajor is the oldest PostgreSQL PiCloud supports (DROP DATABASE ... WITH
// (FORCE), gen_random_uuid() built in).
const minMajor = 13

// debianLibDir is where Debian's postgresql-<major> packages put the server.
var debianLibDir = "/usr/lib/postgresql"

const installHint = "install Debian's postgresql package: apt-get install postgresql"

// binaries is a directory holding initdb and postgres, and their version.
type binaries struct {
	dir     string
	major   int
	version string // e.g. "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
}

func (b binaries) path(name string) string { return filepath.Join(b.dir, name) }

// findBinaries picks the server binaries: override if given, else the
// installed major matching the data directory (dataMajor, 0 if none) if there
// is one, else the newest installed major >= 13.
func findBinaries(override string, dataMajor int, log *slog.Logger) (binaries, error) {
	if override != "" {
		b, err := inspectBinDir(override)
		if err != nil {
			return binaries{}, fmt.Errorf("PostgreSQL BinDir: %w", err)
		}
		if b.major < minMajor {
			return binaries{}, fmt.Errorf("PostgreSQL in %s is version %d; PiCloud needs %d or newer", b.dir, b.major, minMajor)
		}
		return b, nil
	}

	var found, old []binaries
	var clientOnly []string
	for _, dir := range candidateBinDirs() {
		b, err := inspectBinDir(dir)
		switch {
		case errors.Is(err, errNoServer):
			clientOnly = append(clientOnly, dir)
		case err != nil:
			log.Debug("skip PostgreSQL directory", "dir", dir, "error", err)
		case b.major < minMajor:
			old = append(old, b)
		default:
			found = append(found, b)
		}
	}
	if len(found) == 0 {
		switch {
		case len(old) > 0:
			return binaries{}, fmt.Errorf("found only PostgreSQL %d (%s), but PiCloud needs %d or newer: %s", old[0].major, old[0].dir, minMajor, installHint)
		case len(clientOnly) > 0:
			return binaries{}, fmt.Errorf("found only PostgreSQL client tools in %s, no server (initdb, postgres): %s", strings.Join(clientOnly, ", "), installHint)
		}
		return binaries{}, fmt.Errorf("no PostgreSQL server found (looked in %s/<version>/bin and `pg_config --bindir`): %s", debianLibDir, installHint)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].major > found[j].major })
	if dataMajor > 0 && dataMajor != found[0].major {
		for _, b := range found {
			if b.major == dataMajor {
				log.Info("using the PostgreSQL version the data directory was created with; a newer one is installed (upgrade with pg_upgrade to use it)",
					"version", b.major, "newest", found[0].major)
				return b, nil
			}
		}
	}
	return found[0], nil
}

// candidateBinDirs lists /usr/lib/postgresql/*/bin and pg_config --bindir,
// without duplicates.
func candidateBinDirs() []string {
	var dirs []string
	seen := map[string]bool{}
	add := func(d string) {
		if d == "" {
			return
		}
		if real, err := filepath.EvalSymlinks(d); err == nil {
			d = real
		}
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(debianLibDir, "*", "bin"))
	for _, m := range matches {
		add(m)
	}
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, pgConfig, "--bindir").Output(); err == nil {
			add(strings.TrimSpace(string(out)))
		}
	}
	return dirs
}

var errNoServer = errors.New("no initdb/postgres (client tools only?)")

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// inspectBinDir checks dir holds initdb and postgres and asks postgres its
// version.
func inspectBinDir(dir string) (binaries, error) {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return binaries{}, fmt.Errorf("%s: %w", dir, errNoServer)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return binaries{}, fmt.Errorf("run %s --version: %w", filepath.Join(dir, "postgres"), err)
	}
	version := strings.TrimSpace(string(out))
	m := versionRE.FindStringSubmatch(version)
	if m == nil {
		return binaries{}, fmt.Errorf("unrecognised version %q from %s/postgres", version, dir)
	}
	major, _ := strconv.Atoi(m[1])
	return binaries{dir: dir, major: major, version: version}, nil
}

// dataDirMajor reads PG_VERSION of an existing cluster: 0 if there is none,
// -1 if it is unreadable or not a plain major (e.g. "9.6").
func dataDirMajor(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return n
}
