package data

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// Families of data calls, by the op's module: a fixed set, so that what
// a script names its ops can never add one.
const (
	FamilyKV     = "kv"
	FamilyDocs   = "docs"
	FamilyTx     = "tx"
	FamilyUsers  = "users"
	FamilyQueue  = "queue"
	FamilyInvoke = "invoke"
	FamilyEmail  = "email"
	FamilyOther  = "other" // an op the service does not know
)

// Outcomes of data calls.
const (
	CallOK    = "ok"    // answered
	CallLimit = "limit" // refused by a limit or quota (a limit.* code)
	CallError = "error" // any other failure
)

// families and outcomes are the label values in index order.
var (
	families = [...]string{FamilyKV, FamilyDocs, FamilyTx, FamilyUsers, FamilyQueue, FamilyInvoke, FamilyEmail, FamilyOther}
	outcomes = [...]string{CallOK, CallLimit, CallError}
)

// Family is the family of a data call's op: kv.*, docs.*, tx.*, users.*,
// queue.*, invoke and invoke.later, email.*; anything else is other.
func Family(op string) string { return families[familyIndex(op)] }

func familyIndex(op string) int {
	module, _, _ := strings.Cut(op, ".")
	switch module {
	case "kv":
		return 0
	case "docs":
		return 1
	case "tx":
		return 2
	case "users":
		return 3
	case "queue":
		return 4
	case "invoke":
		if op == "invoke" || op == "invoke.later" {
			return 5
		}
	case "email":
		return 6
	}
	return 7
}

// CallOutcome is the outcome of a data call that ended with err (as the
// script sees it): ok without one, limit for a limit.* code, else error.
func CallOutcome(err error) string { return outcomes[outcomeIndex(err)] }

func outcomeIndex(err error) int {
	if err == nil {
		return 0
	}
	// The service's errors are DataErrors as they are: a type assertion
	// allocates nothing, errors.As is for the others.
	de, ok := err.(*engine.DataError)
	if !ok {
		de = asDataError(err)
	}
	if de != nil && strings.HasPrefix(de.Code, "limit.") {
		return 1
	}
	return 2
}

func asDataError(err error) *engine.DataError {
	var de *engine.DataError
	if errors.As(err, &de) {
		return de
	}
	return nil
}

// appCalls counts one app's data calls by family and outcome.
type appCalls [len(families)][len(outcomes)]atomic.Uint64

// callCounts counts data calls by app id. The map is copied on write (an
// app's first call), so that counting a call of an app already seen takes
// a lock-free read and an atomic add, and allocates nothing.
type callCounts struct {
	apps atomic.Pointer[map[string]*appCalls]
	mu   sync.Mutex // held to add an app
}

func (c *callCounts) add(appID, op string, err error) {
	counts := c.of(appID)
	counts[familyIndex(op)][outcomeIndex(err)].Add(1)
}

// of is appID's counters, added on its first call.
func (c *callCounts) of(appID string) *appCalls {
	if m := c.apps.Load(); m != nil {
		if counts := (*m)[appID]; counts != nil {
			return counts
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.apps.Load()
	if old != nil {
		if counts := (*old)[appID]; counts != nil {
			return counts
		}
	}
	m := make(map[string]*appCalls, 1+len(ptrMap(old)))
	for id, counts := range ptrMap(old) {
		m[id] = counts
	}
	counts := new(appCalls)
	m[appID] = counts
	c.apps.Store(&m)
	return counts
}

func ptrMap(m *map[string]*appCalls) map[string]*appCalls {
	if m == nil {
		return nil
	}
	return *m
}

// DataCalls is how many data calls the service answered since it started,
// by app id, family and outcome; combinations never made are left out.
func (s *Service) DataCalls() []model.DataCallCount {
	var out []model.DataCallCount
	for id, counts := range ptrMap(s.calls.apps.Load()) {
		for f := range counts {
			for o := range counts[f] {
				if n := counts[f][o].Load(); n > 0 {
					out = append(out, model.DataCallCount{AppID: id, Family: families[f], Outcome: outcomes[o], Count: n})
				}
			}
		}
	}
	return out
}
