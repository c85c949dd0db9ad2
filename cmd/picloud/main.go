// Command picloud is PiCloud's one binary: the daemon and its administration
// commands. Each subcommand parses its flags and calls into the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/picloud/picloud/appliance"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/journal"
	"github.com/picloud/picloud/appliance/workers"
	"github.com/picloud/picloud/tui/safetext"
)

const usage = `PiCloud: serverless scripts on a single-board computer.

Usage:
  picloud serve [--config FILE]                 run the daemon
  picloud user add NAME --password-stdin [--role owner|admin|member]
                                                create a user (default: owner)
  picloud user add-key NAME < KEY.pub           register an SSH public key for a user
  picloud tui [--socket PATH]                   the terminal UI, through the daemon's local admin socket
  picloud migrate [status]                      apply (or list) database migrations
  picloud backup [--app NAME] [-o FILE] [--passphrase-stdin]
                                                write a backup of the board or of one app
  picloud restore FILE [--passphrase-stdin] [--force] [--dry-run]
                                                rebuild this board (daemon stopped) from a backup
  picloud restore --app FILE [--passphrase-stdin] [--dry-run]
                                                add the app of an app backup to this board
  picloud deploy [--target URL] [--token-stdin] [--dry-run] [--draft] [--replay [--replay-accept]] [DIR]
                                                push a project directory (picloud.toml) to a board;
                                                --replay tries changed scripts on captured requests first
  picloud pull [--target URL] [--token-stdin] [--app NAME] [DIR]
                                                write a project directory from a board's app
  picloud types [DIR]                           write picloud.d.ts and a tsconfig.json for editors
  picloud version                               print the versions
  picloud status [--config FILE]                how to reach the daemon, whether it is healthy
  picloud reload PID                            make the daemon PID read its configuration again
                                                (systemctl reload picloud runs it)
  picloud executor                              serve scripts on stdin/stdout (started by the daemon)
  picloud help                                  show this help

Settings come from /etc/picloud/picloud.conf (or --config FILE) and PICLOUD_*
environment variables; see docs/configuration.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// What the commands print may hold data (names, what the daemon
	// answered, errors about them): it goes out escaped, so that the
	// terminal shows it rather than acts on it. The terminal UI and the
	// executor write standard output themselves (the executor's is its
	// protocol), and the loggers escape what they log.
	out, errOut := safetext.NewWriter(stdout), safetext.NewWriter(stderr)
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "user":
		err = user(ctx, args[1:], stdin, out, stderr)
	case "migrate":
		err = migrate(ctx, args[1:], out, stderr)
	case "backup":
		err = backupCmd(ctx, args[1:], stdin, stdout, errOut, stderr)
	case "restore":
		err = restoreCmd(ctx, args[1:], stdin, out, stderr)
	case "tui":
		err = runTUI(ctx, args[1:], stdin, stdout, stderr)
	case "executor":
		err = executor(stdin, stdout, stderr)
	case "status":
		err = status(ctx, args[1:], out, stderr)
	case "reload":
		err = reload(args[1:])
	case "deploy":
		err = deployCmd(ctx, args[1:], stdin, out, stderr)
	case "pull":
		err = pullCmd(ctx, args[1:], stdin, out, stderr)
	case "types":
		err = typesCmd(args[1:], out, stderr)
	case "version", "--version", "-v":
		printVersions(out)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "picloud: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(errOut, "picloud: %v\n", err)
		return 2
	default:
		fmt.Fprintf(errOut, "picloud: %v\n", err)
		return 1
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// loadConfig reads the configuration and builds the logger.
func loadConfig(fs *flag.FlagSet, args []string, stderr io.Writer) (config.Config, *slog.Logger, error) {
	cfg, logger, _, _, err := loadReloadable(fs, args, stderr)
	return cfg, logger, err
}

// loadReloadable is loadConfig, also returning how to read the
// configuration again and the logger's level, which a reload may change.
func loadReloadable(fs *flag.FlagSet, args []string, stderr io.Writer) (config.Config, *slog.Logger, func() (config.Config, error), *slog.LevelVar, error) {
	path := fs.String("config", os.Getenv("PICLOUD_CONFIG"), "configuration file (default "+config.DefaultFile+")")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, nil, nil, usageError{err.Error()}
	}
	load := func() (config.Config, error) { return config.Load(*path, os.Environ()) }
	cfg, err := load()
	if err != nil {
		return cfg, nil, nil, nil, fmt.Errorf("configuration: %w", err)
	}
	level := new(slog.LevelVar)
	return cfg, newLogger(cfg, stderr, level), load, level, nil
}

// newLogger logs to w in the configured format; when w is the daemon's
// standard error and that is the systemd journal, text records go to the
// journal with their attributes as fields.
func newLogger(cfg config.Config, w io.Writer, level *slog.LevelVar) *slog.Logger {
	if level == nil {
		level = new(slog.LevelVar)
	}
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	text := slog.NewTextHandler(w, opts)
	if w == os.Stderr && journal.UseJournal() {
		return slog.New(journal.NewHandler(level, text))
	}
	return slog.New(text)
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, logger, load, level, err := loadReloadable(fs, args, stderr)
	if err != nil {
		return err
	}
	sd := appliance.NewSystemd(ctx, logger)
	defer sd.Stopping()
	// SIGHUP (systemctl reload picloud) reads the configuration again; a
	// configuration with an error is refused and the running one stays.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan config.Config)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			sd.Reloading()
			next, err := load()
			if err != nil {
				logger.Error("reload: the configuration has errors; keeping the running one", "component", "appliance", "err", err)
				sd.Reloaded()
				continue
			}
			_ = level.UnmarshalText([]byte(next.LogLevel))
			select {
			case reload <- next: // Serve calls sd.Reloaded once applied
			case <-ctx.Done():
				return
			}
		}
	}()
	return appliance.Serve(ctx, cfg, logger, sd.Ready(ctx, cfg.BaseURL()), appliance.WithReload(reload, sd.Reloaded))
}

// reload sends SIGHUP to the daemon whose pid is given: the unit's
// ExecReload, so that reloading needs nothing beyond this binary.
func reload(args []string) error {
	if len(args) != 1 {
		return usageError{"usage: picloud reload PID"}
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil || pid <= 1 {
		return usageError{fmt.Sprintf("picloud reload: %q is not the daemon's process id", args[0])}
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return fmt.Errorf("signal the daemon (pid %d) to reload: %w", pid, err)
	}
	return nil
}

// executor is a worker process started by the daemon: it serves the
// engine/wire protocol on stdin and stdout, logs to stderr and has no
// database. It ignores SIGINT and SIGTERM: the daemon stops it by closing
// its input once in-flight executions are done, or kills it.
func executor(stdin io.Reader, stdout, stderr io.Writer) error {
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	return workers.ServeWorker(context.Background(), stdin, stdout, slog.New(slog.NewTextHandler(stderr, nil)))
}

func user(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "add-key" {
		return addKey(ctx, args[1:], stdin, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "add" {
		return usageError{"usage: picloud user add NAME --password-stdin, or picloud user add-key NAME < KEY.pub"}
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	role := fs.String("role", "owner", "instance role: owner, admin or member (app roles only)")
	name, cfg, logger, err := loadConfigNamed(fs, args[1:], stderr, "usage: picloud user add NAME --password-stdin")
	if err != nil {
		return err
	}
	if !*fromStdin {
		return usageError{"give the password on standard input with --password-stdin, e.g.: printf '%s' \"$PASSWORD\" | picloud user add " + name + " --password-stdin"}
	}
	pw, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		return fmt.Errorf("read password: %w", err)
	}
	password := strings.TrimRight(string(pw), "\r\n")
	u, err := appliance.AddUser(ctx, cfg, logger, name, password, *role)
	if err != nil {
		return fmt.Errorf("add user %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "created user %s (%s, %s)\n", u.Username, u.Role, u.ID)
	return nil
}

// loadConfigNamed is loadConfig for a command that takes one NAME, before
// or after the flags; without exactly one it is a usage error saying use.
func loadConfigNamed(fs *flag.FlagSet, args []string, stderr io.Writer, use string) (string, config.Config, *slog.Logger, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	cfg, logger, err := loadConfig(fs, args, stderr)
	if err != nil {
		return "", cfg, nil, err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 || name == "" {
		return "", cfg, nil, usageError{use}
	}
	return name, cfg, logger, nil
}

// addKey registers an SSH public key, read from standard input as an
// authorized_keys line, for a user.
func addKey(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	const use = "usage: picloud user add-key NAME < ~/.ssh/id_ed25519.pub"
	fs := flag.NewFlagSet("user add-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name, cfg, logger, err := loadConfigNamed(fs, args, stderr, use)
	if err != nil {
		return err
	}
	line, err := io.ReadAll(io.LimitReader(stdin, 16<<10))
	if err != nil {
		return fmt.Errorf("read the public key: %w", err)
	}
	k, err := appliance.AddSSHKey(ctx, cfg, logger, name, strings.TrimSpace(string(line)))
	if err != nil {
		return fmt.Errorf("add a key for %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "added %s key %s for %s\n", k.Type, k.Fingerprint, name)
	return nil
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sub string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if sub != "" && sub != "status" {
		return usageError{"usage: picloud migrate [status]"}
	}
	cfg, logger, err := loadConfig(fs, args, stderr)
	if err != nil {
		return err
	}
	return appliance.Migrate(ctx, cfg, logger, sub == "status", stdout)
}

func printVersions(w io.Writer) {
	v := appliance.Versions()
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "picloud %v\n", v["picloud"])
	for _, k := range keys {
		if k != "picloud" {
			fmt.Fprintf(w, "  %s: %v\n", k, v[k])
		}
	}
}

func status(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, _, err := loadConfig(fs, args, stderr)
	if err != nil {
		return err
	}
	return appliance.Status(ctx, cfg, stdout)
}
