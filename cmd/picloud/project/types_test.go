package project

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/picloud/picloud/engine"
)

func TestWriteTypes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, TypesFile), []byte("// an older one"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := WriteTypes(dir)
	if err != nil || res.TSConfigKept {
		t.Fatalf("WriteTypes: %+v, %v", res, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, TypesFile)); string(got) != engine.TypeDefinitions {
		t.Errorf("%s is not this version's declarations (%d bytes)", TypesFile, len(got))
	}
	var cfg struct {
		CompilerOptions struct {
			Lib    []string `json:"lib"`
			NoEmit bool     `json:"noEmit"`
		} `json:"compilerOptions"`
		Include []string `json:"include"`
	}
	text, _ := os.ReadFile(filepath.Join(dir, TSConfigFile))
	if err := json.Unmarshal(text, &cfg); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", TSConfigFile, err, text)
	}
	if !slices.Contains(cfg.Include, TypesFile) || slices.Contains(cfg.CompilerOptions.Lib, "DOM") || !cfg.CompilerOptions.NoEmit {
		t.Errorf("%s does not check scripts against %s alone:\n%s", TSConfigFile, TypesFile, text)
	}
}

func TestWriteTypesKeepsAnExistingTSConfig(t *testing.T) {
	dir := t.TempDir()
	own := []byte(`{"compilerOptions":{"strict":false}}`)
	if err := os.WriteFile(filepath.Join(dir, TSConfigFile), own, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := WriteTypes(dir)
	if err != nil || !res.TSConfigKept {
		t.Fatalf("WriteTypes: %+v, %v; want the tsconfig.json kept", res, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, TSConfigFile)); string(got) != string(own) {
		t.Errorf("the person's own %s was overwritten:\n%s", TSConfigFile, got)
	}
	if _, err := os.Stat(filepath.Join(dir, TypesFile)); err != nil {
		t.Errorf("%s not written: %v", TypesFile, err)
	}
}

func TestWriteTypesRefusesWhatIsNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(t.TempDir(), "missing")} {
		if _, err := WriteTypes(dir); err == nil {
			t.Errorf("WriteTypes(%s) succeeded", dir)
		}
	}
}
