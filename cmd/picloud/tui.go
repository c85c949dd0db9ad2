package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"

	"github.com/picloud/picloud/tui"
	"github.com/picloud/picloud/tui/client"
)

// runTUI runs the terminal UI against the daemon's local admin socket,
// acting as the board's local owner.
func runTUI(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", "", "the daemon's admin socket (default PICLOUD_ADMIN_SOCKET)")
	cfg, _, err := loadConfig(fs, args, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"usage: picloud tui [--socket PATH] [--config FILE]"}
	}
	path := *socket
	if path == "" {
		path = cfg.AdminSocket
	}
	if path == "" {
		return errors.New("the admin socket is disabled (PICLOUD_ADMIN_SOCKET is empty): set it, or give --socket PATH")
	}
	if err := probeSocket(path); err != nil {
		return err
	}
	_, noColor := os.LookupEnv("NO_COLOR")
	c := client.New("http://localhost", client.UnixSocket(path), "")
	return tui.Run(ctx, stdin, stdout, tui.Options{Client: c, NoColor: noColor, Via: "local"})
}

// probeSocket connects to the admin socket once, to say plainly why the
// terminal UI cannot start.
func probeSocket(path string) error {
	conn, err := net.Dial("unix", path)
	switch {
	case err == nil:
		return conn.Close()
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("no daemon answers on the admin socket %s: is picloud serve running? (%w)", path, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("may not use the admin socket %s: run as the daemon's user or a member of its group (e.g. sudo picloud tui) (%w)", path, err)
	}
	return fmt.Errorf("connect to the admin socket %s: %w", path, err)
}
