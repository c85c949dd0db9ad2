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

func TestDiffLines(t *testing.T) {
	a := "one\ntwo\nthree\nfour\n"
	b := "one\n2\nthree\nfour\nfive\n"
	var got []string
	for _, op := range diffLines(splitLines(a), splitLines(b)) {
		got = append(got, string(op.kind)+op.line)
	}
	want := " one,-two,+2, three, four,+five"
	if strings.Join(got, ",") != want {
		t.Fatalf("diff = %q, want %q", strings.Join(got, ","), want)
	}
}

func TestUnifiedDiff(t *testing.T) {
	var a, b []string
	for i := 1; i <= 20; i++ {
		a = append(a, fmt.Sprint("line ", i))
		b = append(b, fmt.Sprint("line ", i))
	}
	b[2], b[17] = "changed early", "changed late"
	got := unifiedDiff(strings.Join(a, "\n"), strings.Join(b, "\n"), 1, plainStyles())
	want := "@@ -2 +2 @@\n  line 2\n- line 3\n+ changed early\n  line 4\n@@ -17 +17 @@\n  line 17\n- line 18\n+ changed late\n  line 19"
	if got != want {
		t.Fatalf("unified diff:\n%s\nwant:\n%s", got, want)
	}
	if d := unifiedDiff("same\n", "same", 3, plainStyles()); d != "" {
		t.Errorf("no change gave %q", d)
	}
}
