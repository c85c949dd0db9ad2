package migrations

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// MigrationError reports a migration file that failed. Its message names the
// file, the line PostgreSQL pointed at, PostgreSQL's message, detail and hint,
// and the version the database is still at.
type MigrationError struct {
	File            string // e.g. "0002_kv.sql"
	Version         int    // the file's number
	Line, Column    int    // where in the file PostgreSQL located the error; 0 if it did not
	LineText        string // that line of the file, trimmed
	DatabaseVersion int    // the schema version the database is still at
	Err             error  // usually a *pgconn.PgError
}

func newMigrationError(f file, dbVersion int, err error) *MigrationError {
	e := &MigrationError{File: f.filename, Version: f.version, DatabaseVersion: dbVersion, Err: err}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Position > 0 {
		e.Line, e.Column, e.LineText = locate(f.sql, int(pgErr.Position))
	}
	return e
}

func (e *MigrationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "migration %s failed", e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, " at line %d, column %d", e.Line, e.Column)
	}
	b.WriteString(": ")
	var pgErr *pgconn.PgError
	if errors.As(e.Err, &pgErr) {
		fmt.Fprintf(&b, "%s: %s (SQLSTATE %s)", pgErr.Severity, pgErr.Message, pgErr.Code)
		if e.LineText != "" {
			fmt.Fprintf(&b, "; line %d reads %q", e.Line, e.LineText)
		}
		if pgErr.Detail != "" {
			b.WriteString("; detail: " + pgErr.Detail)
		}
		if pgErr.Hint != "" {
			b.WriteString("; hint: " + pgErr.Hint)
		}
		if pgErr.Where != "" {
			b.WriteString("; context: " + oneLine(pgErr.Where))
		}
		if pgErr.InternalQuery != "" {
			fmt.Fprintf(&b, "; in the query %q at character %d", oneLine(pgErr.InternalQuery), pgErr.InternalPosition)
		}
	} else {
		b.WriteString(e.Err.Error())
	}
	fmt.Fprintf(&b, "; the database is still at version %d: fix %s and start again", e.DatabaseVersion, e.File)
	return b.String()
}

func (e *MigrationError) Unwrap() error { return e.Err }

// locate turns PostgreSQL's 1-based character position in sql into a line,
// a column and the text of that line.
func locate(sql string, pos int) (line, col int, text string) {
	line, col = 1, 1
	n := 0
	for _, r := range sql {
		n++
		if n == pos {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	lines := strings.Split(sql, "\n")
	if line <= len(lines) {
		text = strings.TrimSpace(lines[line-1])
		if r := []rune(text); len(r) > 120 {
			text = string(r[:120]) + "…"
		}
	}
	return line, col, text
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
