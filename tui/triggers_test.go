package tui

import "testing"

func TestSplitSchedule(t *testing.T) {
	for _, c := range []struct{ in, schedule, zone string }{
		{"*/5 * * * *", "*/5 * * * *", ""},
		{"*/5 * * * * Europe/Berlin", "*/5 * * * *", "Europe/Berlin"},
		{"  @daily   UTC ", "@daily", "UTC"},
		{"@hourly", "@hourly", ""},
		{"* * *", "* * *", ""}, // the API names what is wrong
	} {
		if s, z := splitSchedule(c.in); s != c.schedule || z != c.zone {
			t.Errorf("splitSchedule(%q) = %q, %q; want %q, %q", c.in, s, z, c.schedule, c.zone)
		}
	}
}
