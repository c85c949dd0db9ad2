// Package project is the laptop side of PiCloud's developer workflow: what
// the picloud command writes into, and reads from, a project directory.
package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/picloud/picloud/engine"
)

// TypesFile and TSConfigFile are the files WriteTypes writes.
const (
	TypesFile    = "picloud.d.ts"
	TSConfigFile = "tsconfig.json"
)

// tsconfig is a TypeScript configuration for a directory of PiCloud
// scripts: ES modules checked against picloud.d.ts alone, without the
// browser's or Node's declarations, which describe APIs scripts do not
// have. noEmit: the board compiles the scripts itself.
var tsconfig = map[string]any{
	"compilerOptions": map[string]any{
		"target":           "ES2022",
		"module":           "ES2022",
		"moduleResolution": "Bundler",
		"lib":              []string{"ES2022"},
		"types":            []string{},
		"strict":           true,
		"noEmit":           true,
		"skipLibCheck":     true,
		"isolatedModules":  true,
	},
	"include": []string{TypesFile, "**/*.ts", "**/*.js"},
}

// TypesResult says what WriteTypes did with each file.
type TypesResult struct {
	// TSConfigKept is set when a tsconfig.json was already there and was
	// left as it was.
	TSConfigKept bool
}

// WriteTypes writes picloud.d.ts, the declarations of the version of
// PiCloud this binary is, into dir, replacing an older one, and a
// tsconfig.json that uses it unless dir already has one: that file may be
// the person's own, and is never overwritten.
func WriteTypes(dir string) (TypesResult, error) {
	var res TypesResult
	st, err := os.Stat(dir)
	if err != nil {
		return res, fmt.Errorf("write the type definitions: %w", err)
	}
	if !st.IsDir() {
		return res, fmt.Errorf("write the type definitions: %s is not a directory", dir)
	}
	if err := os.WriteFile(filepath.Join(dir, TypesFile), []byte(engine.TypeDefinitions), 0o644); err != nil {
		return res, fmt.Errorf("write %s: %w", TypesFile, err)
	}
	cfg := filepath.Join(dir, TSConfigFile)
	if _, err := os.Lstat(cfg); err == nil {
		res.TSConfigKept = true
		return res, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("look for %s: %w", TSConfigFile, err)
	}
	text, err := json.MarshalIndent(tsconfig, "", "  ")
	if err != nil {
		return res, fmt.Errorf("write %s: %w", TSConfigFile, err)
	}
	f, err := os.OpenFile(cfg, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return res, fmt.Errorf("write %s: %w", TSConfigFile, err)
	}
	if _, err := f.Write(append(text, '\n')); err != nil {
		f.Close()
		return res, fmt.Errorf("write %s: %w", TSConfigFile, err)
	}
	if err := f.Close(); err != nil {
		return res, fmt.Errorf("write %s: %w", TSConfigFile, err)
	}
	return res, nil
}
