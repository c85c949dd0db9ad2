package jobs

import (
	"reflect"
	"testing"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

func TestOutcomes(t *testing.T) {
	msgs := []model.QueueMessage{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}}
	acks := []engine.QueueAck{{ID: "a", Ack: true}, {ID: "b", Retry: true, DelaySeconds: 5}, {ID: "c", Retry: true, DelaySeconds: -1}}
	delay := 30 * time.Second
	for _, tc := range []struct {
		name    string
		failure string
		want    []model.QueueOutcome
	}{
		{"the handler succeeded: what it said nothing of is acked", "", []model.QueueOutcome{
			{ID: "a", Ack: true},
			{ID: "b", Delay: 5 * time.Second, Error: "the handler called retry()"},
			{ID: "c", Delay: delay, Error: "the handler called retry()"},
			{ID: "d", Ack: true},
		}},
		{"the handler threw: only what it did not ack comes again", "script.exception: boom", []model.QueueOutcome{
			{ID: "a", Ack: true},
			{ID: "b", Delay: 5 * time.Second, Error: "the handler called retry()"},
			{ID: "c", Delay: delay, Error: "the handler called retry()"},
			{ID: "d", Delay: delay, Error: "script.exception: boom"},
		}},
	} {
		if got := Outcomes(msgs, acks, tc.failure, delay); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}
