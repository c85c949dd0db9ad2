package manager

import (
	"context"
	"fmt"
	"slices"

	"github.com/picloud/picloud/api/model"
)

// StartBackup checks a backup request (the app, if one is named, exists)
// and records it in the audit log before the file streams out: a backup
// copies everything, so that who took one is always known.
func (s *Service) StartBackup(ctx context.Context, a model.Actor, app string, withPassphrase bool) error {
	if app != "" {
		apps, err := s.store.ListApps(ctx)
		if err != nil {
			return fmt.Errorf("back up: %w", err)
		}
		if !slices.ContainsFunc(apps, func(x model.App) bool { return x.Name == app }) {
			return fmt.Errorf("back up: no app is named %q: %w", app, model.ErrNotFound)
		}
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		return s.audit(ctx, a, "backup.create", "", app, map[string]any{"passphrase": withPassphrase})
	})
	if err != nil {
		return err
	}
	s.log.Info("backup started", "app", app, "user", a.Username)
	return nil
}
