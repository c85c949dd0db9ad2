package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/picloud/picloud/cmd/picloud/project"
)

// boardFlags are the flags of the commands that talk to a board over
// HTTP(S) with an API token.
type boardFlags struct {
	target     *string
	tokenStdin *bool
}

func addBoardFlags(fs *flag.FlagSet) boardFlags {
	return boardFlags{
		target:     fs.String("target", os.Getenv("PICLOUD_TARGET"), "the board's URL, e.g. https://pi.example.net (default $PICLOUD_TARGET)"),
		tokenStdin: fs.Bool("token-stdin", false, "read the API token from standard input (default $PICLOUD_TOKEN)"),
	}
}

// board is the board the flags name, with its token.
func (f boardFlags) board(cmd string, stdin io.Reader) (project.Board, error) {
	if *f.target == "" {
		return project.Board{}, usageError{"picloud " + cmd + " needs the board: --target URL or PICLOUD_TARGET"}
	}
	token := os.Getenv("PICLOUD_TOKEN")
	if *f.tokenStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return project.Board{}, fmt.Errorf("read the token: %w", err)
		}
		token = strings.TrimSpace(line)
	}
	if token == "" {
		return project.Board{}, usageError{"picloud " + cmd + " needs an API token: --token-stdin or PICLOUD_TOKEN"}
	}
	return project.Board{URL: *f.target, Token: token}, nil
}

// dirArg is the one optional DIR argument, "." by default.
func dirArg(fs *flag.FlagSet, usage string) (string, error) {
	switch fs.NArg() {
	case 0:
		return ".", nil
	case 1:
		return fs.Arg(0), nil
	}
	return "", usageError{"usage: " + usage}
}

// deployCmd pushes a project directory (its picloud.toml) to a board.
func deployCmd(ctx context.Context, args []string, stdin io.Reader, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bf := addBoardFlags(fs)
	dryRun := fs.Bool("dry-run", false, "print the plan only")
	draft := fs.Bool("draft", false, "save changed scripts as drafts, without making them active")
	replay := fs.Bool("replay", false, "first save changed scripts as drafts and replay them against their captured requests; stop if any answers otherwise")
	accept := fs.Bool("replay-accept", false, "with --replay, go live even when replayed requests answer otherwise")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	dir, err := dirArg(fs, "picloud deploy [--target URL] [--token-stdin] [--dry-run] [--draft] [--replay [--replay-accept]] [DIR]")
	if err != nil {
		return err
	}
	if *accept && !*replay {
		return usageError{"--replay-accept goes with --replay"}
	}
	if *replay && *draft {
		return usageError{"--replay and --draft do not go together: --replay saves drafts itself, then goes live unless the replay finds differences"}
	}
	b, err := bf.board("deploy", stdin)
	if err != nil {
		return err
	}
	_, err = project.Deploy(ctx, b, project.DeployOptions{Dir: dir, DryRun: *dryRun, Draft: *draft, Replay: *replay, ReplayAccept: *accept}, out)
	return err
}

// pullCmd writes a project directory from a board's app.
func pullCmd(ctx context.Context, args []string, stdin io.Reader, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bf := addBoardFlags(fs)
	app := fs.String("app", "default", "the app's name on the board")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	dir, err := dirArg(fs, "picloud pull [--target URL] [--token-stdin] [--app NAME] [DIR]")
	if err != nil {
		return err
	}
	b, err := bf.board("pull", stdin)
	if err != nil {
		return err
	}
	return project.Pull(ctx, b, *app, dir, out)
}
