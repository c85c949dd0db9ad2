package tui

import (
	"fmt"
	"strings"
)

// diffOp is one line of a line diff: ' ' kept, '-' removed, '+' added.
type diffOp struct {
	kind byte
	line string
}

// maxDiffCells bounds the work of diffLines (lines of a × lines of b);
// past it, the diff is the whole old text removed and the new one added.
const maxDiffCells = 4 << 20

// diffLines is the shortest line diff of a to b, by longest common
// subsequence.
func diffLines(a, b []string) []diffOp {
	// Common prefix and suffix need no table.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []diffOp
	for _, l := range a[:pre] {
		ops = append(ops, diffOp{' ', l})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma)*len(mb) > maxDiffCells {
		for _, l := range ma {
			ops = append(ops, diffOp{'-', l})
		}
		for _, l := range mb {
			ops = append(ops, diffOp{'+', l})
		}
	} else {
		// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
		lcs := make([][]int32, len(ma)+1)
		for i := range lcs {
			lcs[i] = make([]int32, len(mb)+1)
		}
		for i := len(ma) - 1; i >= 0; i-- {
			for j := len(mb) - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(ma) || j < len(mb) {
			switch {
			case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
				ops = append(ops, diffOp{' ', ma[i]})
				i++
				j++
			case i < len(ma) && (j == len(mb) || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, diffOp{'-', ma[i]})
				i++
			default:
				ops = append(ops, diffOp{'+', mb[j]})
				j++
			}
		}
	}
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, diffOp{' ', l})
	}
	return ops
}

// unifiedDiff renders the changes of a to b with n lines of context, each
// line prefixed by " ", "-" or "+", and hunks headed "@@ -l +l @@". It is
// "" when nothing changed.
func unifiedDiff(a, b string, n int, st *styles) string {
	ops := diffLines(splitLines(a), splitLines(b))
	changed := make([]bool, len(ops))
	any := false
	for i, op := range ops {
		if op.kind != ' ' {
			any = true
			for j := max(0, i-n); j <= min(len(ops)-1, i+n); j++ {
				changed[j] = true
			}
		}
	}
	if !any {
		return ""
	}
	var out []string
	la, lb := 1, 1
	for i, op := range ops {
		if changed[i] && (i == 0 || !changed[i-1]) {
			out = append(out, st.faint.Render(fmt.Sprintf("@@ -%d +%d @@", la, lb)))
		}
		if changed[i] {
			line := string(op.kind) + " " + op.line
			switch op.kind {
			case '-':
				line = st.removed.Render(line)
			case '+':
				line = st.added.Render(line)
			}
			out = append(out, line)
		}
		if op.kind != '+' {
			la++
		}
		if op.kind != '-' {
			lb++
		}
	}
	return strings.Join(out, "\n")
}

// splitLines splits a source into lines, without a last empty one.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
