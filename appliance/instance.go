package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/appliance/cgroups"
	"github.com/picloud/picloud/appliance/config"
	"github.com/picloud/picloud/appliance/memrelease"
	"github.com/picloud/picloud/appliance/store"
)

// instance is PiCloud while it runs: the parts start builds in order, and how
// to stop each one, registered as soon as that part has started. A failure
// at any step of start-up stops exactly what was started before it, in
// reverse; shutdown does the same for the whole daemon.
type instance struct {
	cfg     config.Config
	log     *slog.Logger
	opts    serveOptions
	started time.Time

	stops []stopper // in start order; shutdown runs them backwards

	ln     net.Listener
	sshLn  net.Listener // nil without SSH
	smtpLn net.Listener // nil without inbound email
	own    ownListeners // every TCP listener's port, refused to scripts' fetch
	ports  []int        // own's, sealed when the executor starts
	groups *cgroups.Layout
	db     *Database
	exec   Executor
	data   *data.Service // answers the scripts' data calls
	// dataStore is the store the data service runs on.
	dataStore *store.Store
	svc       *Services
	srv       *http.Server
	mailer    *mailer // nil without an SMTP relay
}

// stopper stops one started part of the daemon.
type stopper struct {
	name string
	stop func(context.Context) error
}

// startStep is one step of start-up, named for the log and for tests.
type startStep struct {
	name  string
	start func(context.Context) error
}

// onStop registers how to stop a part that has just started.
func (d *instance) onStop(name string, stop func(context.Context) error) {
	d.stops = append(d.stops, stopper{name, stop})
}

// steps is the daemon's start-up, in order.
func (d *instance) steps() []startStep {
	return []startStep{
		// The listeners come first: a socket passed by systemd must not
		// leak into the PostgreSQL or worker processes started below, and
		// every TCP listener's port must be known before the executor
		// starts, for scripts' fetch refuses them.
		{"listen", d.listen},
		// Before any process starts: the daemon moves into a leaf of its
		// cgroup, where a private PostgreSQL then starts too, so that the
		// workers' groups can have controllers.
		{"cgroups", d.arrangeCgroups},
		{"database", d.openDatabase},
		{"executor", d.startExecutor},
		{"services", d.startServices},
		{"session sweeper", d.startSweeper},
		{"memory release", d.startMemoryRelease},
		{"disk watch", d.startDiskWatch},
		{"scheduled backups", d.startBackups},
		{"setup", d.prepareSetup},
		{"http", d.buildHTTP},
		// READY (and "PiCloud is serving") only once the executors answer.
		{"executor ping", d.pingExecutor},
		// Cron runs start once the executors answer.
		{"jobs", d.startJobs},
		{"mailer", d.startMailer},
		// The admin socket and SSH come up before HTTP answers, so that a
		// healthy /healthz means every listener is there.
		{"admin socket", d.startAdminSocket},
		{"ssh", d.startSSH},
		// Received email is stored for the job engine, which runs by now.
		{"smtp", d.startSMTP},
	}
}

// start builds and starts every part of the daemon but the HTTP server's
// serving loop, which run starts. On error, what was started is stopped.
func start(ctx context.Context, cfg config.Config, logger *slog.Logger, o serveOptions) (_ *instance, err error) {
	d := &instance{cfg: cfg, log: logger, opts: o, started: time.Now()}
	defer func() {
		if err == nil {
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if serr := d.shutdown(sctx); serr != nil {
			logger.Warn("stop what had started", "component", "appliance", "err", serr)
		}
	}()
	tuneRuntime(cfg, logger)
	for _, s := range d.steps() {
		if err := s.start(ctx); err != nil {
			return nil, err
		}
		if o.failAfter == s.name {
			return nil, fmt.Errorf("%w after %s", errStartStopped, s.name)
		}
	}
	return d, nil
}

// errStartStopped is what a test's failAfter makes start return.
var errStartStopped = errors.New("start-up stopped on purpose")

// run serves until ctx ends, the HTTP server fails or the private database
// dies beyond what its supervisor restarts, then shuts the daemon down within cfg.ShutdownTimeout. Its
// goroutines run in an errgroup: the first to fail ends the others.
func (d *instance) run(ctx context.Context, ready func(net.Addr)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := d.srv.Serve(d.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("HTTP server stopped: %w", err)
		}
		return nil
	})
	g.Go(func() error { return d.watch(gctx) })
	d.log.Info("PiCloud is serving", "component", "appliance", "addr", d.ln.Addr().String(),
		"url", d.cfg.BaseURL(), "version", Version)
	if ready != nil {
		ready(d.ln.Addr())
	}
	<-gctx.Done()
	if ctx.Err() != nil {
		d.log.Info("shutting down", "component", "appliance")
	}
	sctx, cancel := context.WithTimeout(context.Background(), d.cfg.ShutdownTimeout)
	defer cancel()
	shutErr := d.shutdown(sctx)
	if err := g.Wait(); err != nil {
		return err
	}
	return shutErr
}

