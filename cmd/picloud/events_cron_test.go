package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/testkit"
)

// cronEnv makes cron schedules take a seconds field, so that tests see
// fires every second or two instead of every minute.
const cronEnv = "PICLOUD_CRON_SECONDS=true"

// cronScript logs the slot of each run; its fetch handler answers too, so
// that HTTP and cron share the script.
const cronScript = `export default {
  fetch() { return new Response("http ok") },
  async scheduled(controller, env, ctx) {
    console.log("slot=" + controller.scheduledTime + " cron=" + controller.cron)
  },
}`

// execution is the part of an execution record these tests read.
type execution struct {
	ID        int64  `json:"id"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Trigger   string `json:"trigger"`
	ErrorCode string `json:"error_code"`
	Error     string `json:"error"`
	Console   []struct {
		Message string `json:"message"`
	} `json:"console"`
}

// executions lists the script's execution records, oldest first.
func (d *daemon) executions(scriptID string) []execution {
	d.t.Helper()
	r := d.call("GET", "/api/v1/admin/logs?limit=1000&script_id="+url.QueryEscape(scriptID), "")
	d.expect(r, 200)
	var out struct {
		Executions []execution `json:"logs"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		d.t.Fatalf("logs: %v: %s", err, r.body)
	}
	slices.Reverse(out.Executions)
	return out.Executions
}

// cronSlots returns the slot of each cron run of the script, in run order.
func (d *daemon) cronSlots(scriptID string) []string {
	d.t.Helper()
	var slots []string
	for _, e := range d.executions(scriptID) {
		if e.Trigger != "cron" {
			continue
		}
		for _, l := range e.Console {
			if s, ok := strings.CutPrefix(l.Message, "slot="); ok {
				slots = append(slots, strings.Fields(s)[0])
			}
		}
	}
	return slots
}

// awaitSlots waits until the script has at least n cron runs and returns
// their slots.
func (d *daemon) awaitSlots(scriptID string, n int, within time.Duration) []string {
	d.t.Helper()
	var slots []string
	testkit.Eventually(d.t, within, fmt.Sprintf("%d cron runs", n), func() error {
		if slots = d.cronSlots(scriptID); len(slots) < n {
			return fmt.Errorf("%d runs so far: %v", len(slots), slots)
		}
		return nil
	})
	return slots
}

// addTrigger adds a trigger to a script and returns its id.
func (d *daemon) addTrigger(scriptID, body string) string {
	d.t.Helper()
	r := d.call("POST", "/api/v1/admin/scripts/"+scriptID+"/triggers", body)
	d.expect(r, 201)
	return r.field(d.t, "id").(string)
}

// checkOnceEach fails if a slot ran twice.
func checkOnceEach(t *testing.T, slots []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range slots {
		if seen[s] {
			t.Errorf("slot %s ran twice: %v", s, slots)
		}
		seen[s] = true
	}
}

// checkConsecutive fails if the slots, in milliseconds, are not each
// period after the one before: a slot was lost.
func checkConsecutive(t *testing.T, slots []string, period time.Duration) {
	t.Helper()
	sorted := slices.Clone(slots)
	slices.SortFunc(sorted, func(a, b string) int { return int(atoi(t, a) - atoi(t, b)) })
	for i := 1; i < len(sorted); i++ {
		if gap := atoi(t, sorted[i]) - atoi(t, sorted[i-1]); gap != period.Milliseconds() {
			t.Errorf("slots %s and %s are %d ms apart, want %d: %v", sorted[i-1], sorted[i], gap, period.Milliseconds(), sorted)
		}
	}
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("slot %q: %v", s, err)
	}
	return n
}

