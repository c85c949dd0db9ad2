package project

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Board is a PiCloud daemon reached over HTTP(S) with an API token.
type Board struct {
	URL   string // e.g. https://pi.example.net
	Token string
	HTTP  *http.Client
}

// DeployOptions are picloud deploy's flags.
type DeployOptions struct {
	Dir    string
	DryRun bool
	Draft  bool
	// Replay saves each changed script as a draft and replays it against
	// its captured requests before anything goes live; when a request is
	// answered otherwise, the deploy stops there unless ReplayAccept.
	Replay, ReplayAccept bool
}

// ErrReplayDiffers is the error of a deploy that a replay stopped.
var ErrReplayDiffers = errors.New("the replay found differences")

// Change is one line of a plan, as the board answers it.
type Change struct {
	Kind    string `json:"kind"`
	Action  string `json:"action"`
	Name    string `json:"name"`
	Version int    `json:"version"`
}

// Plan is the board's answer to a deploy.
type Plan struct {
	Applied bool     `json:"applied"`
	Changes []Change `json:"changes"`
}

// Changed counts the changes that are not "unchanged".
func (p Plan) Changed() int {
	n := 0
	for _, c := range p.Changes {
		if c.Action != "unchanged" {
			n++
		}
	}
	return n
}

// Deploy pushes a project directory to the board: it prints the plan the
// board works out, then, unless opts.DryRun or there is nothing to do,
// applies it. The board applies the whole deploy in one transaction: every
// new version goes live together, or none does.
func Deploy(ctx context.Context, b Board, opts DeployOptions, out io.Writer) (Plan, error) {
	m, err := LoadManifest(opts.Dir)
	if err != nil {
		return Plan{}, err
	}
	body, err := desiredState(opts.Dir, m, opts.Draft)
	if err != nil {
		return Plan{}, err
	}
	appID, err := b.appID(ctx, m.App)
	if err != nil {
		return Plan{}, err
	}
	if err := b.checkVariables(ctx, appID, m); err != nil {
		return Plan{}, err
	}
	body["dry_run"] = true
	var plan Plan
	if err := b.do(ctx, "POST", "/api/v1/admin/apps/"+url.PathEscape(appID)+"/deploy", body, &plan); err != nil {
		return Plan{}, fmt.Errorf("plan the deploy: %w", err)
	}
	printPlan(out, m.App, plan)
	if opts.DryRun || plan.Changed() == 0 {
		return plan, nil
	}
	if opts.Replay && !opts.Draft {
		differ, err := b.replayChanges(ctx, appID, plan, body, out)
		if err != nil {
			return Plan{}, err
		}
		if differ > 0 && !opts.ReplayAccept {
			fmt.Fprintf(out, "stopped: %d replayed request(s) answered otherwise; nothing went live (the new versions are drafts). "+
				"Deploy with --replay-accept to go live anyway\n", differ)
			return plan, fmt.Errorf("%w: %d request(s)", ErrReplayDiffers, differ)
		}
	}
	body["dry_run"] = false
	var applied Plan
	if err := b.do(ctx, "POST", "/api/v1/admin/apps/"+url.PathEscape(appID)+"/deploy", body, &applied); err != nil {
		return Plan{}, fmt.Errorf("deploy: %w", err)
	}
	if opts.Draft {
		fmt.Fprintf(out, "deployed %d change(s) to %s; new versions are drafts: promote them with the rollback endpoint\n", applied.Changed(), m.App)
	} else {
		fmt.Fprintf(out, "deployed %d change(s) to %s\n", applied.Changed(), m.App)
	}
	return applied, nil
}

