package manager

import (
	"errors"
	"testing"
)

const helloV2 = "export default () => new Response('v2')"

// TestDeployIsAllOrNothing fails a deploy on its last step, a route
// conflict, and finds the script saved before it unchanged and the new
// script not created.
func TestDeployIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	in := DeployInput{
		Scripts: []DeployScript{{Name: "hello.js", Source: helloV2}, {Name: "new.js", Source: helloJS}},
		Routes:  []DeployRoute{{Script: "hello.js", Method: "GET", Path: "/hello"}, {Script: "new.js", Method: "GET", Path: "/hello"}},
	}
	_, err := f.svc.Deploy(ctx, f.actor, f.app, in)
	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("deploy with a conflicting route: %v", err)
	}
	sc, err := f.svc.Script(ctx, f.script)
	if err != nil || sc.LatestVersion != 1 || sc.Source != helloJS {
		t.Fatalf("hello.js after the failed deploy: version %d, %v", sc.LatestVersion, err)
	}
	list, _ := f.svc.Scripts(ctx, f.app)
	if len(list) != 1 {
		t.Fatalf("the failed deploy left %d scripts", len(list))
	}
}

// TestDeployDryRunAndDraft plans without changing anything, then saves a
// draft that leaves the active version serving.
func TestDeployDryRunAndDraft(t *testing.T) {
	f := newFixture(t)
	in := DeployInput{Scripts: []DeployScript{{Name: "hello.js", Source: helloV2}}, DryRun: true}
	plan, err := f.svc.Deploy(ctx, f.actor, f.app, in)
	if err != nil || plan.Applied || len(plan.Changes) != 2 || plan.Changes[0].Action != "update" || plan.Changes[1].Action != "delete" {
		t.Fatalf("dry run: %+v, %v; want hello.js updated and its route deleted, not applied", plan, err)
	}
	if sc, _ := f.svc.Script(ctx, f.script); sc.LatestVersion != 1 {
		t.Fatalf("the dry run saved version %d", sc.LatestVersion)
	}
	if rs, _ := f.svc.Routes(ctx, f.script); len(rs) != 1 {
		t.Fatalf("the dry run deleted the route: %v", rs)
	}
	in = DeployInput{Scripts: []DeployScript{{Name: "hello.js", Source: helloV2}},
		Routes: []DeployRoute{{Script: "hello.js", Method: "GET", Path: "/hello"}}, Draft: true}
	plan, err = f.svc.Deploy(ctx, f.actor, f.app, in)
	if err != nil || !plan.Applied {
		t.Fatalf("draft deploy: %+v, %v", plan, err)
	}
	if sc, _ := f.svc.Script(ctx, f.script); sc.ActiveVersion != 1 || sc.LatestVersion != 2 {
		t.Fatalf("after a draft deploy: active %d, latest %d; want 1 and 2", sc.ActiveVersion, sc.LatestVersion)
	}
}

// TestDeployRefusesBadInput refuses before writing anything.
func TestDeployRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	for name, in := range map[string]DeployInput{
		"a route of no script deployed":  {Scripts: []DeployScript{{Name: "hello.js", Source: helloJS}}, Routes: []DeployRoute{{Script: "other.js", Method: "GET", Path: "/x"}}},
		"a script named twice":           {Scripts: []DeployScript{{Name: "a.js", Source: helloJS}, {Name: "a.js", Source: helloJS}}},
		"a source that does not compile": {Scripts: []DeployScript{{Name: "a.js", Source: "export default ("}}},
		"a bad route":                    {Scripts: []DeployScript{{Name: "a.js", Source: helloJS}}, Routes: []DeployRoute{{Script: "a.js", Method: "GET", Path: "nope"}}},
	} {
		if _, err := f.svc.Deploy(ctx, f.actor, f.app, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if list, _ := f.svc.Scripts(ctx, f.app); len(list) != 1 {
		t.Fatalf("refused deploys left %d scripts", len(list))
	}
}