// TestCronTriggers drives cron triggers through the real daemon: bad
// settings are refused naming the problem, a trigger fires on its
// schedule with every run in the execution log as "cron", run now runs
// once more, a failing run is retried unless it calls noRetry(), and a
// deleted trigger stops.
func TestCronTriggers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), cronEnv)
	d.startAsOwner()
	id := d.deploy("", "ticker", cronScript, "GET", "/ticker")

	for _, c := range []struct{ body, want string }{
		{`{"type":"cron","schedule":"61 * * * * *"}`, "above maximum"},
		{`{"type":"cron","schedule":"*/5 * * * * *","timezone":"Mars/Olympus"}`, `unknown time zone \"Mars/Olympus\"`},
		{`{"type":"pigeon","schedule":"@daily"}`, `unknown trigger type \"pigeon\"`},
		{`{"type":"cron","schedule":"@daily","color":"red"}`, `unknown field \"color\"`},
		{`{"type":"cron"}`, "needs a schedule"},
		{`{"type":"cron","schedule":"@daily","misfire":"sometimes"}`, `misfire \"sometimes\"`},
	} {
		d.expect(d.call("POST", "/api/v1/admin/scripts/"+id+"/triggers", c.body), 400, c.want)
	}
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id+"/triggers", ""), 200, `"triggers":[]`)

	t.Run("fires on its schedule", func(t *testing.T) {
		trig := d.addTrigger(id, `{"type":"cron","schedule":"*/2 * * * * *","timezone":"Europe/Berlin"}`)
		listed := d.call("GET", "/api/v1/admin/scripts/"+id+"/triggers", "")
		d.expect(listed, 200, trig, `"timezone":"Europe/Berlin"`, `"misfire":"run_once"`, `"max_retries":3`, `"next_run_at":"`)
		d.expect(d.call("GET", "/ticker", ""), 200, "http ok")
		slots := d.awaitSlots(id, 3, 30*time.Second)
		d.expect(d.call("DELETE", "/api/v1/admin/triggers/"+trig, ""), 204)
		checkOnceEach(t, slots)
		checkConsecutive(t, slots, 2*time.Second)
		for _, e := range d.executions(id) {
			switch e.Trigger {
			case "cron":
				if e.Path != "*/2 * * * * *" || e.Method != "" || e.Status != 204 {
					t.Errorf("cron record %+v", e)
				}
			case "http":
				if e.Path != "/ticker" || e.Method != "GET" {
					t.Errorf("http record %+v", e)
				}
			default:
				t.Errorf("record with trigger %q", e.Trigger)
			}
		}
		// Prometheus sees how late each run started.
		tok := d.call("POST", "/api/v1/admin/tokens", mustJSON(map[string]any{"name": "prometheus", "capabilities": []string{"metrics.read"}}))
		d.expect(tok, 201)
		d.await("the cron runs' lag is measured", "GET", "/healthz", "", func(reply) error {
			lag := d.scrape(tok.field(t, "token").(string))["picloud_cron_lag_seconds"]
			if lag == nil || len(lag.Metric) != 1 || lag.Metric[0].GetHistogram().GetSampleCount() < 3 {
				return fmt.Errorf("picloud_cron_lag_seconds: %v", lag)
			}
			return nil
		})
		// Deleted, it fires no more: a run now of another trigger of the
		// same queue goes through, and the deleted one added nothing.
		after := len(d.cronSlots(id))
		other := d.deploy("", "marker", cronScript, "GET", "/marker")
		mark := d.addTrigger(other, `{"type":"cron","schedule":"@yearly"}`)
		d.expect(d.call("POST", "/api/v1/admin/triggers/"+mark+"/run", ""), 202)
		d.awaitSlots(other, 1, 30*time.Second)
		if n := len(d.cronSlots(id)); n > after+1 { // one run may have been under way
			t.Errorf("%d runs after the trigger was deleted", n-after)
		}
		d.expect(d.call("POST", "/api/v1/admin/triggers/"+trig+"/run", ""), 404)
	})

	t.Run("run now", func(t *testing.T) {
		sc := d.deploy("", "on-demand", cronScript, "GET", "/on-demand")
		trig := d.addTrigger(sc, `{"type":"cron","schedule":"@yearly"}`)
		before := time.Now().UnixMilli()
		d.expect(d.call("POST", "/api/v1/admin/triggers/"+trig+"/run", ""), 202)
		slots := d.awaitSlots(sc, 1, 30*time.Second)
		if s := atoi(t, slots[0]); s < before-1000 {
			t.Errorf("run now has slot %d, before the request at %d", s, before)
		}
		d.expect(d.call("GET", "/api/v1/admin/audit", ""), 200, "trigger.run", "trigger.create")
	})

	t.Run("retries", func(t *testing.T) {
		// Always throwing, with one retry: two runs, then the failure is
		// final. Calling noRetry(): one run.
		for _, c := range []struct {
			name, body string
			runs       int
		}{
			{"throws", `throw new Error("boom")`, 2},
			{"no-retry", `controller.noRetry(); throw new Error("boom")`, 1},
		} {
			from := d.output.Len()
			sc := d.deploy("", c.name, `export default { async scheduled(controller) {
				console.log("slot=" + controller.scheduledTime); `+c.body+` } }`, "GET", "/"+c.name)
			trig := d.addTrigger(sc, `{"type":"cron","schedule":"@yearly","max_retries":1}`)
			d.expect(d.call("POST", "/api/v1/admin/triggers/"+trig+"/run", ""), 202)
			d.logged(from, `msg="cron run failed, not retried" component=jobs trigger=`+trig)
			var execs []execution
			testkit.Eventually(t, 30*time.Second, c.name+": its runs in the log", func() error {
				if execs = d.executions(sc); len(execs) < c.runs {
					return fmt.Errorf("%d runs", len(execs))
				}
				return nil
			})
			if len(execs) != c.runs {
				t.Errorf("%s: %d runs, want %d", c.name, len(execs), c.runs)
			}
			for _, e := range execs {
				if e.ErrorCode != "script.exception" || e.Trigger != "cron" || e.Status != 500 {
					t.Errorf("%s: record %+v", c.name, e)
				}
			}
		}
	})
}

