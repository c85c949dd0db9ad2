package appliance

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/picloud/picloud/migrations"
)

// TestREADMESchema keeps the README's capture of the system screen at the
// schema version this build migrates to.
func TestREADMESchema(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  schema +(\d+)$`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md shows no schema line in its system screen")
	}
	if n, _ := strconv.Atoi(string(m[1])); n != migrations.Latest() {
		t.Errorf("README.md shows schema %d; this build migrates to %d", n, migrations.Latest())
	}
}
