package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/picloud/picloud/api/model"
)

// DataSource is what the data service knows of the apps' data calls and
// storage, in memory: the calls answered by app id, family and outcome,
// and the usage and quota of those of appIDs it has counted.
type DataSource interface {
	DataCalls() []model.DataCallCount
	StorageUsage(appIDs []string) []model.AppStorage
}

// DataGauges are the scripts' data calls by app, family and outcome
// (picloud_data_calls_total) and each app's storage against its quota
// (picloud_app_storage_bytes, picloud_app_storage_quota_bytes), read at
// each scrape from src without a query of the data. Apps are labelled by
// name from names (loaded again at most every nameRefresh); the calls of
// an app no longer listed count as app "unknown", its storage is not
// shown.
func DataGauges(src DataSource, names NameSource, logger *slog.Logger) prometheus.Collector {
	return &dataGauges{
		src:   src,
		names: &appNames{src: names},
		log:   logger.With("component", "metrics"),
		calls: prometheus.NewDesc("picloud_data_calls_total",
			"Scripts' data calls answered by the data service, by app, family (kv, docs, tx, users, queue, invoke, other) and outcome (ok, limit, error).",
			[]string{"app", "family", "outcome"}, nil),
		used: prometheus.NewDesc("picloud_app_storage_bytes",
			"What an app's data takes, as the data service counts it for the storage quota (between exact counts an estimate that errs high); an app appears once counted.",
			[]string{"app"}, nil),
		quota: prometheus.NewDesc("picloud_app_storage_quota_bytes",
			"An app's storage quota: its own, else the default.",
			[]string{"app"}, nil),
	}
}

type dataGauges struct {
	src                DataSource
	names              *appNames
	log                *slog.Logger
	calls, used, quota *prometheus.Desc
}

func (d *dataGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.calls
	ch <- d.used
	ch <- d.quota
}

func (d *dataGauges) Collect(ch chan<- prometheus.Metric) {
	apps, err := d.names.get()
	if err != nil {
		d.log.Warn("read the apps' names for a scrape", "err", err)
	}
	type series struct{ app, family, outcome string }
	sums := map[series]uint64{}
	for _, c := range d.src.DataCalls() {
		name, ok := apps[c.AppID]
		if !ok {
			name = "unknown"
		}
		sums[series{name, c.Family, c.Outcome}] += c.Count
	}
	for s, n := range sums {
		ch <- prometheus.MustNewConstMetric(d.calls, prometheus.CounterValue, float64(n), s.app, s.family, s.outcome)
	}
	ids := make([]string, 0, len(apps))
	for id := range apps {
		ids = append(ids, id)
	}
	for _, u := range d.src.StorageUsage(ids) {
		ch <- prometheus.MustNewConstMetric(d.used, prometheus.GaugeValue, float64(u.UsedBytes), apps[u.AppID])
		ch <- prometheus.MustNewConstMetric(d.quota, prometheus.GaugeValue, float64(u.QuotaBytes), apps[u.AppID])
	}
}

// appNames caches the apps' names by id for concurrent scrapes, loading
// them again when older than nameRefresh.
type appNames struct {
	src    NameSource
	mu     sync.Mutex
	apps   map[string]string
	loaded time.Time
}

// get is the apps' names; on a failed load, the last ones loaded (if any)
// and the error.
func (n *appNames) get() (map[string]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.src == nil || time.Since(n.loaded) < nameRefresh {
		return n.apps, nil
	}
	n.loaded = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	apps, _, err := n.src.MetricNames(ctx)
	if err != nil {
		return n.apps, err
	}
	n.apps = apps
	return apps, nil
}
