package engine

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func queueBatch(msgs ...QueueMessage) func(*Invocation) {
	return func(inv *Invocation) { inv.Queue = &QueueBatch{Queue: "emails", Messages: msgs} }
}

var twoMessages = queueBatch(
	QueueMessage{ID: "a", Body: `{"to":"x@example.org"}`, Attempts: 1, Timestamp: time.UnixMilli(1700000000000)},
	QueueMessage{ID: "b", Body: `"plain"`, Attempts: 2, Timestamp: time.UnixMilli(1700000001000)},
)

func TestQueueHandlerSeesTheBatch(t *testing.T) {
	res := run(t, `export default {
		fetch() { throw new Error("fetch must not run") },
		async queue(batch, env, ctx) {
			await null
			for (const m of batch.messages) {
				console.log(batch.queue, m.id, JSON.stringify(m.body), m.attempts, m.timestamp instanceof Date, m.timestamp.getTime())
			}
		},
	}`, twoMessages)
	if res.Error != nil {
		t.Fatalf("error: %+v", res.Error)
	}
	want := []string{`emails a {"to":"x@example.org"} 1 true 1700000000000`, `emails b "plain" 2 true 1700000001000`}
	if len(res.Logs) != 2 || res.Logs[0].Message != want[0] || res.Logs[1].Message != want[1] {
		t.Errorf("logs %+v, want %q", res.Logs, want)
	}
	if len(res.QueueAcks) != 0 {
		t.Errorf("acks %+v, want none", res.QueueAcks)
	}
}

func TestQueueAcksTravelWithTheFailure(t *testing.T) {
	res := run(t, `export default { queue(batch) {
		batch.messages[0].retry()
		batch.messages[0].ack()
		batch.messages[1].retry({delaySeconds: 7})
		throw new Error("boom")
	} }`, twoMessages)
	if res.Error == nil || res.Error.Code != CodeException {
		t.Fatalf("error %+v, want an exception", res.Error)
	}
	want := []QueueAck{{ID: "a", Ack: true}, {ID: "b", Retry: true, DelaySeconds: 7}}
	if !reflect.DeepEqual(res.QueueAcks, want) {
		t.Errorf("acks %+v, want %+v", res.QueueAcks, want)
	}
	res = run(t, `export default { queue(batch) { batch.retryAll(); batch.ackAll() } }`, twoMessages)
	want = []QueueAck{{ID: "a", Ack: true}, {ID: "b", Ack: true}}
	if res.Error != nil || !reflect.DeepEqual(res.QueueAcks, want) {
		t.Errorf("ackAll: error %+v, acks %+v, want %+v", res.Error, res.QueueAcks, want)
	}
	res = run(t, `export default { queue(batch) { batch.retryAll() } }`, twoMessages)
	want = []QueueAck{{ID: "a", Retry: true, DelaySeconds: -1}, {ID: "b", Retry: true, DelaySeconds: -1}}
	if res.Error != nil || !reflect.DeepEqual(res.QueueAcks, want) {
		t.Errorf("retryAll: error %+v, acks %+v, want %+v", res.Error, res.QueueAcks, want)
	}
}

func TestQueueRetryRefusesBadDelays(t *testing.T) {
	for _, arg := range []string{`{delaySeconds: -1}`, `{delaySeconds: 43201}`, `{delaySeconds: "5"}`, `5`} {
		res := run(t, `export default { queue(batch) { batch.messages[0].retry(`+arg+`) } }`, twoMessages)
		if res.Error == nil || !strings.Contains(res.Error.Message, "retry") {
			t.Errorf("retry(%s): error %+v, want one naming retry", arg, res.Error)
		}
	}
}

func TestQueueWithoutHandler(t *testing.T) {
	res := run(t, `export default { fetch() { return new Response("x") } }`, twoMessages)
	if res.Error == nil || res.Error.Code != CodeNoHandler || !strings.Contains(res.Error.Message, "queue") {
		t.Errorf("got %+v, want %s naming queue", res.Error, CodeNoHandler)
	}
}
