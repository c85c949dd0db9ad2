package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/picloud/picloud/appliance"
	"github.com/picloud/picloud/appliance/backup"
)

// readPassphrase reads a passphrase, the first line of standard input.
func readPassphrase(stdin io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		return nil, fmt.Errorf("read the passphrase: %w", err)
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	line = strings.TrimRight(line, "\r")
	if len(line) < 8 {
		return nil, usageError{"the passphrase on standard input is shorter than 8 characters"}
	}
	return []byte(line), nil
}

// backupCmd writes a backup of the board or of one app to a file or to
// standard output (raw: it is binary).
func backupCmd(ctx context.Context, args []string, stdin io.Reader, stdout, out, stderr io.Writer) error {
	const use = "usage: picloud backup [--app NAME] [-o FILE] [--passphrase-stdin]"
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	app := fs.String("app", "", "back up only this app (its scripts, routes, variables and data)")
	file := fs.String("o", "", "write to FILE rather than standard output")
	withPass := fs.Bool("passphrase-stdin", false, "read a passphrase from standard input: it wraps the secrets key into the file and authenticates it")
	cfg, logger, err := loadConfig(fs, args, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{use}
	}
	var pass []byte
	if *withPass {
		if pass, err = readPassphrase(stdin); err != nil {
			return err
		}
	}
	w, commit, err := backupOutput(*file, stdout)
	if err != nil {
		return err
	}
	s, err := appliance.WriteBackup(ctx, cfg, logger, w, *app, pass)
	if err == nil {
		err = commit()
	} else {
		_ = commitAbort(w)
	}
	if err != nil {
		return err
	}
	var rows int64
	for _, n := range s.Rows {
		rows += n
	}
	what := "the board"
	if *app != "" {
		what = "app " + *app
	}
	fmt.Fprintf(out, "backed up %s: %d tables, %d rows", what, len(s.Tables), rows)
	if *file != "" {
		fmt.Fprintf(out, " to %s", *file)
	}
	fmt.Fprintln(out)
	if len(pass) == 0 {
		fmt.Fprintln(out, "warning: without --passphrase-stdin the backup's secrets cannot be restored, and only a checksum guards it")
	}
	return nil
}

// pendingFile is a backup being written next to its final name.
type pendingFile struct {
	*os.File
	final string
}

// backupOutput returns where the backup goes and how to finish it: a
// file is written under a temporary name (0600: it holds the board's
// data) and renamed once complete, so that a failed backup never looks
// like a whole one.
func backupOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, nil, fmt.Errorf("back up: %w", err)
	}
	p := &pendingFile{File: f, final: path}
	return p, func() error {
		if err := f.Sync(); err != nil {
			_ = commitAbort(p)
			return fmt.Errorf("back up: write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("back up: write %s: %w", path, err)
		}
		if err := os.Rename(f.Name(), path); err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("back up: %w", err)
		}
		return nil
	}, nil
}

// commitAbort removes a backup file left unfinished.
func commitAbort(w io.Writer) error {
	p, ok := w.(*pendingFile)
	if !ok {
		return nil
	}
	_ = p.Close()
	return os.Remove(p.Name())
}

// restoreCmd restores a board backup onto this board (stopped), or checks
// one with --dry-run.
func restoreCmd(ctx context.Context, args []string, stdin io.Reader, out, stderr io.Writer) error {
	const use = "usage: picloud restore [--app] FILE [--passphrase-stdin] [--force] [--dry-run]"
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	withPass := fs.Bool("passphrase-stdin", false, "read the backup's passphrase from standard input")
	force := fs.Bool("force", false, "replace everything on a board that is not fresh")
	dry := fs.Bool("dry-run", false, "check the whole file and say what it holds (with --app, the plan); change nothing")
	appMode := fs.Bool("app", false, "add the app of an app backup to this board, next to its apps (the daemon may run)")
	file, cfg, logger, err := loadConfigNamed(fs, fileFirst(args), stderr, use)
	if err != nil {
		return err
	}
	var pass []byte
	if *withPass {
		if pass, err = readPassphrase(stdin); err != nil {
			return err
		}
	}
	if *appMode {
		plan, err := appliance.RestoreAppBackup(ctx, cfg, logger, file, pass, *dry)
		if err != nil {
			return fmt.Errorf("restore %s: %w (nothing was changed)", file, err)
		}
		printPlan(out, file, plan, *dry)
		return nil
	}
	if *dry {
		c, err := appliance.VerifyBackup(file, pass)
		if err != nil {
			return fmt.Errorf("restore %s: %w", file, err)
		}
		h := c.Header
		fmt.Fprintf(out, "%s: a good backup of %s, made %s by PiCloud %s (schema %d)\n", file, scopeName(h.Scope, h.App), h.CreatedAt, h.PiCloud, h.SchemaVersion)
		for _, t := range c.Tables {
			fmt.Fprintf(out, "  %s: %d rows\n", t.Name, c.Rows[t.Name])
		}
		if !h.Secrets.Restorable {
			fmt.Fprintln(out, "warning: made without a passphrase: its secrets would be left out")
		}
		return nil
	}
	res, err := appliance.RestoreBackup(ctx, cfg, logger, file, pass, *force, out)
	if err != nil {
		return fmt.Errorf("restore %s: %w (nothing was changed)", file, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(out, "warning:", w)
	}
	fmt.Fprintf(out, "restored %s from %s; sessions and API tokens are not restored: sign in again\n", scopeName(res.Contents.Header.Scope, res.Contents.Header.App), file)
	return nil
}

func scopeName(scope, app string) string {
	if scope == "app" {
		return "app " + app
	}
	return "the board"
}

// printPlan says what restoring an app did, or would do.
func printPlan(out io.Writer, file string, p *backup.AppPlan, dry bool) {
	fmt.Fprintf(out, "plan: add app %s from %s", p.Name, file)
	if p.Renamed() {
		fmt.Fprintf(out, " as %s (renamed: the name %s is taken)", p.As, p.Name)
	}
	fmt.Fprintln(out)
	for _, d := range p.Domains {
		fmt.Fprintf(out, "  domain %s: claimed\n", d)
	}
	for _, d := range p.Refused {
		fmt.Fprintf(out, "  domain %s: left out\n", d)
	}
	for _, t := range backup.Tables {
		// Every table an app backup holds, but the app and its domains,
		// said above.
		if (t.AppColumn == "" && t.AppWhere == "") || t.BoardOnly || t.Name == "apps" || t.Name == "domains" {
			continue
		}
		fmt.Fprintf(out, "  %s: %d rows\n", t.Name, p.Rows[t.Name])
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(out, "warning:", w)
	}
	if dry {
		fmt.Fprintln(out, "dry run: nothing was changed")
		return
	}
	fmt.Fprintf(out, "restored app %s (id %s)\n", p.As, p.ID)
}

// fileFirst moves the first argument that is neither a flag nor the value
// of --config to the front, so that flags may come before and after it.
func fileFirst(args []string) []string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--config" || a == "-config" {
			i++
			continue
		}
		if !strings.HasPrefix(a, "-") {
			return append([]string{a}, append(append([]string{}, args[:i]...), args[i+1:]...)...)
		}
	}
	return args
}
