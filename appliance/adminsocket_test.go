package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminSocket(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin.sock")
	// A stale socket, as a crash leaves it, is replaced.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()

	var seen string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
	srv, err := startAdminSocket(path, h, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != adminSocketMode {
		t.Fatalf("socket: %v, mode %v, want %v", err, st.Mode().Perm(), os.FileMode(adminSocketMode))
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, err := new(net.Dialer).DialContext(ctx, "unix", path)
		if err == nil {
			seen = peerName(c) // the client's view: the daemon's process
		}
		return c, err
	}}}
	res, err := client.Get("http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "hello" {
		t.Fatalf("over the socket: %q", body)
	}
	if want := fmt.Sprintf("local uid %d", os.Getuid()); seen != want {
		t.Errorf("peer name %q, want %q", seen, want)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after shutdown: %v", err)
	}

	// Anything but a socket in the way is not removed.
	if err := os.WriteFile(path, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := startAdminSocket(path, h, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("a regular file in the way: %v", err)
	}
	if srv, err := startAdminSocket("", h, slog.New(slog.DiscardHandler)); srv != nil || err != nil {
		t.Fatalf("disabled socket: %v %v", srv, err)
	}
}
