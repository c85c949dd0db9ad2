package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/tui/client"
)

func TestSparkline(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want string
	}{
		{[]int64{0, 1, 2, 4, 8}, " ▁▂▄█"},
		{[]int64{0, 0, 0}, "   "},
		{[]int64{5}, "█"},
		{nil, ""},
	} {
		if got := sparkline(c.in); got != c.want {
			t.Errorf("sparkline(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPerMinute(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 30, 20, 0, time.UTC)
	rs := []client.Rollup{
		{ScriptID: "a", At: now.Truncate(time.Minute), Count: 3, Errors: 1},
		{ScriptID: "a", At: now.Truncate(time.Minute).Add(-2 * time.Minute), Count: 2},
		{ScriptID: "b", At: now.Truncate(time.Minute).Add(-2 * time.Minute), Count: 5, Errors: 5},
		{ScriptID: "b", At: now.Add(-time.Hour), Count: 9}, // before the window
	}
	req, errs := perMinute(rs, 3, now)
	for key, want := range map[string][]int64{"a": {2, 0, 3}, "b": {5, 0, 0}, "": {7, 0, 3}} {
		if got := req[key]; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Errorf("requests of %q = %v, want %v", key, got, want)
		}
	}
	if got := errs[""]; got[0] != 5 || got[2] != 1 {
		t.Errorf("errors = %v", got)
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 workers", 1: "1 worker", 2: "2 workers"} {
		if got := plural(n, "worker"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestNewUserPasswordCheckedAtOnce: a password the board would refuse is
// said so when it is entered, and asked again, before the role is asked.
func TestNewUserPasswordCheckedAtOnce(t *testing.T) {
	m := newTestModel(t, 100, 30)
	us := open(m, newUsersScreen(m.e))
	feed(m, usersMsg{to{us.id()}, []client.User{{Username: "alice", Role: "owner"}}, ""})
	do(m, "n", "bob", "enter", "short", "enter")
	v := m.View()
	if !strings.Contains(v, "password for bob") || strings.Contains(v, "role (owner") ||
		!strings.Contains(v, "it has 5 characters and must have at least 8") {
		t.Fatalf("a short password did not keep the password prompt with the reason:\n%s", v)
	}
	do(m, "long enough", "enter")
	if v := m.View(); !strings.Contains(v, "role (owner, admin or member)") {
		t.Fatalf("a good password did not lead to the role:\n%s", v)
	}
}

// TestCappedColumnGivesTheRestAway: on a wide terminal a capped flexible
// column (the logs' REQUEST) keeps its cap and the other (NOTE) gets the
// rest; on a narrow one they share alike.
func TestCappedColumnGivesTheRestAway(t *testing.T) {
	m := newTestModel(t, 80, 24)
	tb := newTable(m.e.st, "", column{"A", 10, 0}, column{"REQUEST", 0, 40}, column{"NOTE", 0, 0})
	tb.setSize(200, 10)
	if ws := tb.widths(); ws[1] != 40 || ws[2] != 200-2-2-10-40 {
		t.Errorf("at 200 columns: %v", ws)
	}
	tb.setSize(80, 10)
	if ws := tb.widths(); ws[1] != ws[2] || ws[1] > 40 {
		t.Errorf("at 80 columns: %v", ws)
	}
}
