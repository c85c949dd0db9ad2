package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/appliance/pgtest"
	"github.com/picloud/picloud/appliance/store"
)

// A trigger's run lease is held by one run at a time, until it is given
// back or expires; a deleted trigger has none to take.
func TestTriggerLease(t *testing.T) {
	s := store.New(pgtest.NewDatabase(t))
	sc, err := s.CreateScript(ctx, model.DefaultAppID, "cron", "js", model.NewVersion{Source: "1", Code: "1"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.InsertTrigger(ctx, model.Trigger{AppID: sc.AppID, ScriptID: sc.ID, Type: "cron", Config: []byte(`{"schedule":"@daily"}`)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claim := func(at time.Time) bool {
		t.Helper()
		got, err := s.ClaimTrigger(ctx, tr.ID, at, at.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if !claim(now) {
		t.Fatal("a free trigger could not be claimed")
	}
	if claim(now.Add(time.Second)) {
		t.Error("a claimed trigger was claimed again")
	}
	if !claim(now.Add(2 * time.Minute)) {
		t.Error("an expired lease was not taken over")
	}
	if err := s.ReleaseTrigger(ctx, tr.ID); err != nil {
		t.Fatal(err)
	}
	if !claim(now.Add(2 * time.Minute)) {
		t.Error("a released trigger could not be claimed")
	}
	got, err := s.TriggerByID(ctx, tr.ID)
	if err != nil || got.LastRunAt == nil || !got.LastRunAt.Equal(now.Add(2*time.Minute).Truncate(time.Microsecond)) {
		t.Errorf("last run: %+v %v", got.LastRunAt, err)
	}
	if err := s.DeleteTrigger(ctx, tr.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimTrigger(ctx, tr.ID, now, now); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("claim of a deleted trigger: %v, want ErrNotFound", err)
	}
	if err := s.DeleteTrigger(ctx, tr.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}
