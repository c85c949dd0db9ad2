package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// pulledScript is a script as the board lists it.
type pulledScript struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Source   string `json:"source"`
	Limits   Limits `json:"limits"`
}

// Pull writes a project directory from a board's app: each script's active
// source in a file, and a picloud.toml naming them, their routes and the
// app's secrets (names only). It refuses a directory that already has a
// picloud.toml, and writes nothing then.
func Pull(ctx context.Context, b Board, app, dir string, out io.Writer) error {
	manifest := filepath.Join(dir, ManifestFile)
	if _, err := os.Lstat(manifest); err == nil {
		return fmt.Errorf("%s already exists: pull into a new directory", manifest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("look for %s: %w", manifest, err)
	}
	appID, err := b.appID(ctx, app)
	if err != nil {
		return err
	}
	var list struct {
		Scripts []pulledScript `json:"scripts"`
	}
	if err := b.do(ctx, "GET", "/api/v1/admin/scripts?app_id="+url.QueryEscape(appID), nil, &list); err != nil {
		return fmt.Errorf("list the app's scripts: %w", err)
	}
	m := Manifest{App: app, Scripts: []Script{}}
	files := map[string]string{}
	for _, s := range list.Scripts {
		entry, text, err := b.pullScript(ctx, s)
		if err != nil {
			return err
		}
		files[entry.File] = text
		m.Scripts = append(m.Scripts, entry)
	}
	if m.Secrets, err = b.secretNames(ctx, appID); err != nil {
		return err
	}
	doc, err := toml.Marshal(m)
	if err != nil {
		return fmt.Errorf("write %s: %w", ManifestFile, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	if err := os.WriteFile(manifest, doc, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", ManifestFile, err)
	}
	fmt.Fprintf(out, "pulled %d script(s) of app %s into %s\n", len(m.Scripts), app, dir)
	return nil
}

// pullScript loads a script's active source and routes: its manifest
// entry and its file's text.
func (b Board) pullScript(ctx context.Context, s pulledScript) (Script, string, error) {
	var full pulledScript
	if err := b.do(ctx, "GET", "/api/v1/admin/scripts/"+url.PathEscape(s.ID), nil, &full); err != nil {
		return Script{}, "", fmt.Errorf("load script %s: %w", s.Name, err)
	}
	var routes struct {
		Routes []struct{ Method, Path string } `json:"routes"`
	}
	if err := b.do(ctx, "GET", "/api/v1/admin/scripts/"+url.PathEscape(s.ID)+"/routes", nil, &routes); err != nil {
		return Script{}, "", fmt.Errorf("load the routes of script %s: %w", s.Name, err)
	}
	entry := Script{File: s.Name, Routes: []string{}}
	switch ext := filepath.Ext(s.Name); {
	case ext == ".js" || ext == ".mjs" || ext == ".ts":
	default:
		// A name without a script's extension keeps its name; the file
		// gets the extension of its language.
		entry.Name, entry.File = s.Name, s.Name+"."+s.Language
	}
	for _, r := range routes.Routes {
		if r.Method == "*" {
			entry.Routes = append(entry.Routes, r.Path)
		} else {
			entry.Routes = append(entry.Routes, r.Method+" "+r.Path)
		}
	}
	crons, err := b.pullCrons(ctx, s)
	if err != nil {
		return Script{}, "", err
	}
	entry.Crons = crons
	if full.Limits != (Limits{}) {
		l := full.Limits
		entry.Limits = &l
	}
	if strings.ContainsAny(entry.File, `/\`) || entry.File == "." || entry.File == ".." {
		return Script{}, "", fmt.Errorf("script name %q cannot be a file name", s.Name)
	}
	return entry, full.Source, nil
}

// secretNames lists the names of the app's secrets.
func (b Board) secretNames(ctx context.Context, appID string) ([]string, error) {
	var list struct {
		Variables []struct {
			Name   string `json:"name"`
			Secret bool   `json:"secret"`
		} `json:"variables"`
	}
	if err := b.do(ctx, "GET", "/api/v1/admin/apps/"+url.PathEscape(appID)+"/variables", nil, &list); err != nil {
		return nil, fmt.Errorf("list the app's secrets: %w", err)
	}
	names := []string{}
	for _, v := range list.Variables {
		if v.Secret {
			names = append(names, v.Name)
		}
	}
	return names, nil
}

// pullCrons is the schedules of a script's cron triggers when every one
// of its triggers is a plain cron trigger (UTC, the default misfire and
// retries), which the manifest's crons say in full; otherwise nil, and a
// deploy leaves the script's triggers as they are.
func (b Board) pullCrons(ctx context.Context, s pulledScript) ([]string, error) {
	var list struct {
		Triggers []struct {
			Type       string `json:"type"`
			Schedule   string `json:"schedule"`
			Timezone   string `json:"timezone"`
			Misfire    string `json:"misfire"`
			MaxRetries int    `json:"max_retries"`
		} `json:"triggers"`
	}
	if err := b.do(ctx, "GET", "/api/v1/admin/scripts/"+url.PathEscape(s.ID)+"/triggers", nil, &list); err != nil {
		return nil, fmt.Errorf("load the triggers of script %s: %w", s.Name, err)
	}
	crons := []string{}
	for _, t := range list.Triggers {
		if t.Type != "cron" || t.Timezone != "UTC" || t.Misfire != "run_once" || t.MaxRetries != 3 {
			return nil, nil
		}
		crons = append(crons, t.Schedule)
	}
	if len(crons) == 0 {
		return nil, nil
	}
	return crons, nil
}
