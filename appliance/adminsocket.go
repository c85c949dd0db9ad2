package appliance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/picloud/picloud/api"
)

// adminSocketMode lets the daemon's user and group use the admin socket;
// membership of the daemon's group is what "may administer the board
// locally" means.
const adminSocketMode = 0o660

// listenAdminSocket binds the admin API's Unix socket at path with mode
// 0660 from the start: it is bound under a temporary name, given its mode,
// then renamed into place, so no one connects while it is more open. A
// stale socket left by a crash is replaced; any other file at path is an
// error.
func listenAdminSocket(path string) (*net.UnixListener, error) {
	if st, err := os.Lstat(path); err == nil {
		if st.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("admin socket %s (PICLOUD_ADMIN_SOCKET): a file that is not a socket is in the way", path)
		}
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create the directory of the admin socket: %w", err)
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".admin-%d.sock", os.Getpid()))
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on the admin socket %s (PICLOUD_ADMIN_SOCKET): %w", path, err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, adminSocketMode); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("set the mode of the admin socket: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("put the admin socket in place at %s: %w", path, err)
	}
	return ln, nil
}

// adminSocketServer serves the admin API on the local socket: requests
// without credentials act as the local owner (see api.ConnIdentity), with
// the peer's user id as their address in the audit log.
type adminSocketServer struct {
	path string
	ln   *net.UnixListener
	srv  *http.Server
}

// startAdminSocket serves handler on cfg's admin socket; nil when the
// socket is disabled.
func startAdminSocket(path string, handler http.Handler, logger *slog.Logger) (*adminSocketServer, error) {
	if path == "" {
		return nil, nil
	}
	ln, err := listenAdminSocket(path)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return api.WithIdentity(ctx, api.ConnIdentity{Remote: peerName(c)})
		},
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("admin socket stopped", "component", "appliance", "err", err)
		}
	}()
	logger.Info("admin socket ready", "component", "appliance", "path", path)
	return &adminSocketServer{path: path, ln: ln, srv: srv}, nil
}

// Shutdown stops serving and removes the socket file.
func (a *adminSocketServer) Shutdown(ctx context.Context) error {
	if a == nil {
		return nil
	}
	err := a.srv.Shutdown(ctx)
	if err != nil {
		_ = a.srv.Close()
	}
	_ = os.Remove(a.path)
	return err
}
