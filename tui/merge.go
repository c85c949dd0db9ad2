package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aymanbagabas/go-udiff"
)

// sidedEdit is a change of base made by one side of a merge.
type sidedEdit struct {
	udiff.Edit
	mine bool
}

// merge3 applies the changes from base to mine onto theirs, line by line,
// as diff3 does. Where a change of each side touches or meets the same
// lines of base differently, both texts stay, between conflict markers
// that name theirs as theirsName; conflicts counts those places.
func merge3(base, mine, theirs, theirsName string) (merged string, conflicts int) {
	endsInNewline := strings.HasSuffix(mine, "\n") || mine == ""
	base, mine, theirs = withFinalNewline(base), withFinalNewline(mine), withFinalNewline(theirs)
	var all []sidedEdit
	for _, e := range udiff.Lines(base, theirs) {
		all = append(all, sidedEdit{e, false})
	}
	for _, e := range udiff.Lines(base, mine) {
		all = append(all, sidedEdit{e, true})
	}
	slices.SortStableFunc(all, func(a, b sidedEdit) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return a.End - b.End
	})
	var out strings.Builder
	at := 0
	for len(all) > 0 {
		// A cluster is a run of edits each of which touches or meets the
		// ones before it.
		n, end := 1, all[0].End
		for n < len(all) && all[n].Start <= end {
			end = max(end, all[n].End)
			n++
		}
		cluster, start := all[:n], all[0].Start
		all = all[n:]
		out.WriteString(base[at:start])
		at = end
		ours, their := sideOf(cluster, true, start), sideOf(cluster, false, start)
		region := base[start:end]
		mineText, err1 := udiff.Apply(region, ours)
		theirText, err2 := udiff.Apply(region, their)
		switch {
		case err1 != nil || err2 != nil:
			// Cannot happen for edits made by udiff.Lines; keep mine.
			mineText, theirText = region, region
			fallthrough
		case len(ours) == 0 || theirText == mineText:
			out.WriteString(theirText)
		case len(their) == 0:
			out.WriteString(mineText)
		default:
			conflicts++
			fmt.Fprintf(&out, "<<<<<<< yours\n%s=======\n%s>>>>>>> %s\n", mineText, theirText, theirsName)
		}
	}
	out.WriteString(base[at:])
	merged = out.String()
	if !endsInNewline {
		merged = strings.TrimSuffix(merged, "\n")
	}
	return merged, conflicts
}

// sideOf returns one side's edits of a cluster, relative to its start.
func sideOf(cluster []sidedEdit, mine bool, start int) []udiff.Edit {
	var out []udiff.Edit
	for _, e := range cluster {
		if e.mine == mine {
			out = append(out, udiff.Edit{Start: e.Start - start, End: e.End - start, New: e.New})
		}
	}
	return out
}
