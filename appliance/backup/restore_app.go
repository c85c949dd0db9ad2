package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/api/secrets"
)

// AppPlan says what restoring an app backup does (or did).
type AppPlan struct {
	// Name is the app's name in the backup, As its name here: another
	// when the name is taken.
	Name, As string
	// ID is the app's new id.
	ID string
	// Domains are the claims restored; Refused those left out, each with
	// the app already claiming it.
	Domains []string
	Refused []string
	Rows    map[string]int64
	// Warnings say what else was left out.
	Warnings []string
}

// Renamed reports whether the app takes another name than in the backup.
func (p AppPlan) Renamed() bool { return p.Name != p.As }

// RestoreApp adds the app of an app backup to the board, next to the apps
// there (its original too): new ids for all its rows, references
// remapped, renamed when its name is taken, each domain claim that
// another app holds left out. One transaction; the file is read whole and
// checked first. With dryRun it rolls back and only returns the plan.
func RestoreApp(ctx context.Context, pool *pgxpool.Pool, open func() (io.ReadCloser, error), opt RestoreOptions, dryRun bool) (*AppPlan, error) {
	c, err := readFile(open, opt, nil)
	if err != nil {
		return nil, err
	}
	if c.Header.Scope != ScopeApp {
		return nil, errors.New("this is a backup of a board, not of one app: restore it without --app")
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, snapshotSettings); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if c, err = readFile(open, opt, func(th TableHeader, rows io.Reader) error {
		return stage(ctx, tx, th, rows)
	}); err != nil {
		return nil, err
	}
	plan := &AppPlan{Name: c.Header.App, Rows: c.Rows}
	if err := planApp(ctx, tx, c, plan); err != nil {
		return nil, err
	}
	for _, th := range c.Tables {
		if err := insertStaged(ctx, tx, th, plan.As); err != nil {
			return nil, err
		}
	}
	if err := finishApp(ctx, tx, c, plan, opt.Box); err != nil {
		return nil, err
	}
	details, _ := json.Marshal(map[string]any{"from": plan.Name, "refused_domains": plan.Refused, "backup_of": c.Header.CreatedAt})
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (channel, remote, action, app_id, target, details)
		VALUES ('terminal', 'local', 'app.restore', $1, $2, $3::jsonb)`, plan.ID, plan.As, string(details)); err != nil {
		return nil, fmt.Errorf("restore: audit: %w", err)
	}
	if dryRun {
		return plan, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("restore: commit: %w", err)
	}
	return plan, nil
}

func stageName(table string) string { return pgx.Identifier{"restore_" + table}.Sanitize() }
func mapName(table string) string   { return pgx.Identifier{"restore_map_" + table}.Sanitize() }

// stage copies a table's rows into a temporary table of the same columns.
func stage(ctx context.Context, tx pgx.Tx, th TableHeader, rows io.Reader) error {
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s (LIKE %s) ON COMMIT DROP", stageName(th.Name), pgx.Identifier{th.Name}.Sanitize())); err != nil {
		return fmt.Errorf("restore %s: %w", th.Name, err)
	}
	cols := make([]string, len(th.Columns))
	for i, c := range th.Columns {
		cols[i] = pgx.Identifier{c.Name}.Sanitize()
	}
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, rows, "COPY "+stageName(th.Name)+" ("+strings.Join(cols, ", ")+") FROM STDIN"); err != nil {
		return fmt.Errorf("restore %s: %w", th.Name, err)
	}
	return nil
}

// planApp picks the app's name, maps every NewID to a fresh id, and
// leaves out the domain claims that another app holds.
func planApp(ctx context.Context, tx pgx.Tx, c *Contents, plan *AppPlan) error {
	plan.As = plan.Name
	for n := 1; ; n++ {
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM apps WHERE name = $1)`, plan.As).Scan(&taken); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if !taken {
			break
		}
		plan.As = plan.Name + "-restored"
		if n > 1 {
			plan.As = fmt.Sprintf("%s-restored-%d", plan.Name, n)
		}
	}
	for _, th := range c.Tables {
		t, _ := table(th.Name)
		if t.NewID == "" {
			continue
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT %s AS old, gen_random_uuid() AS new FROM %s",
			mapName(th.Name), pgx.Identifier{t.NewID}.Sanitize(), stageName(th.Name))); err != nil {
			return fmt.Errorf("restore %s: %w", th.Name, err)
		}
	}
	if err := tx.QueryRow(ctx, "SELECT new::text FROM "+mapName("apps")).Scan(&plan.ID); err != nil {
		return fmt.Errorf("restore: the backup holds no app: %w", err)
	}
	if c.Rows["domains"] == 0 {
		return nil
	}
	rows, _ := tx.Query(ctx, `DELETE FROM `+stageName("domains")+` d USING domains x JOIN apps a ON a.id = x.app_id
		WHERE x.shape = d.shape RETURNING d.pattern || ' (claimed by app ' || a.name || ')'`)
	refused, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("restore domains: %w", err)
	}
	plan.Refused = refused
	rows, _ = tx.Query(ctx, `SELECT pattern FROM `+stageName("domains")+` ORDER BY pattern`)
	if plan.Domains, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fmt.Errorf("restore domains: %w", err)
	}
	return nil
}

