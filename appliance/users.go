package appliance

import (
	"context"
	"errors"
	"fmt"
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

// AddSSHKey registers a public key (an authorized_keys line) for a user,
// whether or not the daemon is running, recorded as done from the terminal
// on the board.
func AddSSHKey(ctx context.Context, cfg config.Config, logger *slog.Logger, username, line string) (model.SSHKey, error) {
	db, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return model.SSHKey{}, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	st := store.New(db.Pool)
	u, err := st.UserByName(ctx, username)
	if errors.Is(err, model.ErrNotFound) {
		return model.SSHKey{}, fmt.Errorf("no user is named %q (picloud user add makes one)", username)
	}
	if err != nil {
		return model.SSHKey{}, err
	}
	mgr := manager.New(manager.Config{}, st, newCredentials(), nopInvalidator{}, logger)
	return mgr.AddSSHKey(ctx, model.Actor{Channel: model.ChannelTerminal, Remote: "local"}, u.ID, line)
}
