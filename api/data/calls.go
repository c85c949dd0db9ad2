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
	families = [...]string{FamilyKV, FamilyDocs, FamilyTx, FamilyUsers, FamilyQueue, FamilyInvoke, FamilyOther}
	outcomes = [...]string{CallOK, CallLimit, CallError}
)

// Family is the family of a data call's op: kv.*, docs.*, tx.*, users.*,
// queue.*, invoke; anything else is other.
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
		if op == "invoke" {
			return 5
		}
	}
	return 6
}

// CallOutcome is the outcome of a data call that ended with err (as the
// script sees it): ok without one, limit for a limit.* code, else error.
func CallOutcome(err error) string { return outcomes[outcomeIndex(err)] }

func outcomeIndex(err error) int {
	var de *engine.DataError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &de) && strings.HasPrefix(de.Code, "limit."):
		return 1
	}
	return 2
}

// appCalls counts one app's data calls by family and outcome.
type appCalls [len(families)][len(outcomes)]atomic.Uint64

// callCounts counts data calls by app id; a call of an app already seen
// takes a lock-free map read and an atomic add.
type callCounts struct {
	apps sync.Map // app id → *appCalls
}

func (c *callCounts) add(appID, op string, err error) {
	v, ok := c.apps.Load(appID)
	if !ok {
		v, _ = c.apps.LoadOrStore(appID, new(appCalls))
	}
	v.(*appCalls)[familyIndex(op)][outcomeIndex(err)].Add(1)
}

// DataCalls is how many data calls the service answered since it started,
// by app id, family and outcome; combinations never made are left out.
func (s *Service) DataCalls() []model.DataCallCount {
	var out []model.DataCallCount
	s.calls.apps.Range(func(k, v any) bool {
		counts := v.(*appCalls)
		for f := range counts {
			for o := range counts[f] {
				if n := counts[f][o].Load(); n > 0 {
					out = append(out, model.DataCallCount{AppID: k.(string), Family: families[f], Outcome: outcomes[o], Count: n})
				}
			}
		}
		return true
	})
	return out
}
