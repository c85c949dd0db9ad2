package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/picloud/picloud/cmd/picloud/project"
)

// typesCmd writes picloud.d.ts and a tsconfig.json into a project
// directory, for editors to check and complete scripts.
func typesCmd(args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("types", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 1 {
		return usageError{"usage: picloud types [DIR]"}
	}
	dir := "."
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	res, err := project.WriteTypes(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s\n", project.TypesFile)
	if res.TSConfigKept {
		fmt.Fprintf(out, "kept the %s already there; add %s to its \"include\"\n", project.TSConfigFile, project.TypesFile)
	} else {
		fmt.Fprintf(out, "wrote %s\n", project.TSConfigFile)
	}
	return nil
}
