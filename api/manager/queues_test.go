package manager

import (
	"errors"
	"strings"
	"testing"

	"github.com/picloud/picloud/api/model"
)

func TestParseQueueConfig(t *testing.T) {
	c, err := ParseQueueConfig([]byte(`{"queue":"emails"}`))
	want := model.QueueConfig{Queue: "emails", MaxBatchSize: 10, MaxWaitMS: 1000, MaxRetries: 3, RetryDelaySeconds: 30}
	if err != nil || c != want {
		t.Fatalf("defaults: %+v %v, want %+v", c, err, want)
	}
	c, err = ParseQueueConfig([]byte(`{"queue":"emails","max_batch_size":1,"max_wait_ms":0,"max_retries":0,"retry_delay_seconds":0,"dead_letter":"emails-failed"}`))
	want = model.QueueConfig{Queue: "emails", MaxBatchSize: 1, DeadLetter: "emails-failed"}
	if err != nil || c != want {
		t.Fatalf("all given: %+v %v, want %+v", c, err, want)
	}
	for body, says := range map[string]string{
		`{}`:                                        "needs a queue",
		`{"queue":""}`:                              "queue name",
		`{"queue":"a b"}`:                           "queue name",
		`{"queue":"q","max_batch_size":0}`:          "max_batch_size is 0",
		`{"queue":"q","max_batch_size":101}`:        "max_batch_size is 101",
		`{"queue":"q","max_wait_ms":-1}`:            "max_wait_ms",
		`{"queue":"q","max_retries":101}`:           "max_retries",
		`{"queue":"q","retry_delay_seconds":43201}`: "retry_delay_seconds",
		`{"queue":"q","dead_letter":"q"}`:           "the queue itself",
		`{"queue":"q","dead_letter":"x/y"}`:         "dead_letter",
		`{"queue":"q","schedule":"@daily"}`:         "unknown field",
		`{"queue":"q"} {}`:                          "more than one",
	} {
		_, err := ParseQueueConfig([]byte(body))
		if !errors.Is(err, model.ErrInvalid) || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v, want an invalid error saying %q", body, err, says)
		}
	}
}
