package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/migrations"
)

// Migrate applies pending migrations (OpenDatabase does) and, with status,
// prints each migration and whether it is applied.
func Migrate(ctx context.Context, cfg config.Config, logger *slog.Logger, status bool, out io.Writer) error {
	db, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if !status {
		fmt.Fprintf(out, "database is at schema version %d\n", migrations.Latest())
		return nil
	}
	list, err := migrations.Status(ctx, db.Pool)
	if err != nil {
		return err
	}
	for _, m := range list {
		state := "pending"
		if m.Applied {
			state = "applied " + m.AppliedAt.Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(out, "%04d %-30s %s\n", m.Version, m.Name, state)
	}
	return nil
}