// desiredState is the body of a deploy request for a manifest.
func desiredState(dir string, m Manifest, draft bool) (map[string]any, error) {
	scripts := []map[string]any{}
	routes := []map[string]string{}
	for _, sc := range m.Scripts {
		src, err := Source(dir, sc)
		if err != nil {
			return nil, err
		}
		entry := map[string]any{"name": sc.Name, "source": src}
		if sc.Crons != nil || sc.Cron != nil {
			crons := []any{}
			for _, c := range sc.Crons {
				crons = append(crons, c)
			}
			for _, c := range sc.Cron {
				crons = append(crons, c)
			}
			entry["crons"] = crons
		}
		if sc.Limits != nil {
			entry["limits"] = sc.Limits
		}
		scripts = append(scripts, entry)
		for _, r := range sc.Routes {
			method, path, err := ParseRoute(r)
			if err != nil {
				return nil, err
			}
			routes = append(routes, map[string]string{"script": sc.Name, "method": method, "path": path})
		}
	}
	body := map[string]any{"scripts": scripts, "routes": routes, "draft": draft}
	if m.Vars != nil {
		body["vars"] = m.Vars
	}
	return body, nil
}

// printPlan writes a plan as terraform does: + create, ~ update, - delete.
func printPlan(out io.Writer, app string, p Plan) {
	if p.Changed() == 0 {
		fmt.Fprintf(out, "%s: nothing to do, the board already has this\n", app)
		return
	}
	fmt.Fprintf(out, "plan for app %s:\n", app)
	sign := map[string]string{"create": "+", "update": "~", "delete": "-"}
	for _, c := range p.Changes {
		if c.Action == "unchanged" {
			continue
		}
		line := fmt.Sprintf("  %s %s %s", sign[c.Action], c.Kind, c.Name)
		if c.Version > 0 {
			line += fmt.Sprintf(" (version %d)", c.Version)
		}
		fmt.Fprintln(out, line)
	}
	fmt.Fprintf(out, "%d to change, %d unchanged\n", p.Changed(), len(p.Changes)-p.Changed())
}

// appID finds the id of the app with this name.
func (b Board) appID(ctx context.Context, name string) (string, error) {
	var list struct {
		Apps []struct{ ID, Name string } `json:"apps"`
	}
	if err := b.do(ctx, "GET", "/api/v1/admin/apps", nil, &list); err != nil {
		return "", fmt.Errorf("find app %q: %w", name, err)
	}
	for _, a := range list.Apps {
		if a.Name == name {
			return a.ID, nil
		}
	}
	return "", fmt.Errorf("the board has no app named %q that this token may see", name)
}

// checkVariables refuses a deploy whose scripts need a secret the app
// lacks, or whose [vars] names one of the app's secrets (at its line).
// Only names are read: secrets' values never leave the board.
func (b Board) checkVariables(ctx context.Context, appID string, m Manifest) error {
	if len(m.Secrets) == 0 && len(m.Vars) == 0 {
		return nil
	}
	secret, err := b.secretNames(ctx, appID)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(m.Vars)) {
		if slices.Contains(secret, name) {
			return m.errAt(m.varKey(name), "%s is a secret of app %s: a deploy sets plain variables only; "+
				"list it in secrets instead, or delete the secret on the board first", name, m.App)
		}
	}
	var missing []string
	for _, n := range m.Secrets {
		if !slices.Contains(secret, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the app has no secret named %s: set it on the board first (PUT /api/v1/admin/apps/%s/variables/NAME with \"secret\": true)",
			strings.Join(missing, ", "), appID)
	}
	return nil
}

// do sends a request with the token and decodes a JSON answer into out.
func (b Board) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		text, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(text)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(b.URL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := b.HTTP
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	text, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var e struct {
			Error  string `json:"error"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		}
		if json.Unmarshal(text, &e) == nil && e.Error != "" {
			if e.Line > 0 {
				return fmt.Errorf("the board refused it (%d): %s (line %d, column %d)", res.StatusCode, e.Error, e.Line, e.Column)
			}
			return fmt.Errorf("the board refused it (%d): %s", res.StatusCode, e.Error)
		}
		return fmt.Errorf("the board answered %s", res.Status)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(text, out)
}
