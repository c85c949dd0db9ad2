package metrics

import (
	"context"
	"time"
)

// NameSource lists the names of apps and scripts, by id.
type NameSource interface {
	MetricNames(ctx context.Context) (apps, scripts map[string]string, err error)
}

// names caches the names of apps and scripts for the labels, loading them
// again when an id is unknown, at most every nameRefresh. Only the
// counting goroutine uses it.
type names struct {
	src     NameSource
	apps    map[string]string
	scripts map[string]string
	loaded  time.Time
}

func newNames(src NameSource) *names { return &names{src: src} }

// of is the app's and the script's names; an id still unknown after a
// load is shown as "unknown" (a script deleted meanwhile, say).
func (n *names) of(ctx context.Context, appID, scriptID string) (app, script string) {
	app, okA := n.apps[appID]
	script, okS := n.scripts[scriptID]
	if (!okA || !okS) && n.src != nil && time.Since(n.loaded) >= nameRefresh {
		n.loaded = time.Now()
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		apps, scripts, err := n.src.MetricNames(lctx)
		cancel()
		if err == nil {
			n.apps, n.scripts = apps, scripts
			app, okA = n.apps[appID]
			script, okS = n.scripts[scriptID]
		}
	}
	if !okA {
		app = "unknown"
	}
	if !okS {
		script = "unknown"
	}
	return app, script
}
