package data

import (
	"context"
	"encoding/json"
	"regexp"
	"time"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// Limits of queue sends.
const (
	// DefaultMaxMessageBytes is a message body's limit unless configured.
	DefaultMaxMessageBytes = 128 << 10
	// MaxMessageBytesCeiling is the highest the limit may be configured.
	MaxMessageBytesCeiling = 1 << 20
	// MaxSendBatch is the most messages of one sendBatch.
	MaxSendBatch = 100
	// MaxSendDelay is the longest delaySeconds of a send: 12 hours.
	MaxSendDelay = 12 * 3600
	// MaxDedupeKeyBytes bounds a dedupe key.
	MaxDedupeKeyBytes = MaxKeyBytes
)

// queueName is what a queue may be called.
var queueName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// CheckQueueName refuses a queue name that is not 1 to 63 letters,
// digits, "-" or "_", starting with a letter or digit.
func CheckQueueName(name string) error {
	if !queueName.MatchString(name) {
		return invalid("queue %q: a queue name is 1 to 63 letters, digits, \"-\" or \"_\", starting with a letter or digit", name)
	}
	return nil
}

// QueueStore keeps queue messages; appliance/store's Store satisfies it.
type QueueStore interface {
	// SendQueue adds messages, in the transaction ctx carries if any.
	SendQueue(ctx context.Context, appID, queue string, msgs []model.QueueSend) error
}

// WithQueues lets scripts send to queues kept in q, with message bodies
// of at most maxBytes (DefaultMaxMessageBytes if 0). It returns s.
func (s *Service) WithQueues(q QueueStore, maxBytes int) *Service {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	s.queues, s.maxMessage = q, maxBytes
	return s
}

// maxMessageBytes is the limit of a queue message's body, and of an
// invoke.later body.
func (s *Service) maxMessageBytes() int {
	if s.maxMessage <= 0 {
		return DefaultMaxMessageBytes
	}
	return s.maxMessage
}

// queueSendArgs are the arguments of queue.send.
type queueSendArgs struct {
	Messages []struct {
		Body         json.RawMessage `json:"body"`
		DelaySeconds float64         `json:"delaySeconds"`
		DedupeKey    string          `json:"dedupeKey"`
	} `json:"messages"`
}

// queueSend answers queue.send: the messages of a send or sendBatch, each
// body the JSON text of the script's value.
func (s *Service) queueSend(ctx context.Context, appID string, call engine.DataCall) (any, error) {
	if s.queues == nil {
		return nil, &engine.DataError{Code: engine.CodeDataUnavailable, Message: "queue.send: this executor has no queues"}
	}
	if err := CheckQueueName(call.Collection); err != nil {
		return nil, err
	}
	var a queueSendArgs
	if err := decodeArgs(call, &a); err != nil {
		return nil, err
	}
	if len(a.Messages) == 0 || len(a.Messages) > MaxSendBatch {
		return nil, invalid("queue.send: %d messages: a send carries 1 to %d", len(a.Messages), MaxSendBatch)
	}
	msgs := make([]model.QueueSend, 0, len(a.Messages))
	for i, m := range a.Messages {
		var body string
		if err := json.Unmarshal(m.Body, &body); err != nil || !json.Valid([]byte(body)) {
			return nil, invalid("queue.send: message %d: the body must be the JSON text of a value", i)
		}
		if len(body) > s.maxMessage {
			return nil, tooLarge("queue %q: message %d is %d bytes as JSON, over the %d a message may have", call.Collection, i, len(body), s.maxMessage)
		}
		if m.DelaySeconds < 0 || m.DelaySeconds > MaxSendDelay {
			return nil, invalid("queue.send: delaySeconds must be between 0 and %d", MaxSendDelay)
		}
		if m.DedupeKey != "" {
			if err := checkName("a dedupeKey", m.DedupeKey, MaxDedupeKeyBytes); err != nil {
				return nil, err
			}
		}
		msgs = append(msgs, model.QueueSend{Body: body, DedupeKey: m.DedupeKey,
			Delay: time.Duration(m.DelaySeconds * float64(time.Second))})
	}
	if err := s.queues.SendQueue(ctx, appID, call.Collection, msgs); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