// insertStaged inserts a staged table's rows with their ids remapped.
func insertStaged(ctx context.Context, tx pgx.Tx, th TableHeader, name string) error {
	t, _ := table(th.Name)
	cols := make([]string, len(th.Columns))
	exprs := make([]string, len(th.Columns))
	for i, col := range th.Columns {
		id := pgx.Identifier{col.Name}.Sanitize()
		cols[i] = id
		switch {
		case th.Name == "apps" && col.Name == "name":
			exprs[i] = "$1::text"
		case col.Name == t.NewID:
			exprs[i] = fmt.Sprintf("(SELECT new FROM %s WHERE old = s.%s)", mapName(th.Name), id)
		case t.Refs[col.Name] != "":
			exprs[i] = fmt.Sprintf("(SELECT new FROM %s WHERE old = s.%s)", mapName(t.Refs[col.Name]), id)
		case slices.Contains(t.Clear, col.Name):
			exprs[i] = "NULL"
		default:
			exprs[i] = "s." + id
		}
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s s", pgx.Identifier{th.Name}.Sanitize(),
		strings.Join(cols, ", "), strings.Join(exprs, ", "), stageName(th.Name))
	args := []any{}
	if strings.Contains(q, "$1") {
		args = append(args, name)
	}
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("restore %s: %w", th.Name, err)
	}
	return nil
}

// finishApp renames the app's docs indexes after its new id, seals its
// secrets again for it, then does each table's AfterRestore and moves the
// sequences on.
func finishApp(ctx context.Context, tx pgx.Tx, c *Contents, plan *AppPlan, box *secrets.Box) error {
	if err := renameIndexes(ctx, tx, plan.ID); err != nil {
		return err
	}
	warnings, err := resealApp(ctx, tx, c, plan.ID, box)
	if err != nil {
		return err
	}
	plan.Warnings = warnings
	for _, th := range c.Tables {
		t, _ := table(th.Name)
		if t.AfterRestore != "" {
			if _, err := tx.Exec(ctx, t.AfterRestore); err != nil {
				return fmt.Errorf("restore %s: %w", th.Name, err)
			}
		}
		if err := advanceSequences(ctx, tx, th.Name); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// renameIndexes names the app's docs indexes as ensureIndex names them
// for its new id, so that its scripts find them.
func renameIndexes(ctx context.Context, tx pgx.Tx, appID string) error {
	type ix struct {
		name, collection, paths string
		unique                  bool
	}
	rows, _ := tx.Query(ctx, `SELECT name, collection, paths::text, is_unique FROM docs_indexes WHERE app_id = $1`, appID)
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ix, error) {
		var x ix
		return x, r.Scan(&x.name, &x.collection, &x.paths, &x.unique)
	})
	if err != nil {
		return fmt.Errorf("restore docs indexes: %w", err)
	}
	for _, x := range all {
		var paths []model.DocsPath
		if err := json.Unmarshal([]byte(x.paths), &paths); err != nil {
			return fmt.Errorf("restore docs index %s: %w", x.name, err)
		}
		name := data.IndexName(appID, x.collection, paths, x.unique)
		if _, err := tx.Exec(ctx, `UPDATE docs_indexes SET name = $2 WHERE app_id = $1 AND name = $3`, appID, name, x.name); err != nil {
			return fmt.Errorf("restore docs index %s: %w", x.name, err)
		}
	}
	return nil
}

// resealApp opens the app's secrets with the backup's key and its old id,
// and seals them with this board's key and its new id; without either
// key they are deleted and named in warnings.
func resealApp(ctx context.Context, tx pgx.Tx, c *Contents, appID string, box *secrets.Box) ([]string, error) {
	var from *secrets.Box
	if c.SecretsKey != nil {
		var err error
		if from, err = secrets.New(c.SecretsKey); err != nil {
			return nil, fmt.Errorf("restore secrets: %w", err)
		}
	}
	type secret struct {
		name   string
		sealed []byte
	}
	rows, _ := tx.Query(ctx, `SELECT name, sealed FROM app_variables WHERE app_id = $1 AND secret ORDER BY name`, appID)
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (secret, error) {
		var s secret
		return s, r.Scan(&s.name, &s.sealed)
	})
	if err != nil {
		return nil, fmt.Errorf("restore secrets: %w", err)
	}
	var warnings []string
	for _, s := range all {
		if from == nil || box == nil {
			if _, err := tx.Exec(ctx, `DELETE FROM app_variables WHERE app_id = $1 AND name = $2`, appID, s.name); err != nil {
				return nil, fmt.Errorf("restore secrets: %w", err)
			}
			warnings = append(warnings, fmt.Sprintf("secret %s left out: the backup was made without a passphrase, or this board has no secrets key; set it again", s.name))
			continue
		}
		plain, err := from.Open(c.Header.AppID, s.name, s.sealed)
		if err != nil {
			return nil, fmt.Errorf("restore secret %s: %w", s.name, err)
		}
		sealed, err := box.Seal(appID, s.name, plain)
		if err != nil {
			return nil, fmt.Errorf("restore secret %s: %w", s.name, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE app_variables SET sealed = $3 WHERE app_id = $1 AND name = $2`, appID, s.name, sealed); err != nil {
			return nil, fmt.Errorf("restore secret %s: %w", s.name, err)
		}
	}
	return warnings, nil
}