// TestCronSurvivesRestart stops the daemon between two fires and starts it
// again: no slot is lost and none runs twice.
func TestCronSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), cronEnv)
	d.startAsOwner()
	id := d.deploy("", "ticker", cronScript, "GET", "/ticker")
	d.addTrigger(id, `{"type":"cron","schedule":"*/5 * * * * *"}`)
	before := d.awaitSlots(id, 2, 30*time.Second)
	d.stop()
	d.start()
	slots := d.awaitSlots(id, len(before)+2, 40*time.Second)
	checkOnceEach(t, slots)
	checkConsecutive(t, slots, 5*time.Second)
}

// TestCronRunsMissedSlotsOnce keeps the daemon down over several slots:
// when it is back, the missed slots run once, not once each.
func TestCronRunsMissedSlotsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), cronEnv)
	d.startAsOwner()
	id := d.deploy("", "ticker", cronScript, "GET", "/ticker")
	d.addTrigger(id, `{"type":"cron","schedule":"*/2 * * * * *"}`)
	before := d.awaitSlots(id, 1, 30*time.Second)
	d.stop()
	// The downtime is what is under test: slots pass while no daemon runs.
	time.Sleep(9 * time.Second)
	d.start()
	up := time.Now().UnixMilli()
	// Wait for the schedule to go on past the restart: the runs for the
	// missed slots came before.
	var slots []string
	testkit.Eventually(t, 30*time.Second, "a run for a slot after the restart", func() error {
		slots = d.cronSlots(id)
		if len(slots) == 0 || atoi(t, slots[len(slots)-1]) <= up {
			return fmt.Errorf("slots %v, restarted at %d", slots, up)
		}
		return nil
	})
	checkOnceEach(t, slots)
	last := atoi(t, before[len(before)-1])
	missed := (up - last) / 2000
	ran := 0
	for _, s := range slots[len(before):] {
		if atoi(t, s) <= up {
			ran++
		}
	}
	if ran < 1 || ran > 2 || missed < 4 {
		t.Errorf("%d slots passed while the daemon was down; %d runs for them, want 1 (2 if a slot came during start-up): %v", missed, ran, slots)
	}
}

// TestCronTwoDaemonsFireOnce runs two daemons on one database: each slot
// runs once, on one of them.
func TestCronTwoDaemonsFireOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	dbURL := pgtest.NewDatabaseURL(t)
	d1 := newDaemon(t, bin, cronEnv, "DATABASE_URL="+dbURL)
	d1.startAsOwner()
	d2 := newDaemon(t, bin, cronEnv, "DATABASE_URL="+dbURL)
	d2.start()
	d2.token = d1.token // sessions live in the shared database
	id := d2.deploy("", "ticker", cronScript, "GET", "/ticker")
	d1.addTrigger(id, `{"type":"cron","schedule":"* * * * * *"}`)
	slots := d1.awaitSlots(id, 8, 40*time.Second)
	checkOnceEach(t, slots)
	checkConsecutive(t, slots, time.Second)
	d2.stop()
	// The other daemon carries on alone.
	slots = d1.awaitSlots(id, len(slots)+3, 30*time.Second)
	checkOnceEach(t, slots)
}

