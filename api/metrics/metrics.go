// Package metrics measures PiCloud for people and for Prometheus: counters
// and histograms of script invocations by app, script, trigger and
// outcome, the state of the executors, the execution log and the database
// pool, the apps' queues, data calls and storage (see QueueGauges and
// DataGauges), and Go's runtime, served in Prometheus's text format; and
// minute and hour rollups of each script's requests, errors and
// durations, kept in the database for boards without a Prometheus server
// (see Rollups).
//
// Labels stay bounded: apps and scripts are named, never a request's path
// or an id.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/picloud/picloud/api/model"
)

// Outcomes of an invocation, the outcome label's values.
const (
	OutcomeOK        = "ok"        // answered without an error of the script or the platform
	OutcomeException = "exception" // the script threw or answered nothing valid
	OutcomeLimit     = "limit"     // a limit ended it (time, memory, …)
	OutcomeCanceled  = "canceled"  // the client went away
	OutcomePlatform  = "platform"  // the executor failed (crash, restart, unavailable)
)

// TriggerHTTP is the trigger label of an invocation by an HTTP request
// (a record without a trigger); cron runs are "cron", and later queue and
// email triggers bring their own.
const TriggerHTTP = "http"

// Outcome classifies an execution record.
func Outcome(rec model.ExecutionRecord) string {
	switch code := rec.ErrorCode; {
	case code == "":
		return OutcomeOK
	case strings.HasPrefix(code, "limit."):
		return OutcomeLimit
	case strings.HasPrefix(code, "script."):
		return OutcomeException
	case strings.HasSuffix(code, "canceled"):
		return OutcomeCanceled
	default:
		return OutcomePlatform
	}
}

// Metrics collects the daemon's metrics. Record is cheap and never blocks:
// records queue for a goroutine that resolves names and counts them.
type Metrics struct {
	reg         *prometheus.Registry
	invocations *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	cronLag     *prometheus.HistogramVec
	unrecorded  prometheus.Counter

	names   *names
	rollups *Rollups // nil: no rollups
	log     *slog.Logger

	in      chan model.ExecutionRecord
	lost    atomic.Int64
	stop    context.CancelFunc
	done    chan struct{}
	started sync.Once
}

// queueSize bounds the records waiting to be counted; past it they are
// lost to the metrics (and counted as such), never to the execution log.
const queueSize = 8192

// New returns the metrics, with Go's runtime and the process's own
// collectors; names resolves apps' and scripts' names for the labels, and
// rollups (may be nil) receives every record too.
func New(nameSource NameSource, rollups *Rollups, logger *slog.Logger) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "picloud_invocations_total",
			Help: "Script invocations, by app, script, trigger and outcome (ok, exception, limit, canceled, platform).",
		}, []string{"app", "script", "trigger", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picloud_invocation_duration_seconds",
			Help:    "Wall time of script invocations, by app, script and trigger.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"app", "script", "trigger"}),
		cronLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "picloud_cron_lag_seconds",
			Help:    "How long after its slot a cron run started, by app and script: a run after downtime, or one waiting for a free executor, shows here.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
		}, []string{"app", "script"}),
		unrecorded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "picloud_metrics_lost_records_total",
			Help: "Execution records the metrics could not count because they came faster than counted.",
		}),
		names:   newNames(nameSource),
		rollups: rollups,
		log:     logger.With("component", "metrics"),
		in:      make(chan model.ExecutionRecord, queueSize),
		done:    make(chan struct{}),
	}
	m.reg.MustRegister(m.invocations, m.duration, m.cronLag, m.unrecorded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds collectors, such as the gauges of other parts of the
// daemon (see GaugeFunc and CounterFunc).
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// GaugeFunc is a gauge read from f at each scrape.
func GaugeFunc(name, help string, f func() float64) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
}

// CounterFunc is a counter read from f at each scrape.
func CounterFunc(name, help string, f func() float64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)})
}

// Record counts an execution; it never blocks.
func (m *Metrics) Record(rec model.ExecutionRecord) {
	select {
	case m.in <- rec:
	default:
		m.unrecorded.Inc()
	}
}

// Start counts records until Shutdown.
func (m *Metrics) Start() {
	m.started.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		m.stop = cancel
		go m.loop(ctx)
	})
}

// Shutdown counts what is queued and stops.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m.stop == nil {
		return nil
	}
	m.stop()
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Metrics) loop(ctx context.Context) {
	defer close(m.done)
	for {
		select {
		case rec := <-m.in:
			m.count(ctx, rec)
		case <-ctx.Done():
			for {
				select {
				case rec := <-m.in:
					m.count(ctx, rec)
				default:
					return
				}
			}
		}
	}
}

func (m *Metrics) count(ctx context.Context, rec model.ExecutionRecord) {
	app, script := m.names.of(ctx, rec.AppID, rec.ScriptID)
	trigger := rec.Trigger
	if trigger == "" {
		trigger = TriggerHTTP
	}
	m.invocations.WithLabelValues(app, script, trigger, Outcome(rec)).Inc()
	m.duration.WithLabelValues(app, script, trigger).Observe(float64(rec.DurationUS) / 1e6)
	if trigger == "cron" {
		m.cronLag.WithLabelValues(app, script).Observe(rec.CronLag.Seconds())
	}
	if m.rollups != nil {
		m.rollups.add(rec)
	}
}

// nameRefresh is the least time between two loads of the names, so that a
// record of an unknown script cannot make every record load them.
const nameRefresh = 5 * time.Second

// LabeledCounterFunc is a counter with one label, read from f at each
// scrape: f gives each label value's count.
func LabeledCounterFunc(name, help, label string, f func() map[string]int) prometheus.Collector {
	return &labeledCounter{desc: prometheus.NewDesc(name, help, []string{label}, nil), f: f}
}

type labeledCounter struct {
	desc *prometheus.Desc
	f    func() map[string]int
}

func (l *labeledCounter) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *labeledCounter) Collect(ch chan<- prometheus.Metric) {
	for v, n := range l.f() {
		ch <- prometheus.MustNewConstMetric(l.desc, prometheus.CounterValue, float64(n), v)
	}
}
