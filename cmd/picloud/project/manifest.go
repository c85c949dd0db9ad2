package project

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/picloud/picloud/api/routing"
	"github.com/picloud/picloud/api/schedule"
)

// ManifestFile is the name of a project's manifest.
const ManifestFile = "picloud.toml"

// Manifest is a project's picloud.toml: the app it deploys to, its plain
// variables, its scripts and their routes and triggers, and the names of
// the secrets they need.
type Manifest struct {
	// App is the name of the app on the board.
	App string `toml:"app"`
	// Secrets names the secrets the scripts need; their values are set on
	// the board and never written in the manifest.
	Secrets []string `toml:"secrets"`
	// Vars are the app's plain variables: with a [vars] table, even an
	// empty one, a deploy makes them exactly these; without it, they are
	// left as they are.
	Vars    map[string]string `toml:"vars"`
	Scripts []Script          `toml:"scripts"`

	// path and lines place the manifest's keys, for errors found later.
	path  string
	lines map[string]int
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
	// Crons are the schedules of cron triggers in UTC with the default
	// settings, and Cron ([[scripts.cron]]) cron triggers with their
	// settings; the script's cron triggers are both together. When both
	// keys are left out, its triggers are left as they are.
	Crons []string `toml:"crons,omitempty"`
	Cron  []Cron   `toml:"cron,omitempty"`
	// Limits are the script's own limits; when the table is left out,
	// its limits are left as they are.
	Limits *Limits `toml:"limits,omitempty"`
}