// TestCronKilledMidRun kills the daemon with SIGKILL while a run is under
// way: after a restart the run is taken up again and completes; nothing
// is lost.
func TestCronKilledMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), cronEnv, "PICLOUD_SANDBOX_WALL_TIME_MS=4000", "PICLOUD_SANDBOX_MAX_WALL_TIME_MS=5000")
	t.Cleanup(func() { killCluster(t, d.dataDir) })
	d.startAsOwner()
	id := d.deploy("", "slow", `import { kv } from "picloud"
const runs = kv.collection("runs")
export default {
  async fetch() { return Response.json({ started: (await runs.get("started")) ?? 0, done: (await runs.get("done")) ?? 0 }) },
  async scheduled(controller) {
    await runs.put("started", ((await runs.get("started")) ?? 0) + 1)
    await new Promise((r) => setTimeout(r, 2500))
    await runs.put("done", ((await runs.get("done")) ?? 0) + 1)
    console.log("slot=" + controller.scheduledTime)
  },
}`, "GET", "/probe")
	trig := d.addTrigger(id, `{"type":"cron","schedule":"@yearly"}`)
	d.expect(d.call("POST", "/api/v1/admin/triggers/"+trig+"/run", ""), 202)
	d.await("the run to start", "GET", "/probe", "", has(`"started":1`, `"done":0`))
	d.kill(false)
	d.start()
	testkit.Eventually(t, 120*time.Second, "the killed run to be taken up and complete", func() error {
		r := d.call("GET", "/probe", "")
		if !strings.Contains(r.body, `"done":1`) {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
	d.expect(d.call("GET", "/probe", ""), 200, `"started":2`, `"done":1`)
	slots := d.awaitSlots(id, 1, 30*time.Second)
	if len(slots) != 1 {
		t.Errorf("%d completed runs, want 1: %v", len(slots), slots)
	}
}

// TestCronFloodLeavesHTTPServed fills the executors with long cron runs:
// background work holds at most its share of the cap, so every HTTP
// request meanwhile is served.
func TestCronFloodLeavesHTTPServed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), cronEnv, "PICLOUD_MAX_CONCURRENT_EXECUTIONS=2", "PICLOUD_BACKGROUND_SHARE_PERCENT=50")
	d.startAsOwner()
	d.deploy("", "hello", `export default () => new Response("hello")`, "GET", "/hello")
	var busy []string
	for i := range 4 {
		id := d.deploy("", fmt.Sprint("busy-", i), `export default { async scheduled(c) {
			console.log("slot=" + c.scheduledTime)
			await new Promise((r) => setTimeout(r, 1500))
		} }`, "GET", fmt.Sprint("/busy-", i))
		d.addTrigger(id, `{"type":"cron","schedule":"* * * * * *"}`)
		busy = append(busy, id)
	}
	// Once background work is under way, HTTP requests keep being served.
	d.awaitSlots(busy[0], 1, 30*time.Second)
	// Requests spread over a few seconds of the flood: the pause between
	// them is the load pattern, not a wait for something.
	n := 0
	for deadline := time.Now().Add(6 * time.Second); time.Now().Before(deadline); n++ {
		d.expect(d.call("GET", "/hello", ""), 200, "hello")
		time.Sleep(20 * time.Millisecond)
	}
	total := 0
	for _, id := range busy {
		total += len(d.cronSlots(id))
	}
	t.Logf("%d HTTP requests served during %d cron runs", n, total)
	if total < 3 {
		t.Errorf("only %d cron runs: the flood did not happen", total)
	}
}

// TestCronTriggersInTheTUI adds a cron trigger in the terminal UI and runs
// it now from there: the run is in the execution log.
func TestCronTriggersInTheTUI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	bin := buildBinary(t)
	d := newDaemon(t, bin)
	d.startAsOwner()
	id := d.deploy("", "nightly", cronScript, "GET", "/nightly")

	term := startTerminal(t, d.env, bin, "tui")
	term.waitFor("default")
	term.send(enter)
	term.waitFor("nightly")
	term.send("c")
	term.waitFor("no triggers")
	term.send("a")
	term.waitFor("cron schedule [time zone]")
	term.send("@yearly Europe/Berlin", enter)
	term.waitFor("Europe/Berlin")
	d.expect(d.call("GET", "/api/v1/admin/scripts/"+id+"/triggers", ""), 200, `"schedule":"@yearly"`, `"timezone":"Europe/Berlin"`)
	term.send("x")
	ranAt := term.mark
	slots := d.awaitSlots(id, 1, 30*time.Second)
	if len(slots) != 1 {
		t.Errorf("run now from the TUI: %d runs", len(slots))
	}
	// Reloaded, the list shows the last run, today (the next is next
	// year); the screen may have shown it before the reload already.
	term.send("r")
	term.waitForSince(ranAt, time.Now().Format("2006-01-02 "))
}

// TestCronPlansTriggersWithoutRuns: a trigger without planned runs (as a
// restore from a backup leaves it: backups hold triggers, not the job
// engine's jobs) is planned on a reload, and fires. The job engine's start
// plans the same way (jobs.Engine.PlanUnplanned).
func TestCronPlansTriggersWithoutRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts PostgreSQL")
	}
	d := newDaemon(t, buildBinary(t), cronEnv)
	d.startAsOwner()
	planned := d.deploy("", "ticker", cronScript, "GET", "/ticker")
	restored := d.deploy("", "restored", cronScript, "GET", "/restored")
	trigger := d.addTrigger(planned, `{"type":"cron","schedule":"*/2 * * * * *"}`)

	// The same trigger on the second script, written as a restore writes
	// it: a row, and no job.
	db := txDB(t, d)
	if _, err := db.Exec(context.Background(), `INSERT INTO triggers (app_id, script_id, type, config)
SELECT app_id, $2, type, config FROM triggers WHERE id = $1`, trigger, restored); err != nil {
		t.Fatal(err)
	}
	mark := d.output.Len()
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.logged(mark, "planned a trigger that had no planned run")
	checkOnceEach(t, d.awaitSlots(restored, 2, 40*time.Second))
}
