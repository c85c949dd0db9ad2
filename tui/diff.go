package tui

import (
	"fmt"
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// unifiedDiff renders the changes of a to b with n lines of context, each
// line prefixed by " ", "-" or "+", and hunks headed "@@ -l,c +l,c @@" as
// in diff -u. It is "" when nothing changed. A missing newline at the end
// of either text is not a change.
//
// The edits come from go-udiff's Myers diff, whose memory grows with the
// size of the change rather than with the product of both lengths.
func unifiedDiff(a, b string, n int, st *styles) string {
	a, b = withFinalNewline(a), withFinalNewline(b)
	u, err := udiff.ToUnifiedDiff("", "", a, udiff.Lines(a, b), n)
	if err != nil || len(u.Hunks) == 0 {
		return ""
	}
	var out []string
	for _, h := range u.Hunks {
		from, to := 0, 0
		for _, l := range h.Lines {
			if l.Kind != udiff.Insert {
				from++
			}
			if l.Kind != udiff.Delete {
				to++
			}
		}
		out = append(out, st.faint.Render(fmt.Sprintf("@@ %s %s @@", hunkRange('-', h.FromLine, from), hunkRange('+', h.ToLine, to))))
		for _, l := range h.Lines {
			text := safeText(strings.TrimSuffix(l.Content, "\n"))
			switch l.Kind {
			case udiff.Delete:
				out = append(out, st.removed.Render("- "+text))
			case udiff.Insert:
				out = append(out, st.added.Render("+ "+text))
			default:
				out = append(out, "  "+text)
			}
		}
	}
	return strings.Join(out, "\n")
}

// hunkRange is one side of a hunk header: "-3" for a single line, "-3,4"
// for several, and "-2,0" for none (after line 2), as diff -u writes them.
func hunkRange(sign byte, start, count int) string {
	switch count {
	case 1:
		return fmt.Sprintf("%c%d", sign, start)
	case 0:
		return fmt.Sprintf("%c%d,0", sign, start-1)
	}
	return fmt.Sprintf("%c%d,%d", sign, start, count)
}

// withFinalNewline ends a non-empty s with a newline.
func withFinalNewline(s string) string {
	if s != "" && !strings.HasSuffix(s, "\n") {
		return s + "\n"
	}
	return s
}
