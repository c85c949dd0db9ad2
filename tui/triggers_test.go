package tui

import (
	"strings"
	"testing"

	"github.com/picloud/picloud/tui/client"
)

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

// TestTriggersScreenSaysWhatStartsEach draws a script's triggers of the
// three types: the first column is the schedule, the queue or the address.
func TestTriggersScreenSaysWhatStartsEach(t *testing.T) {
	m := newTestModel(t, 100, 24)
	s := open(m, newTriggersScreen(m.e, shop, hello)).(*triggersScreen)
	feed(m, triggersMsg{s.to(), []client.Trigger{
		{ID: "t1", Type: "cron", Schedule: "*/5 * * * *", Timezone: "Europe/Berlin"},
		{ID: "t2", Type: "queue", Queue: "emails"},
		{ID: "t3", Type: "email", Address: "orders@shop.example"},
	}})
	v := m.View()
	for _, want := range []string{"TRIGGER", "*/5 * * * *", "Europe/Berlin", "queue emails", "email orders@shop.example"} {
		if !strings.Contains(v, want) {
			t.Errorf("the triggers screen has no %q:\n%s", want, v)
		}
	}
}