// Cron is one [[scripts.cron]] table: a cron trigger with its settings, as
// POST /api/v1/admin/scripts/{id}/triggers takes them; a key left out is
// the board's default (UTC, "run_once", 3 retries).
type Cron struct {
	Schedule   string `toml:"schedule" json:"schedule"`
	Timezone   string `toml:"timezone,omitempty" json:"timezone,omitempty"`
	Misfire    string `toml:"misfire,omitempty" json:"misfire,omitempty"`
	MaxRetries *int   `toml:"max_retries,omitempty" json:"max_retries,omitempty"`
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
	m.path, m.lines = path, lines
	if err := m.check(dir); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// errAt is a ManifestError at the line of key.
func (m *Manifest) errAt(key, format string, args ...any) error {
	return &ManifestError{File: m.path, Line: m.lines[key], Reason: fmt.Sprintf(format, args...)}
}

// varKey is the key whose line a variable's errors name: its own, or the
// vars table's when it was written inline.
func (m *Manifest) varKey(name string) string {
	if _, ok := m.lines["vars."+name]; ok {
		return "vars." + name
	}
	return "vars"
}

// typeMismatch is go-toml's message for a value of the wrong type.
var typeMismatch = regexp.MustCompile(`cannot decode TOML (\w+) into struct field \S+ of type (\S+)`)

// friendlyTypes name the manifest's Go types as a person writes them.
var friendlyTypes = map[string]string{"string": "a string", "[]string": "a list of strings", "int": "an integer", "*int": "an integer",
	"*project.Limits": "a table", "map[string]string": "a table of strings", "[]project.Cron": "a list of tables ([[scripts.cron]])"}

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
// "scripts.0.file", "scripts.0.cron.1.timezone", and each table to the
// line of its header. A secret written with a value, and a variable whose
// value is not a string, are refused here, where their line is known.
func keyLines(path string, text []byte) (map[string]int, error) {
	lines := map[string]int{}
	count := map[string]int{}
	// element is the current element of each array of tables: "scripts"
	// → "scripts.1", "scripts.1.cron" → "scripts.1.cron.0".
	element := map[string]string{}
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
		fail := func(reason string) error { return &ManifestError{File: path, Line: line, Reason: reason} }
		switch e.Kind {
		case unstable.ArrayTable:
			arr := resolve(element, keys)
			table = arr + "." + strconv.Itoa(count[arr])
			count[arr]++
			element[arr] = table
			lines[table] = line
		case unstable.Table:
			table = resolve(element, keys)
			lines[table] = line
		case unstable.KeyValue:
			full := keys
			if table != "" {
				full = table + "." + keys
			}
			lines[full] = line
			if full == "secrets" && e.Value().Kind != unstable.Array || strings.HasPrefix(full, "secrets.") {
				return nil, fail(secretsOnlyNames)
			}
			if full == "vars" && e.Value().Kind == unstable.InlineTable {
				it := e.Value().Children()
				for it.Next() {
					kv := it.Node()
					name, _ := keyOf(kv)
					if err := checkVarValue(name, kv.Value()); err != nil {
						return nil, fail(err.Error())
					}
				}
			}
			if name, ok := strings.CutPrefix(full, "vars."); ok {
				if err := checkVarValue(name, e.Value()); err != nil {
					return nil, fail(err.Error())
				}
			}
		}
		if table == "secrets" {
			return nil, fail(secretsOnlyNames)
		}
		if strings.HasPrefix(table, "vars.") {
			return nil, fail(fmt.Sprintf("[%s]: vars holds NAME = \"value\" lines, not tables", table))
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

const secretsOnlyNames = "secrets lists the names of secrets only, " +
	`as in secrets = ["API_KEY"]: a secret's value never goes in the manifest; set it on the board`

// resolve turns a dotted key into the path of what it names, the arrays
// of tables in it replaced by their current element: "scripts.limits" is
// "scripts.0.limits" in the first [[scripts]].
func resolve(element map[string]string, keys string) string {
	parts := strings.Split(keys, ".")
	out := ""
	for i, part := range parts {
		if out != "" {
			out += "."
		}
		out += part
		if el, ok := element[out]; ok && i < len(parts)-1 {
			out = el
		}
	}
	return out
}

// checkVarValue refuses a variable whose value is not a string, or whose
// name is dotted (a table).
func checkVarValue(name string, v *unstable.Node) error {
	if strings.Contains(name, ".") {
		return fmt.Errorf("vars.%s: a variable is NAME = \"value\", not a table", name)
	}
	switch v.Kind {
	case unstable.String:
	case unstable.Integer, unstable.Float, unstable.Bool:
		return fmt.Errorf("variable %s is a TOML %s; a variable's value is a string: write %s = \"%s\"",
			name, strings.ToLower(v.Kind.String()), name, v.Data)
	default:
		return fmt.Errorf("variable %s is a TOML %s; a variable's value is a string", name, strings.ToLower(v.Kind.String()))
	}
	return nil
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

// variableName is what the board takes as a variable's name.
var variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// Limits the board puts on variables and cron triggers.
const (
	maxVariableBytes   = 8 << 10
	maxCronRetries     = 10
	defaultCronRetries = 3
)

// check refuses what decodes but cannot be deployed.
func (m *Manifest) check(dir string) error {
	fail := m.errAt
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
		for _, c := range sc.Crons {
			if err := checkSchedule(c, ""); err != nil {
				return fail(at+".crons", "%v", err)
			}
		}
		for j, c := range sc.Cron {
			if err := m.checkCron(at+".cron."+strconv.Itoa(j), c); err != nil {
				return err
			}
		}
	}
	secret := map[string]bool{}
	for _, s := range m.Secrets {
		if strings.TrimSpace(s) == "" {
			return fail("secrets", "a secret's name is empty")
		}
		secret[s] = true
	}
	if m.Vars == nil {
		if _, ok := m.lines["vars"]; ok {
			m.Vars = map[string]string{} // an empty [vars]: no plain variables
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Vars)) {
		at := m.varKey(name)
		switch {
		case !variableName.MatchString(name):
			return fail(at, "variable name %q must be 1-64 letters, digits or _, not starting with a digit", name)
		case secret[name]:
			return fail(at, "%s is listed in secrets: a name is either a secret (set on the board) or a plain variable (here), not both", name)
		case len(m.Vars[name]) > maxVariableBytes:
			return fail(at, "variable %s is %d bytes; the limit is %d", name, len(m.Vars[name]), maxVariableBytes)
		}
	}
	return nil
}

// checkCron checks a [[scripts.cron]] table as the board will, at the
// line of the key at fault.
func (m *Manifest) checkCron(at string, c Cron) error {
	if strings.TrimSpace(c.Schedule) == "" {
		return m.errAt(at, "this cron has no schedule: add schedule = \"0 9 * * *\"")
	}
	if _, err := schedule.LoadZone(c.Timezone); err != nil {
		return m.errAt(at+".timezone", "%v", err)
	}
	if err := checkSchedule(c.Schedule, c.Timezone); err != nil {
		return m.errAt(at+".schedule", "%v", err)
	}
	switch schedule.Misfire(c.Misfire) {
	case "", schedule.RunOnce, schedule.Skip:
	default:
		return m.errAt(at+".misfire", "misfire %q: it is %q or %q", c.Misfire, schedule.RunOnce, schedule.Skip)
	}
	if c.MaxRetries != nil && (*c.MaxRetries < 0 || *c.MaxRetries > maxCronRetries) {
		return m.errAt(at+".max_retries", "max_retries is %d: it is between 0 and %d", *c.MaxRetries, maxCronRetries)
	}
	return nil
}

// checkSchedule refuses a schedule that no board reads; whether a leading
// seconds field is taken is the board's to say.
func checkSchedule(expr, tz string) error {
	_, err := schedule.Parse(expr, tz)
	if err == nil {
		return nil
	}
	if _, err6 := schedule.ParseWithSeconds(expr, tz); err6 == nil {
		return nil
	}
	return err
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
