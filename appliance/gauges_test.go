package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/metrics"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
	"github.com/picloud/picloud/appliance/testkit"
	"github.com/picloud/picloud/engine"
)

// TestDataGauges: the data service's calls are counted by app name,
// family and outcome (a deleted app's as "unknown"); an app's storage and
// quota appear from what its writes counted, and an app that never wrote
// appears once a scrape has had it counted in the background.
func TestDataGauges(t *testing.T) {
	ctx := context.Background()
	st := store.New(pgtest.NewDatabase(t))
	app := func(name string) string {
		a, err := st.CreateApp(ctx, name, "")
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	shop, gone := app("shop"), app("gone")
	app("idle")
	quota := int64(600)
	if err := st.SetAppStorageQuota(ctx, shop, &quota); err != nil {
		t.Fatal(err)
	}
	const defaultQuota = 1 << 20
	ds := data.New(st, nil).WithStorageQuota(st, defaultQuota)
	put := func(app, key string, size int) error {
		args := fmt.Sprintf(`{"key":%q,"type":"text","value":%q}`, key, strings.Repeat("v", size))
		_, err := ds.Call(ctx, app, engine.DataCall{Op: "kv.put", Collection: "c", Args: []byte(args)})
		return err
	}
	if err := put(shop, "k1", 300); err != nil {
		t.Fatal(err)
	}
	if err := put(shop, "k2", 400); data.CallOutcome(err) != data.CallLimit {
		t.Fatalf("a put past the quota: %v", err)
	}
	if _, err := ds.Call(ctx, shop, engine.DataCall{Op: "docs.find", Collection: ""}); err == nil {
		t.Fatal("a find without a collection answered")
	}
	if err := put(gone, "k", 1); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteApp(ctx, gone); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.DataGauges(ds, st, slog.New(slog.DiscardHandler)))

	// The first scrape shows shop, counted by its writes, and sets idle
	// (and the board's default app) counting.
	storage := func() map[string][2]float64 {
		fs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][2]float64{}
		for _, f := range fs {
			i := map[string]int{"picloud_app_storage_bytes": 0, "picloud_app_storage_quota_bytes": 1}
			k, ok := i[f.GetName()]
			if !ok {
				continue
			}
			for _, m := range f.Metric {
				v := got[label(m, "app")]
				v[k] = m.GetGauge().GetValue()
				got[label(m, "app")] = v
			}
		}
		return got
	}
	first := storage()
	if s, ok := first["shop"]; !ok || s[0] < 300 || s[0] > 600 || s[1] != 600 {
		t.Errorf("shop's storage %v (used, quota), want 300 to 600 of 600", s)
	}
	if _, ok := first["idle"]; ok || len(first) != 1 {
		t.Errorf("the first scrape shows %v, want only shop", first)
	}
	want := `
# HELP picloud_data_calls_total Scripts' data calls answered by the data service, by app, family (kv, docs, tx, users, queue, invoke, other) and outcome (ok, limit, error).
# TYPE picloud_data_calls_total counter
picloud_data_calls_total{app="shop",family="docs",outcome="error"} 1
picloud_data_calls_total{app="shop",family="kv",outcome="limit"} 1
picloud_data_calls_total{app="shop",family="kv",outcome="ok"} 1
picloud_data_calls_total{app="unknown",family="kv",outcome="ok"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "picloud_data_calls_total"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "idle counted", func() error {
		got := storage()
		if s, ok := got["idle"]; !ok || s != [2]float64{0, defaultQuota} {
			return fmt.Errorf("storage %v, want idle at 0 of the default", got)
		}
		if _, ok := got["unknown"]; ok || len(got) != 3 {
			return fmt.Errorf("storage %v, want default, shop and idle", got)
		}
		return nil
	})
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
