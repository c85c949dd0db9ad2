package project

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Source is what a script entry deploys: its file as it is when it
// imports no other local file, or else the bundle of it and its local
// imports, made by esbuild. "picloud" (the SDK) and "node:" modules stay
// imports: the engine provides them (and names the node: modules it has
// when a script asks for another). Errors name files relative to dir.
func Source(dir string, sc Script) (string, error) {
	entry, err := filepath.Abs(filepath.Join(dir, sc.File))
	if err != nil {
		return "", fmt.Errorf("bundle %s: %w", sc.File, err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("bundle %s: %w", sc.File, err)
	}
	res := api.Build(api.BuildOptions{
		EntryPoints:   []string{entry},
		Bundle:        true,
		Write:         false,
		Metafile:      true,
		Format:        api.FormatESModule,
		Platform:      api.PlatformNeutral,
		Target:        api.ESNext,
		External:      []string{"picloud", "node:*"},
		AbsWorkingDir: absDir,
		LegalComments: api.LegalCommentsNone,
		LogLevel:      api.LogLevelSilent,
		Outdir:        "out",
	})
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		if e.Location != nil {
			return "", fmt.Errorf("%s:%d:%d: %s", e.Location.File, e.Location.Line, e.Location.Column+1, e.Text)
		}
		return "", fmt.Errorf("bundle %s: %s", sc.File, e.Text)
	}
	var meta struct {
		Inputs map[string]json.RawMessage `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(res.Metafile), &meta); err != nil {
		return "", fmt.Errorf("bundle %s: %w", sc.File, err)
	}
	if len(meta.Inputs) <= 1 {
		text, err := os.ReadFile(entry)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", sc.File, err)
		}
		return string(text), nil
	}
	for _, f := range res.OutputFiles {
		if strings.HasSuffix(f.Path, ".js") {
			return string(f.Contents), nil
		}
	}
	return "", fmt.Errorf("bundle %s: esbuild wrote nothing", sc.File)
}
