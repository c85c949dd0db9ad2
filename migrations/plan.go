package migrations

import (
	"fmt"
	"sort"
)

// plan compares the files with the recorded migrations (version -> name) and
// returns the files to apply, in order, and the database's current version.
// It refuses a database that is ahead of the files (a downgrade) or that does
// not match them.
func plan(files []file, recorded map[int]string) (pending []file, current int, err error) {
	known := make(map[int]file, len(files))
	latest := 0
	for _, f := range files {
		known[f.version] = f
		latest = max(latest, f.version)
	}
	versions := make([]int, 0, len(recorded))
	for v := range recorded {
		versions = append(versions, v)
		current = max(current, v)
	}
	sort.Ints(versions)

	if current > latest {
		return nil, current, fmt.Errorf("migrations: the database is at schema version %d (%04d_%s), newer than this picloud knows (%d): "+
			"it was used by a newer picloud. Install that version again, or restore a backup taken before the upgrade; downgrading is not supported",
			current, current, recorded[current], latest)
	}
	for _, v := range versions {
		f, ok := known[v]
		switch {
		case !ok:
			return nil, current, fmt.Errorf("migrations: the database has migration %04d_%s applied, but this picloud has no file %04d: "+
				"was a migration file deleted or renumbered? Restore it", v, recorded[v], v)
		case f.name != recorded[v]:
			return nil, current, fmt.Errorf("migrations: the database recorded migration %04d as %q, but this picloud's file is %s: "+
				"two migrations share a number, or an applied file was renamed; give the new one the next free number (or restore the old name)",
				v, recorded[v], f.filename)
		}
	}
	for _, f := range files {
		if _, done := recorded[f.version]; done {
			continue
		}
		if f.version < current {
			return nil, current, fmt.Errorf("migrations: %s is not applied, but the database is already at version %d: "+
				"a migration was added below the newest applied one (a merge?); renumber it after %04d",
				f.filename, current, latest)
		}
		pending = append(pending, f)
	}
	return pending, current, nil
}
