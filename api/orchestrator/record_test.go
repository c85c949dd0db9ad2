package orchestrator

import (
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// TestPreview: the log keeps the start of a response, cut at a character,
// with its headers and secrets redacted, and leaves the response itself
// as the caller gets it.
func TestPreview(t *testing.T) {
	body := []byte(`{"token":"s3cret-value","name":"Zoë"}` + strings.Repeat("x", 100))
	resp := &engine.Response{Status: 200, Header: engine.Header{"Content-Type": {"application/json"}, "X-Key": {"s3cret-value"}}, Body: body}
	r := redactor([]string{"s3cret-value"})

	p := preview(resp, 1<<10, r)
	if p.Cut || p.Size != len(body) || !strings.HasPrefix(p.Body, `{"token":"[secret]","name":"Zoë"}`) {
		t.Errorf("whole preview %+v", p)
	}
	if got := p.Headers["X-Key"]; len(got) != 1 || got[0] != "[secret]" || p.Headers["Content-Type"][0] != "application/json" {
		t.Errorf("headers %v", p.Headers)
	}
	if string(resp.Body) != string(body) || resp.Header["X-Key"][0] != "s3cret-value" {
		t.Fatal("the preview changed the response the caller gets")
	}

	// 34 bytes end inside the two bytes of "ë": the character goes whole.
	p = preview(resp, 34, nil)
	if !p.Cut || p.Body != `{"token":"s3cret-value","name":"Zo` {
		t.Errorf("cut preview %q (cut %v)", p.Body, p.Cut)
	}
	if p := preview(resp, 0, r); p != nil {
		t.Errorf("a log that keeps no response kept %+v", p)
	}
	if p := preview(nil, 1024, r); p != nil {
		t.Errorf("no response, yet %+v", p)
	}
	// A secret across the edge is redacted whole, not left half.
	if p := preview(resp, 16, r); strings.Contains(p.Body, "s3cret") || p.Body != `{"token":"[secre` {
		t.Errorf("a secret at the edge: %q", p.Body)
	}
	if p := preview(&engine.Response{Status: 200, Body: []byte{0xff, 'a'}}, 1024, nil); p.Body != "\uFFFDa" {
		t.Errorf("invalid UTF-8 kept as %q", p.Body)
	}
}

// TestRecordCronLag: a cron run's record says how long after its slot it
// started (its end less its duration); a request's says nothing.
func TestRecordCronLag(t *testing.T) {
	sc := &model.Script{ID: "s", AppID: "a", ActiveVersion: 1}
	res := &engine.Result{Duration: time.Second}
	slot := time.Now().Add(-3 * time.Second)
	rec := record(sc, Call{Trigger: TriggerCron, Scheduled: &engine.Scheduled{Time: slot}}, res, 0, redactor(nil))
	if rec.CronLag < 2*time.Second || rec.CronLag > time.Minute {
		t.Errorf("a run 2 s after its slot has a lag of %v", rec.CronLag)
	}
	// A run that started before its slot (River hands jobs over early) is
	// not late.
	early := record(sc, Call{Trigger: TriggerCron, Scheduled: &engine.Scheduled{Time: time.Now().Add(time.Minute)}}, res, 0, redactor(nil))
	if early.CronLag != 0 {
		t.Errorf("a run before its slot has a lag of %v", early.CronLag)
	}
	if http := record(sc, Call{}, res, 0, redactor(nil)); http.CronLag != 0 || http.Trigger != TriggerHTTP {
		t.Errorf("a request's record: trigger %q, lag %v", http.Trigger, http.CronLag)
	}
}
