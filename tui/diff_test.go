package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

func plainStyles() *styles {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	return newStyles(r, true)
}

func TestUnifiedDiff(t *testing.T) {
	var a, b []string
	for i := 1; i <= 20; i++ {
		a = append(a, fmt.Sprint("line ", i))
		b = append(b, fmt.Sprint("line ", i))
	}
	b[2], b[17] = "changed early", "changed late"
	got := unifiedDiff(strings.Join(a, "\n"), strings.Join(b, "\n"), 1, plainStyles())
	want := "@@ -2,3 +2,3 @@\n  line 2\n- line 3\n+ changed early\n  line 4\n@@ -17,3 +17,3 @@\n  line 17\n- line 18\n+ changed late\n  line 19"
	if got != want {
		t.Fatalf("unified diff:\n%s\nwant:\n%s", got, want)
	}
	if d := unifiedDiff("same\n", "same", 3, plainStyles()); d != "" {
		t.Errorf("no change gave %q", d)
	}
}

func TestUnifiedDiffEdges(t *testing.T) {
	for _, c := range []struct{ name, a, b, want string }{
		{"added and removed lines", "one\ntwo\nthree\nfour\n", "one\n2\nthree\nfour\nfive\n",
			"@@ -1,4 +1,5 @@\n  one\n- two\n+ 2\n  three\n  four\n+ five"},
		{"from nothing", "", "a\nb\n", "@@ -0,0 +1,2 @@\n+ a\n+ b"},
		{"to nothing", "a\n", "", "@@ -1 +0,0 @@\n- a"},
	} {
		if got := unifiedDiff(c.a, c.b, 3, plainStyles()); got != c.want {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, got, c.want)
		}
	}
}

// TestUnifiedDiffLargeSource diffs two 50 000-line sources that differ in
// their first and last lines: between them a full LCS table would hold 2.5
// billion cells, and a diff that gives up shows every line as changed.
func TestUnifiedDiffLargeSource(t *testing.T) {
	var a strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&a, "const v%d = %d\n", i, i)
	}
	b := strings.Replace(a.String(), "const v0 = 0\n", "let v0 = 0\n", 1)
	b = strings.Replace(b, "const v49999 = 49999\n", "let v49999 = 49999\n", 1)
	got := unifiedDiff(a.String(), b, 0, plainStyles())
	want := "@@ -1 +1 @@\n- const v0 = 0\n+ let v0 = 0\n@@ -50000 +50000 @@\n- const v49999 = 49999\n+ let v49999 = 49999"
	if got != want {
		t.Fatalf("diff of one changed line in 50 000:\n%.500s\nwant:\n%s", got, want)
	}
}
