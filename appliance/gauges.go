package appliance

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/metrics"
	"github.com/picloud/picloud/appliance/workers"
)

// registerGauges adds to m what the daemon's parts know of themselves:
// executions in flight and refused, the execution log's queue, the
// executor workers, the database pool, the apps' queues, and the data
// service's calls and storage (ds; nil without one).
func registerGauges(m *metrics.Metrics, s *Services, pool *pgxpool.Pool, exec Executor, ds *data.Service, logger *slog.Logger) {
	o, rec := s.Orchestrator, s.Recorder
	m.Register(
		metrics.GaugeFunc("picloud_executions_in_flight", "Executions running now.", func() float64 { return float64(o.InFlight()) }),
		metrics.GaugeFunc("picloud_executions_max", "Executions allowed at once (PICLOUD_MAX_CONCURRENT_EXECUTIONS).", func() float64 { return float64(o.MaxConcurrent()) }),
		metrics.CounterFunc("picloud_overload_refusals_total", "Requests refused with 503 because the executions cap was reached.", func() float64 { return float64(o.Refused()) }),
		metrics.GaugeFunc("picloud_execution_log_queue_records", "Execution records waiting to be written.", func() float64 { return float64(rec.Queued()) }),
		metrics.CounterFunc("picloud_execution_log_dropped_total", "Execution records dropped: the buffer was full or the database refused them.", func() float64 { return float64(rec.Dropped()) }),
		metrics.GaugeFunc("picloud_db_pool_connections", "Connections of the daemon's database pool.", func() float64 { return float64(pool.Stat().TotalConns()) }),
		metrics.GaugeFunc("picloud_db_pool_acquired_connections", "Connections of the pool in use.", func() float64 { return float64(pool.Stat().AcquiredConns()) }),
		metrics.GaugeFunc("picloud_db_pool_max_connections", "The most connections the pool opens.", func() float64 { return float64(pool.Stat().MaxConns()) }),
		metrics.CounterFunc("picloud_db_pool_acquires_total", "Connections taken from the pool.", func() float64 { return float64(pool.Stat().AcquireCount()) }),
		metrics.CounterFunc("picloud_db_pool_empty_acquires_total", "Connections taken from the pool that had to wait for one.", func() float64 { return float64(pool.Stat().EmptyAcquireCount()) }),
		metrics.CounterFunc("picloud_db_pool_acquire_wait_seconds_total", "Time spent waiting for a connection from the pool.", func() float64 { return pool.Stat().AcquireDuration().Seconds() }),
	)
	if s.Store != nil {
		m.Register(metrics.QueueGauges(s.Store.AllQueueStats, logger))
	}
	if ds != nil && s.Store != nil {
		m.Register(metrics.DataGauges(ds, s.Store, logger))
	}
	if wp, ok := exec.(*workers.Pool); ok {
		m.Register(
			metrics.GaugeFunc("picloud_executor_workers", "Executor worker slots.", func() float64 { return float64(len(wp.Status())) }),
			metrics.LabeledCounterFunc("picloud_executor_worker_restarts_total", "Executor workers replaced, by why the last one ended.", "reason", wp.RestartsByReason),
			metrics.CounterFunc("picloud_executor_bystander_retries_total", "Executions run again because their worker was ended for another execution's fault.",
				func() float64 { return float64(wp.BystanderRetries()) }),
		)
	}
}
