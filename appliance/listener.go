package appliance

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/coreos/go-systemd/v22/activation"

	"github.com/picloud/picloud/appliance/config"
)

// Listen returns the HTTP listener. Under socket activation (picloud.socket:
// systemd passes the socket as fd 3 with LISTEN_FDS=1 and LISTEN_PID set to
// this process) it is that socket, and PICLOUD_LISTEN is not bound; otherwise
// it binds PICLOUD_LISTEN. It removes LISTEN_PID, LISTEN_FDS and
// LISTEN_FDNAMES from the environment and marks the passed descriptors
// close-on-exec, so call it before starting any child process: none may
// inherit the socket.
func Listen(cfg config.Config, logger *slog.Logger) (net.Listener, error) {
	passed, err := activation.Listeners()
	if err != nil {
		return nil, fmt.Errorf("take the sockets passed by systemd (LISTEN_FDS): %w", err)
	}
	if len(passed) == 0 {
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("listen on %s (PICLOUD_LISTEN): %w", cfg.Listen, err)
		}
		return ln, nil
	}
	closeAll := func() {
		for _, ln := range passed {
			if ln != nil {
				_ = ln.Close()
			}
		}
	}
	if len(passed) > 1 {
		closeAll()
		return nil, fmt.Errorf("systemd passed %d sockets (LISTEN_FDS); picloud.socket must have exactly one ListenStream=", len(passed))
	}
	ln := passed[0]
	if ln == nil {
		return nil, fmt.Errorf("the socket passed by systemd (LISTEN_FDS) is not a listening stream socket; picloud.socket needs ListenStream=")
	}
	if _, ok := ln.Addr().(*net.TCPAddr); !ok {
		closeAll()
		return nil, fmt.Errorf("the socket passed by systemd listens on %s %s; picloud.socket needs a TCP ListenStream= (a port, or address:port)",
			ln.Addr().Network(), ln.Addr())
	}
	logger.Info("using the socket passed by systemd; PICLOUD_LISTEN is not bound", "component", "appliance",
		"addr", ln.Addr().String(), "PICLOUD_LISTEN", cfg.Listen)
	return ln, nil
}