// watch applies reloaded configurations until ctx ends, and fails when the
// private PostgreSQL cluster dies beyond what its supervisor brings back.
func (d *instance) watch(ctx context.Context) error {
	rl := &reloader{cfg: d.cfg, orch: d.svc.Orchestrator, mgr: d.svc.Manager, exec: d.exec, data: d.data, ports: d.ports, logger: d.log}
	if d.svc.Jobs != nil {
		rl.jobs = d.svc.Jobs
	}
	for {
		select {
		case next := <-d.opts.reload:
			rl.apply(ctx, next)
			if d.opts.reloaded != nil {
				d.opts.reloaded()
			}
		case <-d.db.Died():
			return fmt.Errorf("the private PostgreSQL cluster could not be kept running (%w); see its log lines above", d.db.DiedErr())
		case <-ctx.Done():
			return nil
		}
	}
}

// shutdown stops every started part, the last started first, and returns
// what failed. Parts still stopping when ctx ends are given up on.
func (d *instance) shutdown(ctx context.Context) error {
	var errs []error
	for i := len(d.stops) - 1; i >= 0; i-- {
		s := d.stops[i]
		if err := s.stop(ctx); err != nil {
			d.log.Warn("stop "+s.name, "component", "appliance", "err", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", s.name, err))
		}
	}
	d.stops = nil
	return errors.Join(errs...)
}

func (d *instance) listen(context.Context) error {
	ln, err := Listen(d.cfg, d.log)
	if err != nil {
		return err
	}
	d.ln = ln
	d.onStop("the HTTP listener", closeListener(ln))
	if err := d.own.add("HTTP", ln); err != nil {
		return err
	}
	if d.sshLn = listenSSH(d.cfg, d.log); d.sshLn != nil {
		d.onStop("the SSH listener", closeListener(d.sshLn))
		if err := d.own.add("SSH", d.sshLn); err != nil {
			return err
		}
	}
	if d.smtpLn = listenSMTP(d.cfg, d.log); d.smtpLn != nil {
		d.onStop("the SMTP listener", closeListener(d.smtpLn))
		if err := d.own.add("SMTP", d.smtpLn); err != nil {
			return err
		}
	}
	return nil
}

// closeListener stops ln, which a server may have closed already.
func closeListener(ln net.Listener) func(context.Context) error {
	return func(context.Context) error {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	}
}

func (d *instance) arrangeCgroups(context.Context) error {
	d.groups = arrangeCgroups(d.cfg, d.log)
	return nil
}

func (d *instance) openDatabase(ctx context.Context) error {
	db, err := openDaemonDatabase(ctx, d.cfg, d.log)
	if err != nil {
		return err
	}
	d.db = db
	d.onStop("the database", db.Close)
	return nil
}

func (d *instance) startExecutor(ctx context.Context) error {
	d.ports = d.own.seal()
	d.data, d.dataStore = startDataService(d.db.Pool, d.cfg.Sandbox.StorageMB, d.cfg.QueueMaxMessageBytes, d.log, d.onStop)
	if d.cfg.SMTP.Relay != "" {
		m, err := newMailer(d.cfg.SMTP, d.dataStore, d.log)
		if err != nil {
			return err
		}
		d.mailer = m
		d.data.WithEmail(d.dataStore, d.cfg.SMTP.Senders)
		d.data.WithInbox(d.dataStore, smtpDomain()).WithAppSenders(d.dataStore)
	}
	exec, err := startExecutor(ctx, d.cfg, d.ports, d.groups, d.opts.workerCommand, d.data, d.log)
	if err != nil {
		return err
	}
	d.exec = exec
	d.onStop("the executor workers", exec.Shutdown)
	return nil
}

// startServices builds the execution log, the orchestrator (ingress), the
// manager (control plane) and the HTTP handler; only the execution log's
// writer starts.
func (d *instance) startServices(ctx context.Context) error {
	svc, err := NewServices(ctx, d.cfg, d.db.Pool, d.exec, d.log, withStarted(d.started), withData(d.data, d.dataStore))
	if err != nil {
		return err
	}
	d.svc = svc
	d.onStop("the services", svc.Shutdown)
	return nil
}

// startSweeper deletes expired sessions every hour until the daemon stops.
func (d *instance) startSweeper(context.Context) error {
	d.background("the session sweeper", func(ctx context.Context) { sweepSessions(ctx, d.svc.Store, d.log) })
	return nil
}

// startMemoryRelease gives the heap a load grew back to the system once
// the daemon is quiet.
func (d *instance) startMemoryRelease(context.Context) error {
	d.background("the memory release", func(ctx context.Context) {
		memrelease.Watch(ctx, memrelease.Tick, func(n uint64) {
			d.log.Debug("memory given back after a quiet spell", "component", "appliance", "kib", n>>10)
		})
	})
	return nil
}

// startMailer delivers scripts' email to the SMTP relay, if there is one,
// until the daemon stops.
func (d *instance) startMailer(context.Context) error {
	if d.mailer != nil {
		d.background("the mailer", d.mailer.run)
	}
	return nil
}

// diskCheckInterval is how often the daemon looks at the free space of the
// disk holding its data.
const diskCheckInterval = time.Minute

// startDiskWatch warns, in the log and to the execution log, when the disk
// holding the data becomes nearly full.
func (d *instance) startDiskWatch(context.Context) error {
	if d.cfg.DataDir == "" {
		return nil
	}
	d.background("the disk watch", func(ctx context.Context) {
		watchDisk(ctx, d.cfg.DataDir, diskCheckInterval, d.svc.Recorder, d.log)
	})
	return nil
}

// background runs fn in a goroutine until the daemon stops, which cancels
// its context and waits for it to return.
func (d *instance) background(name string, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	d.onStop(name, func(sctx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-sctx.Done():
			return sctx.Err()
		}
	})
}

