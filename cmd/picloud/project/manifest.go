package project

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/picloud/picloud/api/routing"
)

// ManifestFile is the name of a project's manifest.
const ManifestFile = "picloud.toml"

// Manifest is a project's picloud.toml: the app it deploys to, its scripts
// and their routes, and the names of the secrets they need.
type Manifest struct {
	// App is the name of the app on the board.
	App string `toml:"app"`
	// Secrets names the secrets the scripts need; their values are set on
	// the board and never written in the manifest.
	Secrets []string `toml:"secrets"`
	Scripts []Script `toml:"scripts"`
}

// Script is one [[scripts]] entry.
type Script struct {
	// Name is the script's name on the board; the file's base name when
	// empty.
	Name string `toml:"name,omitempty"`
	// File is the script's entry file, relative to the manifest.
	File string `toml:"file"`
	// Routes are "METHOD /path" strings.
	Routes []string `toml:"routes"`
	// Crons are the schedules of the script's cron triggers, in UTC; when
	// the key is left out, the script's triggers are left as they are.
	Crons []string `toml:"crons,omitempty"`
	// Limits are the script's own limits; when the table is left out,
	// its limits are left as they are.
	Limits *Limits `toml:"limits,omitempty"`
}

// Limits are a script's own limits, as PUT /api/v1/admin/scripts/{id}/limits
// takes them; a field left out is the daemon's default.
type Limits struct {
	WallTimeMS    int `toml:"wall_time_ms,omitempty" json:"wall_time_ms,omitempty"`
	ResponseBytes int `toml:"response_bytes,omitempty" json:"response_bytes,omitempty"`
	ConsoleBytes  int `toml:"console_bytes,omitempty" json:"console_bytes,omitempty"`
	CallDepth     int `toml:"call_depth,omitempty" json:"call_depth,omitempty"`
	Timers        int `toml:"timers,omitempty" json:"timers,omitempty"`
	Subrequests   int `toml:"subrequests,omitempty" json:"subrequests,omitempty"`
	DataCalls     int `toml:"data_calls,omitempty" json:"data_calls,omitempty"`
}

// ManifestError is a manifest refused: the file, the line (0 when not
// known) and why.
type ManifestError struct {
	File   string
	Line   int
	Reason string
}

func (e *ManifestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return e.File + ": " + e.Reason
}

// LoadManifest reads and checks dir's picloud.toml: unknown keys, values
// of the wrong type, missing files, invalid routes and secrets given a
// value are refused with their line.
func LoadManifest(dir string) (Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	text, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("read the manifest: %w", err)
	}
	lines, err := keyLines(path, text)
	if err != nil {
		return Manifest{}, err
	}
	var m Manifest
	dec := toml.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, decodeError(path, err, lines)
	}
	if err := m.check(dir, path, lines); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// typeMismatch is go-toml's message for a value of the wrong type.
var typeMismatch = regexp.MustCompile(`cannot decode TOML (\w+) into struct field \S+ of type (\S+)`)

// friendlyTypes name the manifest's Go types as a person writes them.
var friendlyTypes = map[string]string{"string": "a string", "[]string": "a list of strings", "int": "an integer", "*project.Limits": "a table"}

// decodeError turns go-toml's errors into a ManifestError at their line.
func decodeError(path string, err error, lines map[string]int) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		e := strict.Errors[0]
		row, _ := e.Position()
		return &ManifestError{File: path, Line: row, Reason: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		reason := strings.TrimPrefix(de.Error(), "toml: ")
		if m := typeMismatch.FindStringSubmatch(reason); m != nil {
			want := friendlyTypes[m[2]]
			if want == "" {
				want = m[2]
			}
			reason = fmt.Sprintf("%s is a TOML %s; it must be %s", keyAtLine(lines, row), m[1], want)
		}
		return &ManifestError{File: path, Line: row, Reason: reason}
	}
	return &ManifestError{File: path, Reason: strings.TrimPrefix(err.Error(), "toml: ")}
}

// keyAtLine is the last part of the key on a line, or "this value".
func keyAtLine(lines map[string]int, row int) string {
	best := ""
	for k, l := range lines {
		if l == row && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		return "this value"
	}
	parts := strings.Split(best, ".")
	return parts[len(parts)-1]
}

