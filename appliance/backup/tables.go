package backup

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Table is one table that backups hold. Its columns come from the
// database's catalog when the backup is taken, and the order tables are
// written and restored in from its foreign keys, so that adding a table
// to backups is one line here.
type Table struct {
	// Name is the table's name in the public schema.
	Name string
	// AppColumn is the column holding the id of the app a row belongs to;
	// AppWhere, when the app is reached through another table, is the SQL
	// condition selecting one app's rows, with $app for the app's id. A
	// table with neither is in board backups only.
	AppColumn, AppWhere string
	// BoardOnly keeps an app-scoped table out of app backups (its rows
	// name users, which app backups do not hold).
	BoardOnly bool
	// AfterRestore is SQL run once the table's rows are restored, in the
	// restore's transaction: what the rows stand for beyond themselves.
	AfterRestore string
	// An app restored next to others gets new ids: NewID is the column
	// that gets a fresh one per row, Refs maps each column holding ids
	// of another table's rows to that table (whose NewID it follows), and
	// Clear are columns set to null (they name rows app backups do not
	// hold, such as users).
	NewID string
	Refs  map[string]string
	Clear []string
}

// app is Refs' usual entry: the row's app.
var app = map[string]string{"app_id": "apps"}

// Tables are the tables that backups hold.
var Tables = []Table{
	{Name: "apps", AppColumn: "id", NewID: "id"},
	{Name: "settings"},
	{Name: "domains", AppColumn: "app_id", NewID: "id", Refs: app},
	{Name: "users"},
	{Name: "app_roles", AppColumn: "app_id", BoardOnly: true},
	{Name: "ssh_keys"},
	{Name: "scripts", AppColumn: "app_id", NewID: "id", Refs: app},
	{Name: "script_versions", AppWhere: "script_id IN (SELECT id FROM scripts WHERE app_id = $app)",
		Refs: map[string]string{"script_id": "scripts"}, Clear: []string{"created_by"}},
	{Name: "routes", AppColumn: "app_id", NewID: "id", Refs: map[string]string{"app_id": "apps", "script_id": "scripts"}},
	{Name: "app_variables", AppColumn: "app_id", Refs: app},
	{Name: "kv_entries", AppColumn: "app_id", Refs: app},
	{Name: "docs_documents", AppColumn: "app_id", Refs: app},
	// An index's row stands for a real index on docs_documents, which
	// the server-side function makes again (IF NOT EXISTS: an app
	// restored next to others makes only its own).
	{Name: "docs_indexes", AppColumn: "app_id", Refs: app,
		AfterRestore: "SELECT docs_create_index(name, app_id, collection, paths, is_unique) FROM docs_indexes"},
	{Name: "app_limits", AppColumn: "app_id", Refs: app},
	{Name: "app_email_senders", AppColumn: "app_id", Refs: app},
	// A trigger's runs are River's jobs, which backups leave out: the
	// restored board's job engine plans each trigger's next run when it
	// starts (or, after picloud restore --app, on the reload it asks
	// for). The lease of a run in progress does not travel.
	{Name: "triggers", AppColumn: "app_id", NewID: "id", Refs: map[string]string{"app_id": "apps", "script_id": "scripts"},
		Clear: []string{"running_until"}},
	// The users of apps, with their password hashes: an app's users are
	// part of the app, restored with it.
	{Name: "app_users", AppColumn: "app_id", NewID: "id", Refs: app},
	{Name: "interceptors", AppColumn: "app_id", NewID: "id", Refs: map[string]string{"app_id": "apps", "script_id": "scripts"}},
	// Queue messages are data: a restored board delivers them. A lease
	// does not travel: a message in flight is ready again.
	{Name: "queue_messages", AppColumn: "app_id", NewID: "id", Refs: app, Clear: []string{"leased_until"}},
	// The email outbox: a restored board sends what was still queued (a
	// message in delivery when the backup was taken may go out twice).
	{Name: "email_outbox", AppColumn: "app_id", NewID: "id", Refs: app},
	// Received email: a restored board delivers what was still queued (a
	// message in delivery when the backup was taken may come twice).
	{Name: "email_inbox", AppColumn: "app_id", NewID: "id",
		Refs: map[string]string{"app_id": "apps", "script_id": "scripts", "trigger_id": "triggers"}},
	{Name: "audit_log"},
}