func (d *instance) prepareSetup(ctx context.Context) error {
	return prepareSetup(ctx, d.cfg, d.svc.Manager, d.log)
}

// buildHTTP makes the HTTP server; run starts serving.
func (d *instance) buildHTTP(context.Context) error {
	d.srv = &http.Server{
		Handler:           d.svc.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
	}
	d.onStop("the HTTP server", func(ctx context.Context) error {
		// Log streams end first: Shutdown waits for every open request.
		d.svc.Hub.CloseAll()
		if err := d.srv.Shutdown(ctx); err != nil {
			_ = d.srv.Close()
			return fmt.Errorf("in-flight requests did not finish in time: %w", err)
		}
		return nil
	})
	return nil
}

func (d *instance) pingExecutor(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.exec.Ping(pctx); err != nil {
		return fmt.Errorf("the executor workers do not answer: %w", err)
	}
	return nil
}

// startJobs starts the job engine, which runs triggers' jobs until the
// daemon stops; stopping waits for the runs in progress until the
// shutdown deadline, then cancels them (River takes them up again).
func (d *instance) startJobs(ctx context.Context) error {
	if err := d.svc.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	d.onStop("the job engine", d.svc.Jobs.Stop)
	return nil
}

func (d *instance) startAdminSocket(context.Context) error {
	sock, err := startAdminSocket(d.cfg.AdminSocket, d.svc.Handler, d.log)
	if err != nil {
		return err
	}
	d.onStop("the admin socket", func(ctx context.Context) error {
		// It stops before the HTTP server, which ends the log streams:
		// end them now, for Shutdown waits for every open request, and a
		// terminal UI showing live logs holds one.
		d.svc.Hub.CloseAll()
		return sock.Shutdown(ctx)
	})
	return nil
}

func (d *instance) startSMTP(context.Context) error {
	if srv := startSMTP(d.cfg, d.smtpLn, d.svc.Store, d.log); srv != nil {
		d.onStop("the SMTP server", srv.Shutdown)
	}
	return nil
}

func (d *instance) startSSH(context.Context) error {
	srv := startSSH(d.cfg, d.sshLn, d.svc.Handler, d.svc.Manager, d.log)
	if srv != nil {
		d.onStop("the SSH server", srv.Shutdown)
	}
	return nil
}
