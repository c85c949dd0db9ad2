package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /metrics with a bearer token and parses it.
func (d *daemon) scrape(token string) map[string]*dto.MetricFamily {
	d.t.Helper()
	req, _ := http.NewRequest("GET", d.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		d.t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		d.t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// counterOf is the value of the counter of family with exactly labels.
func counterOf(f *dto.MetricFamily, labels map[string]string) float64 {
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	return -1
}

var uuidLike = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-`)

// TestMetrics: Prometheus scrapes the real daemon with an API token that
// holds metrics.read; invocations are counted by app, script, trigger and
// outcome, data calls by app, family and outcome; apps' storage shows
// against their quotas; every family of PiCloud's has bounded labels (no
// id, no path); other tokens, anonymous callers and other host names are
// refused; and the minute rollups answer the terminal UI's sparklines.
func TestMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real daemon")
	}
	d := newDaemon(t, buildBinary(t))
	d.startAsOwner()
	hello := d.deploy("", "hello", `export default { fetch() { return new Response("hello") } }`, "GET", "/hello/:who")
	d.deploy("", "boom", `export default { fetch() { throw new Error("boom") } }`, "GET", "/boom")
	for i := 0; i < 3; i++ {
		d.expect(d.call("GET", fmt.Sprintf("/hello/person-%d", i), ""), 200)
	}
	for i := 0; i < 2; i++ {
		d.expect(d.call("GET", "/boom", ""), 500)
	}
	// Two messages wait in a queue no consumer reads.
	d.deploy("", "send", `import { queue } from "picloud"
export default { async fetch() { await queue("mail").sendBatch([{ body: 1 }, { body: 2 }]); return "sent" } }`, "POST", "/send")
	d.expect(d.call("POST", "/send", ""), 200)

	// An app with a tiny storage quota makes a kv call that is answered,
	// one that fails and one its quota refuses; another app writes
	// nothing.
	shop := d.call("POST", "/api/v1/admin/apps", `{"name":"shop"}`)
	d.expect(shop, 201)
	shopID := shop.field(t, "id").(string)
	d.expect(d.call("POST", "/api/v1/admin/apps/"+shopID+"/domains", `{"pattern":"shop.test"}`), 201)
	d.deploy(shopID, "kv", kvScript, "*", "/kv")
	const shopQuota = 1000
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+shopID+"/limits", fmt.Sprintf(`{"storage_bytes": %d}`, shopQuota)), 200)
	d.expect(d.call("POST", "/api/v1/admin/apps", `{"name":"idle"}`), 201)
	kv := kvClient{d: d, host: []string{"Host", "shop.test"}}
	kv.ok("put", "c", "k1", strings.Repeat("v", 300))
	kv.fails("Error", "data.version_mismatch", "put", "c", "k1", "w", map[string]any{"ifVersion": 1000})
	kv.fails("Error", "limit.storage", "put", "c", "k2", strings.Repeat("v", 800))

	tok := d.call("POST", "/api/v1/admin/tokens", mustJSON(map[string]any{"name": "prometheus", "capabilities": []string{"metrics.read"}}))
	d.expect(tok, 201)
	scraper := tok.field(t, "token").(string)

	var families map[string]*dto.MetricFamily
	d.await("the invocations are counted", "GET", "/healthz", "", func(reply) error {
		families = d.scrape(scraper)
		inv := families["picloud_invocations_total"]
		ok := counterOf(inv, map[string]string{"app": "default", "script": "hello", "trigger": "http", "outcome": "ok"})
		bad := counterOf(inv, map[string]string{"app": "default", "script": "boom", "trigger": "http", "outcome": "exception"})
		if ok != 3 || bad != 2 {
			return fmt.Errorf("hello ok %v (want 3), boom exception %v (want 2)", ok, bad)
		}
		return nil
	})
	dataCalls := func(app, family, outcome string) float64 {
		return counterOf(families["picloud_data_calls_total"], map[string]string{"app": app, "family": family, "outcome": outcome})
	}
	for _, c := range []struct {
		app, family, outcome string
		want                 float64
	}{
		{"shop", "kv", "ok", 1}, {"shop", "kv", "error", 1}, {"shop", "kv", "limit", 1},
		{"shop", "docs", "ok", -1}, {"default", "queue", "ok", 1}, {"idle", "kv", "ok", -1},
	} {
		if got := dataCalls(c.app, c.family, c.outcome); got != c.want {
			t.Errorf("data calls of %s, %s, %s: %v, want %v (-1: none)", c.app, c.family, c.outcome, got, c.want)
		}
	}
	// Apps' storage: shop's from its writes; idle's once a scrape had it
	// counted.
	d.await("the apps' storage is shown", "GET", "/healthz", "", func(reply) error {
		fs := d.scrape(scraper)
		storage := func(app string) (used, quota float64) {
			return counterOf(fs["picloud_app_storage_bytes"], map[string]string{"app": app}),
				counterOf(fs["picloud_app_storage_quota_bytes"], map[string]string{"app": app})
		}
		if used, quota := storage("shop"); used < 300 || used > shopQuota || quota != shopQuota {
			return fmt.Errorf("shop uses %v of %v, want 300 to %d of %d", used, quota, shopQuota, shopQuota)
		}
		if used, quota := storage("idle"); used != 0 || quota != 256<<20 {
			return fmt.Errorf("idle uses %v of %v, want 0 of the default 256 MiB", used, quota)
		}
		return nil
	})
	queued := func(state string) float64 {
		return counterOf(families["picloud_queue_messages"], map[string]string{"app": "default", "queue": "mail", "state": state})
	}
	if queued("ready") != 2 || queued("in_flight") != 0 || queued("failed") != 0 {
		t.Errorf("queue mail: ready %v (want 2), in flight %v, failed %v (want 0)", queued("ready"), queued("in_flight"), queued("failed"))
	}
	if age := counterOf(families["picloud_queue_oldest_message_age_seconds"], map[string]string{"app": "default", "queue": "mail"}); age <= 0 {
		t.Errorf("queue mail's oldest message is %v s old", age)
	}
	for _, name := range []string{"picloud_invocation_duration_seconds", "picloud_executions_in_flight", "picloud_executions_max",
		"picloud_overload_refusals_total", "picloud_execution_log_queue_records", "picloud_execution_log_dropped_total",
		"picloud_db_pool_connections", "picloud_db_pool_acquires_total", "picloud_executor_workers", "picloud_executor_bystander_retries_total",
		"go_goroutines", "process_resident_memory_bytes"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	allowed := map[string]bool{"app": true, "script": true, "trigger": true, "outcome": true, "reason": true, "queue": true, "state": true, "family": true}
	for name, f := range families {
		if !strings.HasPrefix(name, "picloud_") {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if !allowed[l.GetName()] {
					t.Errorf("%s has the label %s", name, l.GetName())
				}
				if v := l.GetValue(); uuidLike.MatchString(v) || strings.Contains(v, "/") {
					t.Errorf("%s has an id or a path as a label value: %s=%q", name, l.GetName(), v)
				}
			}
		}
	}

	// Only metrics.read may read them, and only on admin host names.
	reader := d.call("POST", "/api/v1/admin/tokens", mustJSON(map[string]any{"name": "reader",
		"apps": []string{"00000000-0000-0000-0000-000000000001"}, "capabilities": []string{"app.read"}}))
	d.expect(reader, 201)
	for _, c := range []struct {
		auth, host string
		want       int
	}{
		{"Bearer " + reader.field(t, "token").(string), "", 403},
		{"", "", 401},
		{"Bearer " + scraper, "shop.example.com", 421},
	} {
		req, _ := http.NewRequest("GET", d.url+"/metrics", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		if c.host != "" {
			req.Host = c.host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("GET /metrics with %q on %q: %d, want %d", c.auth, c.host, res.StatusCode, c.want)
		}
	}

	// A stop writes the current minute's rollups.
	d.stop()
	d.start()
	r := d.call("GET", "/api/v1/admin/metrics?script_id="+hello, "")
	d.expect(r, 200, `"count":3`, `"errors":0`, `"step":"minute"`)
	all := d.call("GET", "/api/v1/admin/metrics?step=hour", "")
	d.expect(all, 200, `"count":3`, `"count":2`, `"errors":2`)
	d.expect(d.call("GET", "/api/v1/admin/metrics?step=day", ""), 400, "step must be minute or hour")
	d.expect(d.call("GET", "/api/v1/admin/metrics?since=yesterday", ""), 400, "since must be")
}
