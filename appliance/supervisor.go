package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/appliance/pgcluster"
)

// How the daemon brings its private PostgreSQL back when it dies: a restart
// after restartBackoff, doubling up to restartBackoffMax while restarts keep
// failing; more than maxRestarts deaths within restartWindow is a crash
// loop (a full disk, a broken data directory) that the daemon gives up on,
// so that it exits and its service manager takes over.
const (
	restartBackoff    = 500 * time.Millisecond
	restartBackoffMax = 30 * time.Second
	maxRestarts       = 5
	restartWindow     = 5 * time.Minute
)

// supervisor watches the daemon's private cluster and restarts it when it
// dies. Meanwhile the daemon keeps serving what needs no database, and the
// pool connects again by itself once the cluster is back.
type supervisor struct {
	cfg pgcluster.Config
	log *slog.Logger

	mu      sync.Mutex
	current *pgcluster.Cluster
	cause   error
	started bool // the loop runs (or ran)

	quit chan struct{} // closed by stop
	done chan struct{} // closed when the loop has returned
	dead chan struct{} // closed when the supervisor gave up
}

func newSupervisor(cfg pgcluster.Config, cl *pgcluster.Cluster, logger *slog.Logger) *supervisor {
	return &supervisor{cfg: cfg, log: logger.With("component", "pgcluster"), current: cl,
		quit: make(chan struct{}), done: make(chan struct{}), dead: make(chan struct{})}
}

// start runs the supervision loop; pool is reset after each restart, so
// that no request meets a connection to the dead server.
func (s *supervisor) start(pool *pgxpool.Pool) {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	go s.loop(pool)
}

// stop ends the supervision (a restart under way is abandoned and what it
// started stopped) and returns the cluster now running, for the caller to
// shut down.
func (s *supervisor) stop() *pgcluster.Cluster {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	if started {
		<-s.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

func (s *supervisor) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

func (s *supervisor) loop(pool *pgxpool.Pool) {
	defer close(s.done)
	var deaths []time.Time
	for {
		s.mu.Lock()
		cl := s.current
		s.mu.Unlock()
		select {
		case <-s.quit:
			return
		case <-cl.Done():
		}
		cause := cl.Err()
		if cause == nil { // shut down on purpose
			return
		}
		now := time.Now()
		deaths = append(deaths, now)
		for len(deaths) > 0 && now.Sub(deaths[0]) > restartWindow {
			deaths = deaths[1:]
		}
		if len(deaths) > maxRestarts {
			s.giveUp(fmt.Errorf("the private PostgreSQL cluster died %d times within %s; last: %w", len(deaths), restartWindow, cause))
			return
		}
		next, ok := s.restart()
		if !ok {
			return
		}
		s.mu.Lock()
		s.current = next
		s.mu.Unlock()
		pool.Reset()
		s.log.Info("PostgreSQL is back", "pid", next.Pid(), "deaths_in_window", len(deaths))
	}
}

// restart starts a new cluster on the same data directory, retrying with
// backoff until it runs or the supervisor stops.
func (s *supervisor) restart() (*pgcluster.Cluster, bool) {
	pause := restartBackoff
	for attempt := 1; ; attempt++ {
		s.log.Warn("restarting PostgreSQL", "attempt", attempt, "in", pause)
		select {
		case <-s.quit:
			return nil, false
		case <-time.After(pause):
		}
		cl, err := s.startOnce()
		if err == nil {
			return cl, true
		}
		if errors.Is(err, errSupervisorStopped) {
			return nil, false
		}
		s.log.Error("restart PostgreSQL", "attempt", attempt, "err", err)
		if attempt >= maxRestarts {
			s.giveUp(fmt.Errorf("the private PostgreSQL cluster died and %d restarts failed; last: %w", attempt, err))
			return nil, false
		}
		pause = min(pause*2, restartBackoffMax)
	}
}

var errSupervisorStopped = errors.New("supervision stopped")

// startOnce starts a new cluster; stop interrupts the start and stops
// what it started.
func (s *supervisor) startOnce() (*pgcluster.Cluster, error) {
	cl, err := pgcluster.New(s.cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	if _, err := cl.StopOrphan(ctx); err != nil {
		return nil, err
	}
	if err := cl.Start(ctx); err != nil {
		select {
		case <-s.quit:
			return nil, errSupervisorStopped
		default:
		}
		return nil, err
	}
	return cl, nil
}

func (s *supervisor) giveUp(err error) {
	s.mu.Lock()
	s.cause = err
	s.mu.Unlock()
	s.log.Error("giving up on PostgreSQL", "err", err)
	close(s.dead)
}
