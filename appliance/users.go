package appliance

import (
	"context"
	"log/slog"

	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/store"
)

// AddUser creates a user with an instance role (owner, admin or member),
// whether or not the daemon is running. The audit log records it as done
// from the terminal on the board.
func AddUser(ctx context.Context, cfg config.Config, logger *slog.Logger, username, password, role string) (model.User, error) {
	db, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return model.User{}, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	mgr := manager.New(manager.Config{
		SetupDone: func() { removeSetupToken(SetupTokenPath(cfg), logger) },
	}, store.New(db.Pool), newCredentials(), nopInvalidator{}, logger)
	return mgr.AddUser(ctx, model.Actor{Channel: model.ChannelTerminal, Remote: "local"}, username, password, role)
}

type nopInvalidator struct{}

func (nopInvalidator) Invalidate() {}
