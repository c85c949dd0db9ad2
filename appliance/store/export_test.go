package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/api/model"
)

// ExplainFindDocs is PostgreSQL's plan for FindDocs(q), run as FindDocs
// runs it.
func (s *Store) ExplainFindDocs(ctx context.Context, q model.DocsQuery) (string, error) {
	sql, args := buildFind(q)
	rows, err := s.pool.Query(ctx, "EXPLAIN "+sql, append([]any{docsExec}, args...)...)
	if err != nil {
		return "", err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return strings.Join(lines, "\n"), err
}

// BuildFindDocs exposes the find query builder to the tests.
var BuildFindDocs = buildFind

// BreakConnection takes t's connection from pgx without closing its socket,
// as pgx's closing in the background leaves it for a while: every later
// call on the transaction fails, and the server process stays idle in the
// transaction. It returns the process's id and a function closing the
// socket.
func (t *Tx) BreakConnection(ctx context.Context) (uint32, func(), error) {
	pc := t.tx.Conn().PgConn()
	pid := pc.PID()
	h, err := pc.Hijack()
	if err != nil {
		return 0, nil, err
	}
	return pid, func() { h.Conn.Close() }, nil
}
