package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/picloud/picloud/api/secrets"
)

// Verify reads a whole backup and checks it, changing nothing: see read.
func Verify(r io.Reader, passphrase []byte, schemaVersion int) (*Contents, error) {
	return read(r, passphrase, schemaVersion, nil)
}

// RestoreOptions say how to restore a board backup.
type RestoreOptions struct {
	Passphrase    []byte
	SchemaVersion int
	// Box seals secrets with this board's key; nil when the board has
	// none (secrets are then left out).
	Box *secrets.Box
	// Force replaces a board that is not fresh.
	Force bool
	// Progress, if not nil, receives a line per restored table.
	Progress io.Writer
}

// Result says what a restore did.
type Result struct {
	Contents *Contents
	// Warnings say what was left out.
	Warnings []string
}

// ErrNotFresh means the board already has users, apps or scripts of its
// own, which a restore would replace.
var ErrNotFresh = errors.New("this board is not fresh")

// Restore replaces the board's contents with a board backup's, in one
// transaction: a restore that fails or is killed half-way changes
// nothing. open opens the file; it is read twice, to check all of it
// (Verify) before anything changes, then to apply it, checked again.
func Restore(ctx context.Context, pool *pgxpool.Pool, open func() (io.ReadCloser, error), opt RestoreOptions) (*Result, error) {
	c, err := readFile(open, opt, nil)
	if err != nil {
		return nil, err
	}
	if c.Header.Scope != ScopeBoard {
		return nil, fmt.Errorf("this is a backup of app %q, not of a board: restore it with --app", c.Header.App)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := prepare(ctx, tx, c, opt.Force); err != nil {
		return nil, err
	}
	res := &Result{}
	res.Contents, err = readFile(open, opt, func(th TableHeader, rows io.Reader) error {
		return copyIn(ctx, tx, th, rows, opt.Progress)
	})
	if err != nil {
		return nil, err
	}
	if res.Warnings, err = finish(ctx, tx, res.Contents, opt.Box); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("restore: commit: %w", err)
	}
	return res, nil
}

// readFile opens the file and reads it through.
func readFile(open func() (io.ReadCloser, error), opt RestoreOptions, each tableFunc) (*Contents, error) {
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(f, opt.Passphrase, opt.SchemaVersion, each)
}

