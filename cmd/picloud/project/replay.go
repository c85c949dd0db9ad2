package project

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// ReplayReport is the board's report of a replay (POST
// /api/v1/admin/scripts/{id}/versions/{n}/replay).
type ReplayReport struct {
	ScriptID       string `json:"script_id"`
	Version        int    `json:"version"`
	CaptureEnabled bool   `json:"capture_enabled"`
	Summary        struct {
		Total     int `json:"total"`
		Same      int `json:"same"`
		Different int `json:"different"`
		Failed    int `json:"failed"`
	} `json:"summary"`
	Requests []ReplayResult `json:"requests"`
}

// ReplayResult is one captured request's comparison.
type ReplayResult struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Same   bool   `json:"same"`
	Status *struct {
		Captured int `json:"captured"`
		Replayed int `json:"replayed"`
	} `json:"status"`
	Headers []struct {
		Name     string   `json:"name"`
		Captured []string `json:"captured"`
		Replayed []string `json:"replayed"`
	} `json:"headers"`
	Body *struct {
		Kind          string   `json:"kind"`
		Changes       []string `json:"changes"`
		Diff          string   `json:"diff"`
		CapturedBytes int      `json:"captured_bytes"`
		ReplayedBytes int      `json:"replayed_bytes"`
	} `json:"body"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Differs counts the requests answered otherwise or whose replay failed.
func (r ReplayReport) Differs() int { return r.Summary.Different + r.Summary.Failed }

// boardScript is a script as the board lists it.
type boardScript struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	ActiveVersion int    `json:"active_version"`
	LatestVersion int    `json:"latest_version"`
}

// replayChanges saves each script that the plan updates as a draft (or
// reuses the draft of that source the board has), replays it against
// its captured requests and prints the reports. It returns how many
// requests differ in all.
func (b Board) replayChanges(ctx context.Context, appID string, plan Plan, body map[string]any, out io.Writer) (int, error) {
	var list struct {
		Scripts []boardScript `json:"scripts"`
	}
	if err := b.do(ctx, "GET", "/api/v1/admin/scripts?app_id="+url.QueryEscape(appID), nil, &list); err != nil {
		return 0, fmt.Errorf("list the app's scripts: %w", err)
	}
	byName := map[string]boardScript{}
	for _, s := range list.Scripts {
		byName[s.Name] = s
	}
	sources := map[string]string{}
	for _, s := range body["scripts"].([]map[string]any) {
		sources[s["name"].(string)] = s["source"].(string)
	}
	differ := 0
	for _, c := range plan.Changes {
		if c.Kind == "script" && c.Action == "create" {
			fmt.Fprintf(out, "replay of %s: a new script, nothing to replay\n", c.Name)
		}
		if c.Kind != "script" || c.Action != "update" {
			continue
		}
		sc, ok := byName[c.Name]
		if !ok {
			continue
		}
		version, err := b.draft(ctx, sc, sources[c.Name])
		if err != nil {
			return 0, fmt.Errorf("save %s as a draft: %w", c.Name, err)
		}
		var rep ReplayReport
		if err := b.do(ctx, "POST", "/api/v1/admin/scripts/"+url.PathEscape(sc.ID)+"/versions/"+fmt.Sprint(version)+"/replay", nil, &rep); err != nil {
			return 0, fmt.Errorf("replay %s version %d: %w", c.Name, version, err)
		}
		PrintReplay(out, c.Name, rep)
		differ += rep.Differs()
	}
	return differ, nil
}

// draft is the number of a draft of sc with source: the board's latest
// version if it is one, else a new one.
func (b Board) draft(ctx context.Context, sc boardScript, source string) (int, error) {
	if sc.LatestVersion > sc.ActiveVersion {
		var v struct {
			Source string `json:"source"`
		}
		if err := b.do(ctx, "GET", fmt.Sprintf("/api/v1/admin/scripts/%s/versions/%d", url.PathEscape(sc.ID), sc.LatestVersion), nil, &v); err != nil {
			return 0, err
		}
		if v.Source == source {
			return sc.LatestVersion, nil
		}
	}
	var saved boardScript
	if err := b.do(ctx, "PUT", "/api/v1/admin/scripts/"+url.PathEscape(sc.ID), map[string]any{"source": source, "activate": false}, &saved); err != nil {
		return 0, err
	}
	return saved.LatestVersion, nil
}

// PrintReplay writes a replay's report: a summary line, then what
// differs for each request that does.
func PrintReplay(out io.Writer, name string, r ReplayReport) {
	if !r.CaptureEnabled {
		fmt.Fprintf(out, "replay of %s version %d: request capture is off for this script, nothing to replay\n", name, r.Version)
		return
	}
	fmt.Fprintf(out, "replay of %s version %d against %d captured request(s): %d same, %d different, %d failed\n",
		name, r.Version, r.Summary.Total, r.Summary.Same, r.Summary.Different, r.Summary.Failed)
	for _, q := range r.Requests {
		if q.Same {
			continue
		}
		fmt.Fprintf(out, "  %s %s\n", q.Method, q.URL)
		if e := q.Error; e != nil {
			fmt.Fprintf(out, "    error %s: %s\n", e.Code, e.Message)
		}
		if s := q.Status; s != nil {
			fmt.Fprintf(out, "    status %d → %d\n", s.Captured, s.Replayed)
		}
		for _, h := range q.Headers {
			fmt.Fprintf(out, "    header %s: %s → %s\n", h.Name, headerValue(h.Captured), headerValue(h.Replayed))
		}
		if b := q.Body; b != nil {
			switch b.Kind {
			case "json":
				for _, c := range b.Changes {
					fmt.Fprintf(out, "    body %s\n", c)
				}
			case "text":
				for _, l := range strings.Split(strings.TrimRight(b.Diff, "\n"), "\n") {
					fmt.Fprintf(out, "    %s\n", l)
				}
			default:
				fmt.Fprintf(out, "    body differs (%d bytes → %d bytes)\n", b.CapturedBytes, b.ReplayedBytes)
			}
		}
	}
}

func headerValue(v []string) string {
	if v == nil {
		return "(absent)"
	}
	return strings.Join(v, ", ")
}