// Excluded are the tables that backups leave out, and why. A full restore
// empties them, except those with Keep.
var Excluded = []struct {
	Name, Why string
	Keep      bool
}{
	{Name: "sessions", Why: "credentials: a restored board signs everyone in again"},
	{Name: "api_tokens", Why: "credentials: tokens are made again on the restored board"},
	{Name: "setup_token", Why: "credentials: a board with users needs none"},
	{Name: "app_user_tokens", Why: "credentials: app users log in again; verification and reset tokens are asked for anew"},
	{Name: "execution_logs", Why: "history, and large"},
	{Name: "metric_rollups", Why: "history"},
	{Name: "script_capture", Why: "request capture starts off on a restored board"},
	{Name: "captured_requests", Why: "captured requests are what the public sent, kept for a while, not state"},
	{Name: "schema_migrations", Why: "the restoring build's own migrations", Keep: true},
	{Name: "river_migration", Why: "the job engine's schema, the restoring build's own migrations", Keep: true},
	{Name: "river_job", Why: "the job engine's state: the restored board plans its triggers' next runs anew"},
	{Name: "river_leader", Why: "the job engine's state"},
	{Name: "river_queue", Why: "the job engine's state"},
	{Name: "river_notification", Why: "the job engine's state"},
}

// table returns the Table named name.
func table(name string) (Table, bool) {
	i := slices.IndexFunc(Tables, func(t Table) bool { return t.Name == name })
	if i < 0 {
		return Table{}, false
	}
	return Tables[i], true
}

// inScope reports whether t is in a backup of that scope.
func (t Table) inScope(scope string) bool {
	return scope == ScopeBoard || (!t.BoardOnly && (t.AppColumn != "" || t.AppWhere != ""))
}

// where is the SQL condition selecting app appID's rows ("" for a board).
func (t Table) where(appID string) string {
	if appID == "" {
		return ""
	}
	lit := "'" + strings.ReplaceAll(appID, "'", "''") + "'::uuid"
	if t.AppWhere != "" {
		return strings.ReplaceAll(t.AppWhere, "$app", lit)
	}
	return pgx.Identifier{t.AppColumn}.Sanitize() + " = " + lit
}

// columns returns a table's columns as the catalog has them, in order;
// generated columns are left out (they are computed again).
func columns(ctx context.Context, q pgx.Tx, name string) ([]Column, error) {
	rows, err := q.Query(ctx, `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a
		WHERE a.attrelid = to_regclass('public.' || quote_ident($1)) AND a.attnum > 0
		  AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY a.attnum`, name)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", name, err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Column, error) {
		var c Column
		return c, r.Scan(&c.Name, &c.Type)
	})
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", name, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("the database has no table %s", name)
	}
	return cols, nil
}

// order sorts names so that every table comes after the tables its foreign
// keys reference (the catalog's), keeping the given order otherwise.
func order(ctx context.Context, q pgx.Tx, names []string) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE c.contype = 'f' AND n.nspname = 'public'`)
	if err != nil {
		return nil, fmt.Errorf("read the foreign keys: %w", err)
	}
	deps := map[string][]string{}
	var from, to string
	_, err = pgx.ForEachRow(rows, []any{&from, &to}, func() error {
		if from != to {
			deps[from] = append(deps[from], to)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the foreign keys: %w", err)
	}
	placed := map[string]bool{}
	out := make([]string, 0, len(names))
	for len(out) < len(names) {
		progress := false
		for _, n := range names {
			if placed[n] || slices.ContainsFunc(deps[n], func(d string) bool { return slices.Contains(names, d) && !placed[d] }) {
				continue
			}
			placed[n], progress = true, true
			out = append(out, n)
			break
		}
		if !progress {
			return nil, fmt.Errorf("the foreign keys between %v form a cycle", names)
		}
	}
	return out, nil
}

// nextval finds the sequence of a column default: nextval('name'::regclass).
var nextval = regexp.MustCompile(`^nextval\('([^']+)'::regclass\)$`)

// advanceSequences moves every sequence that a column of the table takes
// its default from past the column's largest restored value, so that new
// rows get new ids and versions.
func advanceSequences(ctx context.Context, tx pgx.Tx, name string) error {
	rows, err := tx.Query(ctx, `
		SELECT a.attname, pg_get_expr(d.adbin, d.adrelid)
		FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		WHERE d.adrelid = to_regclass('public.' || quote_ident($1))`, name)
	if err != nil {
		return fmt.Errorf("read the defaults of %s: %w", name, err)
	}
	type seq struct{ col, name string }
	var seqs []seq
	var col, expr string
	_, err = pgx.ForEachRow(rows, []any{&col, &expr}, func() error {
		if m := nextval.FindStringSubmatch(expr); m != nil {
			seqs = append(seqs, seq{col, m[1]})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the defaults of %s: %w", name, err)
	}
	for _, s := range seqs {
		_, err := tx.Exec(ctx, fmt.Sprintf(
			`SELECT setval($1::regclass, GREATEST((SELECT COALESCE(max(%s), 0) FROM %s), COALESCE(pg_sequence_last_value($1::regclass), 0), 1))`,
			pgx.Identifier{s.col}.Sanitize(), pgx.Identifier{name}.Sanitize()), s.name)
		if err != nil {
			return fmt.Errorf("advance the sequence %s of %s: %w", s.name, name, err)
		}
	}
	return nil
}