// prepare checks that the board may be replaced and that every column of
// the backup exists here, then empties the board.
func prepare(ctx context.Context, tx pgx.Tx, c *Contents, force bool) error {
	if _, err := tx.Exec(ctx, snapshotSettings); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var users, apps, scripts int64
	err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM users),
		(SELECT count(*) FROM apps WHERE id <> '00000000-0000-0000-0000-000000000001'),
		(SELECT count(*) FROM scripts)`).Scan(&users, &apps, &scripts)
	if err != nil {
		return fmt.Errorf("restore: look at the board: %w", err)
	}
	if !force && users+apps+scripts > 0 {
		return fmt.Errorf("%w: it has %d users, %d apps besides the default one and %d scripts; restore onto a fresh board, or give --force to replace everything on it", ErrNotFresh, users, apps, scripts)
	}
	for _, th := range c.Tables {
		have, err := columns(ctx, tx, th.Name)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		for _, col := range th.Columns {
			if !slices.ContainsFunc(have, func(h Column) bool { return h.Name == col.Name }) {
				return fmt.Errorf("restore: the backup's table %s has a column %s which this board's has not", th.Name, col.Name)
			}
		}
	}
	return emptyBoard(ctx, tx)
}

// emptyBoard deletes every row of the backed-up tables and of the excluded
// ones not kept, the referencing tables first. DELETE rather than
// TRUNCATE, so that the triggers run (docs_indexes drops its indexes).
func emptyBoard(ctx context.Context, tx pgx.Tx) error {
	var names []string
	for _, t := range Tables {
		names = append(names, t.Name)
	}
	for _, e := range Excluded {
		if !e.Keep {
			names = append(names, e.Name)
		}
	}
	ordered, err := order(ctx, tx, names)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, n := range slices.Backward(ordered) {
		if _, err := tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{n}.Sanitize()); err != nil {
			return fmt.Errorf("restore: empty %s: %w", n, err)
		}
	}
	return nil
}

// copyIn copies one table's rows in.
func copyIn(ctx context.Context, tx pgx.Tx, th TableHeader, rows io.Reader, progress io.Writer) error {
	cols := make([]string, len(th.Columns))
	for i, c := range th.Columns {
		cols[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, rows, "COPY "+pgx.Identifier{th.Name}.Sanitize()+" ("+strings.Join(cols, ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("restore %s: %w", th.Name, err)
	}
	if progress != nil {
		fmt.Fprintf(progress, "restored %s: %d rows\n", th.Name, tag.RowsAffected())
	}
	return nil
}

// finish does what restored rows stand for: secrets sealed again with
// this board's key, each table's AfterRestore, sequences moved on.
func finish(ctx context.Context, tx pgx.Tx, c *Contents, box *secrets.Box) ([]string, error) {
	warnings, err := reseal(ctx, tx, c, box)
	if err != nil {
		return nil, err
	}
	for _, th := range c.Tables {
		t, _ := table(th.Name)
		if t.AfterRestore != "" {
			if _, err := tx.Exec(ctx, t.AfterRestore); err != nil {
				return nil, fmt.Errorf("restore %s: %w", th.Name, err)
			}
		}
		if err := advanceSequences(ctx, tx, th.Name); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	return warnings, nil
}

// reseal opens each restored secret with the backup's key and seals it
// with this board's; without the backup's key (no passphrase at backup)
// or this board's, the secrets are deleted and named in warnings.
func reseal(ctx context.Context, tx pgx.Tx, c *Contents, box *secrets.Box) ([]string, error) {
	if c.Rows["app_variables"] == 0 {
		return nil, nil
	}
	var from *secrets.Box
	if c.SecretsKey != nil {
		var err error
		if from, err = secrets.New(c.SecretsKey); err != nil {
			return nil, fmt.Errorf("restore secrets: %w", err)
		}
	}
	type secret struct {
		app, appName, name string
		sealed             []byte
	}
	rows, _ := tx.Query(ctx, `SELECT v.app_id::text, a.name, v.name, v.sealed FROM app_variables v JOIN apps a ON a.id = v.app_id WHERE v.secret ORDER BY 2, 3`)
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (secret, error) {
		var s secret
		return s, r.Scan(&s.app, &s.appName, &s.name, &s.sealed)
	})
	if err != nil {
		return nil, fmt.Errorf("restore secrets: %w", err)
	}
	var warnings []string
	for _, s := range all {
		if from == nil || box == nil {
			if _, err := tx.Exec(ctx, `DELETE FROM app_variables WHERE app_id = $1 AND name = $2`, s.app, s.name); err != nil {
				return nil, fmt.Errorf("restore secrets: %w", err)
			}
			why := "the backup was made without a passphrase"
			if box == nil {
				why = "this board has no secrets key (no data directory)"
			}
			warnings = append(warnings, fmt.Sprintf("secret %s of app %s left out: %s; set it again", s.name, s.appName, why))
			continue
		}
		plain, err := from.Open(s.app, s.name, s.sealed)
		if err != nil {
			return nil, fmt.Errorf("restore secret %s of app %s: %w", s.name, s.appName, err)
		}
		sealed, err := box.Seal(s.app, s.name, plain)
		if err != nil {
			return nil, fmt.Errorf("restore secret %s of app %s: %w", s.name, s.appName, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE app_variables SET sealed = $3 WHERE app_id = $1 AND name = $2`, s.app, s.name, sealed); err != nil {
			return nil, fmt.Errorf("restore secret %s of app %s: %w", s.name, s.appName, err)
		}
	}
	return warnings, nil
}
