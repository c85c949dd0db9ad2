package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadText writes a manifest next to a.js and b.js and loads it.
func loadText(t *testing.T, text string) (Manifest, error) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{ManifestFile: text, "a.js": "export default () => new Response('a')\n", "b.js": "export default () => new Response('b')\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return LoadManifest(dir)
}

const twoScripts = "app = \"default\"\n[[scripts]]\nfile = \"a.js\"\n[[scripts]]\nfile = \"b.js\"\n"

// TestManifestRefusesBadVarsAndCrons refuses [vars] and [[scripts.cron]]
// mistakes at the line of the key at fault, with the reason.
func TestManifestRefusesBadVarsAndCrons(t *testing.T) {
	for _, c := range []struct {
		name, manifest string
		line           int
		want           string
	}{
		{"a number", twoScripts + "[vars]\nGREETING = \"hi\"\nLEVEL = 3\n", 8, `variable LEVEL is a TOML integer; a variable's value is a string: write LEVEL = "3"`},
		{"a list", twoScripts + "[vars]\nLEVELS = [\"a\"]\n", 7, "variable LEVELS is a TOML array; a variable's value is a string"},
		{"inline, a bool", "app = \"default\"\nvars = { A = \"x\", DEBUG = true }\n[[scripts]]\nfile = \"a.js\"\n", 2, `variable DEBUG is a TOML bool; a variable's value is a string: write DEBUG = "true"`},
		{"a table in vars", twoScripts + "[vars.db]\nHOST = \"x\"\n", 6, `[vars.db]: vars holds NAME = "value" lines, not tables`},
		{"a dotted name", twoScripts + "[vars]\ndb.host = \"x\"\n", 7, `vars.db.host: a variable is NAME = "value", not a table`},
		{"a bad name", twoScripts + "[vars]\n\"1ST\" = \"x\"\n", 7, `variable name "1ST" must be 1-64 letters, digits or _`},
		{"an inline bad name", "app = \"default\"\nvars = { \"a-b\" = \"x\" }\n[[scripts]]\nfile = \"a.js\"\n", 2, `variable name "a-b"`},
		{"a secret's name", "app = \"default\"\nsecrets = [\"API_KEY\"]\n[[scripts]]\nfile = \"a.js\"\n[vars]\nMODE = \"x\"\nAPI_KEY = \"x\"\n", 7, "API_KEY is listed in secrets: a name is either a secret"},
		{"too long", twoScripts + "[vars]\nBIG = \"" + strings.Repeat("x", 9000) + "\"\n", 7, "variable BIG is 9000 bytes; the limit is 8192"},
		{"vars not a table", "app = \"default\"\nvars = \"x\"\n[[scripts]]\nfile = \"a.js\"\n", 2, "vars is a TOML string; it must be a table of strings"},
		{"an unknown zone", twoScripts + "[[scripts.cron]]\nschedule = \"0 9 * * *\"\ntimezone = \"Mars/Olympus\"\n", 8, `unknown time zone "Mars/Olympus": name an IANA time zone`},
		{"Local", twoScripts + "[[scripts.cron]]\nschedule = \"0 9 * * *\"\ntimezone = \"Local\"\n", 8, `time zone "Local" is not allowed`},
		{"a bad schedule", twoScripts + "[[scripts.cron]]\nschedule = \"every day\"\n", 7, `schedule "every day"`},
		{"a bad plain schedule", "app = \"default\"\n[[scripts]]\nfile = \"a.js\"\ncrons = [\"@hourly\", \"61 * * * *\"]\n", 4, `schedule "61 * * * *"`},
		{"no schedule", twoScripts + "[[scripts.cron]]\ntimezone = \"UTC\"\n", 6, "this cron has no schedule"},
		{"a bad misfire", twoScripts + "[[scripts.cron]]\nschedule = \"@daily\"\nmisfire = \"later\"\n", 8, `misfire "later": it is "run_once" or "skip"`},
		{"too many retries", twoScripts + "[[scripts.cron]]\nschedule = \"@daily\"\nmax_retries = 11\n", 8, "max_retries is 11: it is between 0 and 10"},
		{"retries as a string", twoScripts + "[[scripts.cron]]\nschedule = \"@daily\"\nmax_retries = \"3\"\n", 8, "max_retries is a TOML string; it must be an integer"},
		{"an unknown key", twoScripts + "[[scripts.cron]]\nschedule = \"@daily\"\ntz = \"UTC\"\n", 8, `unknown key "scripts.cron.tz"`},
		{"cron as a string", "app = \"default\"\n[[scripts]]\nfile = \"a.js\"\ncron = \"@daily\"\n", 4, "cron is a TOML string; it must be a list of tables"},
		// The second cron of the first script, after the second script's
		// header: each error is at its own script's table.
		{"the right table", "app = \"default\"\n[[scripts]]\nfile = \"a.js\"\n[[scripts.cron]]\nschedule = \"@daily\"\n[[scripts.cron]]\nschedule = \"@hourly\"\nmisfire = \"never\"\n[[scripts]]\nfile = \"b.js\"\n[[scripts.cron]]\nschedule = \"@daily\"\n", 8, `misfire "never"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadText(t, c.manifest)
			var me *ManifestError
			if !asManifestError(err, &me) {
				t.Fatalf("got %v, want a ManifestError", err)
			}
			if me.Line != c.line || !strings.Contains(me.Reason, c.want) {
				t.Fatalf("got line %d: %s\nwant line %d: %s", me.Line, me.Reason, c.line, c.want)
			}
		})
	}
}

func asManifestError(err error, out **ManifestError) bool {
	me, ok := err.(*ManifestError)
	*out = me
	return ok
}

// TestManifestVarsAndCrons reads [vars] and cron settings: an empty [vars]
// is no plain variables (not "leave them"), no [vars] leaves them, and
// max_retries = 0 is kept apart from a key left out.
func TestManifestVarsAndCrons(t *testing.T) {
	m, err := loadText(t, twoScripts)
	if err != nil || m.Vars != nil || m.Scripts[0].Cron != nil || m.Scripts[0].Crons != nil {
		t.Fatalf("without [vars] and crons: %+v, %v", m, err)
	}
	m, err = loadText(t, twoScripts+"[vars]\n")
	if err != nil || m.Vars == nil || len(m.Vars) != 0 {
		t.Fatalf("an empty [vars]: %#v, %v", m.Vars, err)
	}
	m, err = loadText(t, "app = \"default\"\nvars = {}\n[[scripts]]\nfile = \"a.js\"\n")
	if err != nil || m.Vars == nil || len(m.Vars) != 0 {
		t.Fatalf("vars = {}: %#v, %v", m.Vars, err)
	}
	m, err = loadText(t, "app = \"default\"\n[vars]\nGREETING = \"hi there\"\n[[scripts]]\nfile = \"a.js\"\ncrons = [\"@hourly\"]\n"+
		"[[scripts.cron]]\nschedule = \"30 8 * * 1-5\"\ntimezone = \"Europe/Berlin\"\nmisfire = \"skip\"\nmax_retries = 0\n[[scripts.cron]]\nschedule = \"@daily\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if m.Vars["GREETING"] != "hi there" || len(m.Vars) != 1 {
		t.Errorf("vars: %#v", m.Vars)
	}
	sc := m.Scripts[0]
	if len(sc.Crons) != 1 || len(sc.Cron) != 2 {
		t.Fatalf("crons %v, cron %+v", sc.Crons, sc.Cron)
	}
	if c := sc.Cron[0]; c.Timezone != "Europe/Berlin" || c.Misfire != "skip" || c.MaxRetries == nil || *c.MaxRetries != 0 {
		t.Errorf("the first cron table: %+v", c)
	}
	if c := sc.Cron[1]; c.Timezone != "" || c.Misfire != "" || c.MaxRetries != nil {
		t.Errorf("the second cron table: %+v", c)
	}
}
