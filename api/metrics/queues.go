package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/picloud/picloud/api/model"
)

// queueScrapeTimeout bounds the query a scrape of the queue gauges makes,
// so that a slow database cannot hold the scrape.
const queueScrapeTimeout = 2 * time.Second

// QueueGauges are the apps' queues as the database holds them at each
// scrape: messages by state (ready, in_flight, retrying, failed) and the
// age of the oldest one not failed, labelled by app and queue names.
// When stats fails, the scrape goes on without them and the error is
// logged.
func QueueGauges(stats func(context.Context) ([]model.AppQueueStats, error), logger *slog.Logger) prometheus.Collector {
	return &queueGauges{
		stats: stats,
		log:   logger.With("component", "metrics"),
		messages: prometheus.NewDesc("picloud_queue_messages",
			"Messages of the apps' queues, by state: ready (waiting, delayed or retrying), in_flight (delivered, not settled), retrying (ready, delivered before), failed (kept after their last retry).",
			[]string{"app", "queue", "state"}, nil),
		oldest: prometheus.NewDesc("picloud_queue_oldest_message_age_seconds",
			"Age of the oldest message of a queue that has not failed; 0 when none waits.",
			[]string{"app", "queue"}, nil),
	}
}

type queueGauges struct {
	stats            func(context.Context) ([]model.AppQueueStats, error)
	log              *slog.Logger
	messages, oldest *prometheus.Desc
}

func (q *queueGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- q.messages
	ch <- q.oldest
}

func (q *queueGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), queueScrapeTimeout)
	defer cancel()
	all, err := q.stats(ctx)
	if err != nil {
		q.log.Warn("read the queues for a scrape", "err", err)
		return
	}
	for _, s := range all {
		for state, n := range map[string]int{"ready": s.Depth, "in_flight": s.InFlight, "retrying": s.Retrying, "failed": s.Failed} {
			ch <- prometheus.MustNewConstMetric(q.messages, prometheus.GaugeValue, float64(n), s.App, s.Queue, state)
		}
		ch <- prometheus.MustNewConstMetric(q.oldest, prometheus.GaugeValue, s.OldestAgeSeconds, s.App, s.Queue)
	}
}
