package migrations_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/migrations"
)

// riverFiles hold River's schema, copied from River's own migrations.
var riverFiles = []string{"0013_river_schema.sql", "0014_river_schema_more.sql"}

var riverSection = regexp.MustCompile(`(?s)-- river version (\d+) \([^)]*\)\n(.*?)\n-- end river version (\d+)\n`)

// The copies of River's migrations are River's own text, every version of
// the River in go.mod is there, and nothing else: upgrading River without
// a migration for its new versions fails here.
func TestRiverSchemaIsRiversOwn(t *testing.T) {
	copied := map[int]string{}
	for _, name := range riverFiles {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range riverSection.FindAllStringSubmatch(string(b), -1) {
			v, _ := strconv.Atoi(m[1])
			if m[3] != m[1] {
				t.Fatalf("%s: river version %s ends as version %s", name, m[1], m[3])
			}
			copied[v] = m[2]
		}
	}
	migrator, err := rivermigrate.New[pgx.Tx](riverpgxv5.New(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	all := migrator.AllVersions()
	for _, m := range all {
		want := strings.TrimSpace(strings.ReplaceAll(m.SQLUp, "/* TEMPLATE: schema */", ""))
		got, ok := copied[m.Version]
		if !ok {
			t.Errorf("River's version %d (%s) is not in %v: add a migration with it", m.Version, m.Name, riverFiles)
			continue
		}
		if strings.TrimSpace(got) != want {
			t.Errorf("River's version %d differs from its copy", m.Version)
		}
	}
	if len(copied) != len(all) {
		t.Errorf("%d River versions copied, River has %d", len(copied), len(all))
	}
}

// After PiCloud's migrations, River's own migrator finds its schema
// complete.
func TestRiverSeesItsSchema(t *testing.T) {
	pool := pgtest.NewEmptyDatabase(t)
	if _, err := migrations.Apply(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Errorf("River's migrator: %v", res.Messages)
	}
}
