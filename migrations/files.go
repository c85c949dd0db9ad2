// Package migrations holds PiCloud's database schema as numbered SQL files
// (NNNN_name.sql), embedded in the binary and applied at start-up.
//
// Each file runs in its own transaction, recorded in schema_migrations in the
// same transaction, so a file is applied entirely or not at all. A file must
// therefore not contain BEGIN/COMMIT or statements that cannot run in a
// transaction (CREATE INDEX CONCURRENTLY). Applied files must never change:
// add a new file instead.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.sql
var embedded embed.FS

// file is one migration file.
type file struct {
	version  int
	name     string // "init" for 0001_init.sql
	filename string
	sql      string
}

var fileName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// load reads and checks the migration files at the root of fsys, in version
// order. Badly named .sql files and duplicate numbers are refused.
func load(fsys fs.FS) ([]file, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: list files: %w", err)
	}
	var files []file
	seen := map[int]string{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.EqualFold(path.Ext(n), ".sql") {
			continue
		}
		m := fileName.FindStringSubmatch(n)
		if m == nil {
			return nil, fmt.Errorf("migrations: badly named file %q: want NNNN_name.sql (four digits, then lower-case letters, digits and _)", n)
		}
		version, _ := strconv.Atoi(m[1])
		if version == 0 {
			return nil, fmt.Errorf("migrations: %s: numbering starts at 0001", n)
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrations: %s and %s have the same number %04d: renumber the newer one", other, n, version)
		}
		seen[version] = n
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("migrations: read %s: %w", n, err)
		}
		files = append(files, file{version: version, name: m[2], filename: n, sql: string(body)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].version < files[j].version })
	return files, nil
}

// Latest is the newest schema version this binary knows (e.g. for /version),
// or 0 if the embedded files are unusable (Apply reports why; tests make sure
// they are not).
func Latest() int {
	files, err := load(embedded)
	if err != nil || len(files) == 0 {
		return 0
	}
	return files[len(files)-1].version
}