// keyLines maps each key of the document to its line: "app",
// "scripts.0.file", and each table to the line of its header. A secret
// written with a value is refused here, where its line is known.
func keyLines(path string, text []byte) (map[string]int, error) {
	lines := map[string]int{}
	count := map[string]int{}
	table := ""
	var p unstable.Parser
	p.Reset(text)
	for p.NextExpression() {
		e := p.Expression()
		keys, first := keyOf(e)
		if first == nil {
			continue
		}
		line := p.Shape(p.Range(first.Data)).Start.Line
		switch e.Kind {
		case unstable.ArrayTable:
			table = keys + "." + strconv.Itoa(count[keys])
			count[keys]++
			lines[table] = line
		case unstable.Table:
			table = keys
			lines[table] = line
		case unstable.KeyValue:
			full := keys
			if table != "" {
				full = table + "." + keys
			}
			lines[full] = line
			if full == "secrets" && e.Value().Kind != unstable.Array || strings.HasPrefix(full, "secrets.") {
				return nil, &ManifestError{File: path, Line: line, Reason: "secrets lists the names of secrets only, " +
					`as in secrets = ["API_KEY"]: a secret's value never goes in the manifest; set it on the board`}
			}
		}
		if table == "secrets" {
			return nil, &ManifestError{File: path, Line: line, Reason: "secrets lists the names of secrets only, " +
				`as in secrets = ["API_KEY"]: a secret's value never goes in the manifest; set it on the board`}
		}
	}
	if err := p.Error(); err != nil {
		var pe *unstable.ParserError
		if errors.As(err, &pe) {
			return nil, &ManifestError{File: path, Line: p.Shape(p.Range(pe.Highlight)).Start.Line, Reason: pe.Message}
		}
		return nil, &ManifestError{File: path, Reason: err.Error()}
	}
	return lines, nil
}

// keyOf is the dotted key of a table header or key-value, and its first
// key node.
func keyOf(e *unstable.Node) (string, *unstable.Node) {
	var parts []string
	var first *unstable.Node
	it := e.Key()
	for it.Next() {
		n := it.Node()
		if first == nil {
			first = n
		}
		parts = append(parts, string(n.Data))
	}
	return strings.Join(parts, "."), first
}

// check refuses what decodes but cannot be deployed.
func (m *Manifest) check(dir, path string, lines map[string]int) error {
	fail := func(key, format string, args ...any) error {
		return &ManifestError{File: path, Line: lines[key], Reason: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(m.App) == "" {
		return fail("app", "app must name the app on the board, as in app = \"default\"")
	}
	if len(m.Scripts) == 0 {
		return fail("", "no [[scripts]]: name at least one script and its file")
	}
	names := map[string]bool{}
	for i := range m.Scripts {
		sc := &m.Scripts[i]
		at := "scripts." + strconv.Itoa(i)
		if sc.File == "" {
			return fail(at, "this script has no file: add file = \"src/name.ts\"")
		}
		if filepath.IsAbs(sc.File) || strings.HasPrefix(filepath.Clean(sc.File), "..") {
			return fail(at+".file", "file %q must be inside the project directory", sc.File)
		}
		if st, err := os.Stat(filepath.Join(dir, sc.File)); err != nil || st.IsDir() {
			return fail(at+".file", "file %q does not exist", sc.File)
		}
		ext := filepath.Ext(sc.File)
		if ext != ".js" && ext != ".ts" && ext != ".mjs" {
			return fail(at+".file", "file %q is not JavaScript or TypeScript (.js, .mjs or .ts)", sc.File)
		}
		if sc.Name == "" {
			sc.Name = filepath.Base(sc.File)
		}
		if names[sc.Name] {
			return fail(at, "a second script is named %q", sc.Name)
		}
		names[sc.Name] = true
		for _, r := range sc.Routes {
			if _, _, err := ParseRoute(r); err != nil {
				return fail(at+".routes", "route %q: %v", r, err)
			}
		}
	}
	for _, s := range m.Secrets {
		if strings.TrimSpace(s) == "" {
			return fail("secrets", "a secret's name is empty")
		}
	}
	return nil
}

// ParseRoute splits and checks a "METHOD /path" route; "/path" alone is
// any method (*).
func ParseRoute(s string) (method, path string, err error) {
	fields := strings.Fields(s)
	switch len(fields) {
	case 1:
		method, path = "*", fields[0]
	case 2:
		method, path = fields[0], fields[1]
	default:
		return "", "", errors.New(`write a route as "METHOD /path", as in "GET /hello/:name"`)
	}
	m, err := routing.ParseMethod(method)
	if err != nil {
		return "", "", err
	}
	p, err := routing.ParsePattern(path)
	if err != nil {
		return "", "", err
	}
	return m, p.String(), nil
}
