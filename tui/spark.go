package tui

import (
	"strings"
	"time"

	"github.com/picloud/picloud/tui/client"
)

// sparkBars are the eight heights of a sparkline's bars.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values as one bar each, scaled to the largest; a zero
// is a space, so that a quiet minute reads as nothing happening.
func sparkline(values []int64) string {
	var peak int64
	for _, v := range values {
		peak = max(peak, v)
	}
	var b strings.Builder
	for _, v := range values {
		switch {
		case v <= 0 || peak == 0:
			b.WriteRune(' ')
		default:
			i := int((v*int64(len(sparkBars)) - 1) / peak)
			b.WriteRune(sparkBars[min(i, len(sparkBars)-1)])
		}
	}
	return b.String()
}

// perMinute spreads rollups over the n minutes that end with the one of
// now: requests and errors per minute, oldest first, for each script (""
// for all of them together).
func perMinute(rs []client.Rollup, n int, now time.Time) (requests, errors map[string][]int64) {
	requests, errors = map[string][]int64{}, map[string][]int64{}
	last := now.UTC().Truncate(time.Minute)
	first := last.Add(-time.Duration(n-1) * time.Minute)
	add := func(m map[string][]int64, key string, i int, v int64) {
		if m[key] == nil {
			m[key] = make([]int64, n)
		}
		m[key][i] += v
	}
	for _, r := range rs {
		at := r.At.UTC().Truncate(time.Minute)
		if at.Before(first) || at.After(last) {
			continue
		}
		i := int(at.Sub(first) / time.Minute)
		for _, key := range []string{r.ScriptID, ""} {
			add(requests, key, i, r.Count)
			add(errors, key, i, r.Errors)
		}
	}
	return requests, errors
}
