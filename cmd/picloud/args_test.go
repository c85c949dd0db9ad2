package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestLoadConfigNamed takes NAME before or after the flags, and refuses
// none or two.
func TestLoadConfigNamed(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "picloud.conf")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		name string // "" for a usage error
	}{
		{[]string{"alice", "--flag", "--config", conf}, "alice"},
		{[]string{"--flag", "--config", conf, "alice"}, "alice"},
		{[]string{"--flag", "--config", conf}, ""},
		{[]string{"alice", "--config", conf, "bob"}, ""},
		{[]string{"--config", conf, "alice", "bob"}, ""},
	} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		set := fs.Bool("flag", false, "")
		name, _, _, err := loadConfigNamed(fs, c.args, io.Discard, "usage: test NAME")
		var use usageError
		switch {
		case c.name == "" && !errors.As(err, &use):
			t.Errorf("%q: got %q, %v; want a usage error", c.args, name, err)
		case c.name != "" && (err != nil || name != c.name || !*set):
			t.Errorf("%q: got %q (flag %v), %v; want %q with the flag set", c.args, name, *set, err, c.name)
		}
	}
}
