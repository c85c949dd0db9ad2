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

	"github.com/picloud/picloud/api/schedule"
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
// source in a file, and a picloud.toml naming them, their routes, cron
// triggers and limits, the app's plain variables and its secrets (names
// only). It refuses a directory that already has a
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
	if m.Secrets, m.Vars, err = b.variables(ctx, appID); err != nil {
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
	crons, tables, err := b.pullCrons(ctx, s)
	if err != nil {
		return Script{}, "", err
	}
	entry.Crons, entry.Cron = crons, tables
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
	secrets, _, err := b.variables(ctx, appID)
	return secrets, err
}

// variables lists the names of the app's secrets, and its plain variables
// with their values.
func (b Board) variables(ctx context.Context, appID string) ([]string, map[string]string, error) {
	var list struct {
		Variables []struct {
			Name   string `json:"name"`
			Secret bool   `json:"secret"`
			Value  string `json:"value"`
		} `json:"variables"`
	}
	if err := b.do(ctx, "GET", "/api/v1/admin/apps/"+url.PathEscape(appID)+"/variables", nil, &list); err != nil {
		return nil, nil, fmt.Errorf("list the app's variables: %w", err)
	}
	secrets := []string{}
	vars := map[string]string{}
	for _, v := range list.Variables {
		if v.Secret {
			secrets = append(secrets, v.Name)
		} else {
			vars[v.Name] = v.Value
		}
	}
	return secrets, vars, nil
}

// pullCrons is a script's cron triggers: as schedules when every one is a
// plain one (UTC, the default misfire and retries), else as
// [[scripts.cron]] tables with the settings that are not the defaults.
// Both are nil when it has none, and a deploy leaves its triggers alone.
// Triggers of other types are not the manifest's.
func (b Board) pullCrons(ctx context.Context, s pulledScript) ([]string, []Cron, error) {
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
		return nil, nil, fmt.Errorf("load the triggers of script %s: %w", s.Name, err)
	}
	var crons []string
	var tables []Cron
	plain := true
	for _, t := range list.Triggers {
		if t.Type != "cron" {
			continue
		}
		c := Cron{Schedule: t.Schedule}
		if t.Timezone != "UTC" && t.Timezone != "" {
			c.Timezone = t.Timezone
		}
		if t.Misfire != string(schedule.RunOnce) && t.Misfire != "" {
			c.Misfire = t.Misfire
		}
		if t.MaxRetries != defaultCronRetries {
			r := t.MaxRetries
			c.MaxRetries = &r
		}
		plain = plain && c == Cron{Schedule: t.Schedule}
		crons = append(crons, t.Schedule)
		tables = append(tables, c)
	}
	if plain {
		return crons, nil, nil
	}
	return nil, tables, nil
}
