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
