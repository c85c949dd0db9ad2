package appliance

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"

	"github.com/picloud/picloud/api/manager"
	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/sshd"
)

// hostKeyFile is the SSH server's host key, in the data directory.
const hostKeyFile = "ssh_host_ed25519_key"

// loadHostKey reads the SSH host key at path, making it on the first start
// (ed25519, OpenSSH format, 0600).
func loadHostKey(path string) (ssh.Signer, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("make the SSH host key: %w", err)
		}
		block, err := ssh.MarshalPrivateKey(priv, "PiCloud SSH host key")
		if err != nil {
			return nil, fmt.Errorf("encode the SSH host key: %w", err)
		}
		raw = pem.EncodeToMemory(block)
		if err := createPrivateFile(path, raw); errors.Is(err, fs.ErrExist) {
			return loadHostKey(path)
		} else if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("read the SSH host key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("read the SSH host key %s: %w", path, err)
	}
	return signer, nil
}

// listenSSH binds the SSH server's address when PICLOUD_SSH_BIND is set:
// early, so that its port is in the fetch policy the executor workers start
// with. The board's scripts matter more than its SSH port: an address that
// cannot be bound is logged, and the daemon carries on without SSH (nil).
func listenSSH(cfg config.Config, logger *slog.Logger) net.Listener {
	if cfg.SSHBind == "" {
		return nil
	}
	if cfg.DataDir == "" {
		logger.Error("no SSH server: it needs a data directory for its host key (PICLOUD_DATA_DIR)", "component", "appliance")
		return nil
	}
	ln, err := net.Listen("tcp", cfg.SSHBind)
	if err != nil {
		logger.Error("no SSH server", "component", "appliance", "err", fmt.Errorf("listen for SSH on %s (PICLOUD_SSH_BIND): %w", cfg.SSHBind, err))
		return nil
	}
	return ln
}

// startSSH runs the SSH server of the terminal UI on ln, from listenSSH
// (nil: no SSH server). A server that cannot start is logged, its listener
// closed, and the daemon carries on without it.
func startSSH(cfg config.Config, ln net.Listener, handler http.Handler, mgr *manager.Service, logger *slog.Logger) *sshd.Server {
	if ln == nil {
		return nil
	}
	key, err := loadHostKey(filepath.Join(cfg.DataDir, hostKeyFile))
	if err != nil {
		ln.Close()
		logger.Error("no SSH server", "component", "appliance", "err", err)
		return nil
	}
	srv, err := sshd.Start(sshd.Config{Addr: cfg.SSHBind, Listener: ln, HostKey: key, Handler: handler, Logger: logger,
		MaxConnections:               cfg.SSH.MaxConnections,
		MaxUnauthenticated:           cfg.SSH.MaxUnauthenticated,
		MaxUnauthenticatedPerAddress: cfg.SSH.MaxUnauthenticatedPerAddress,
		HandshakeTimeout:             cfg.SSH.HandshakeTimeout,
		IdleTimeout:                  cfg.SSH.IdleTimeout,
		MaxSessionTime:               cfg.SSH.MaxSession,
		UserOfKey: func(ctx context.Context, fingerprint string) (string, string, error) {
			u, _, err := mgr.SSHKeyUser(ctx, fingerprint)
			return u.ID, u.Username, err
		},
		SignedIn: func(ctx context.Context, fingerprint, remote string) error {
			_, err := mgr.SSHSignIn(ctx, model.Actor{Channel: model.ChannelTerminal, Remote: remote}, fingerprint)
			return err
		}})
	if err != nil {
		ln.Close()
		logger.Error("no SSH server", "component", "appliance", "err", err)
		return nil
	}
	return srv
}
