package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/picloud/picloud/api/data"
	"github.com/picloud/picloud/api/model"
)

// Limits and defaults of queue triggers.
const (
	DefaultQueueBatchSize   = 10
	MaxQueueBatchSize       = 100
	DefaultQueueMaxWaitMS   = 1000
	MaxQueueMaxWaitMS       = 60_000
	DefaultQueueRetries     = 3
	MaxQueueRetries         = 100
	DefaultQueueRetryDelay  = 30
	MaxQueueRetryDelay      = 12 * 3600
	DefaultQueueBrowseLimit = 100
	MaxQueueBrowseLimit     = 1000
)

// QueueStore holds the apps' queue messages, for the admin API.
type QueueStore interface {
	QueueStats(ctx context.Context, appID string) ([]model.QueueStats, error)
	QueueMessages(ctx context.Context, appID, queue, state, after string, limit int) ([]model.QueueMessage, error)
	QueueMessage(ctx context.Context, appID, queue, id string) (model.QueueMessage, error)
	DeleteQueueMessage(ctx context.Context, appID, queue, id string) error
	RetryQueueMessage(ctx context.Context, appID, queue, id string) error
	RedriveQueue(ctx context.Context, appID, queue string) (int, error)
}

// ErrNoQueues means the daemon was built without queue storage.
var ErrNoQueues = errors.New("queues are not available on this daemon")

// ParseQueueConfig reads and checks a queue trigger's settings, filling in
// the defaults: unknown fields, a bad queue name, numbers out of range and
// a dead-letter queue that is the queue itself are refused, naming the
// problem.
func ParseQueueConfig(raw json.RawMessage) (model.QueueConfig, error) {
	var in struct {
		Queue             *string `json:"queue"`
		MaxBatchSize      *int    `json:"max_batch_size"`
		MaxWaitMS         *int    `json:"max_wait_ms"`
		MaxRetries        *int    `json:"max_retries"`
		RetryDelaySeconds *int    `json:"retry_delay_seconds"`
		DeadLetter        string  `json:"dead_letter"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return model.QueueConfig{}, fmt.Errorf("%w: queue trigger: %v", model.ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return model.QueueConfig{}, fmt.Errorf("%w: queue trigger: more than one JSON value", model.ErrInvalid)
	}
	if in.Queue == nil {
		return model.QueueConfig{}, fmt.Errorf("%w: a queue trigger needs a queue, such as \"emails\"", model.ErrInvalid)
	}
	c := model.QueueConfig{Queue: *in.Queue, MaxBatchSize: DefaultQueueBatchSize, MaxWaitMS: DefaultQueueMaxWaitMS,
		MaxRetries: DefaultQueueRetries, RetryDelaySeconds: DefaultQueueRetryDelay, DeadLetter: in.DeadLetter}
	if err := data.CheckQueueName(c.Queue); err != nil {
		return model.QueueConfig{}, fmt.Errorf("%w: %v", model.ErrInvalid, err)
	}
	if c.DeadLetter != "" {
		if err := data.CheckQueueName(c.DeadLetter); err != nil {
			return model.QueueConfig{}, fmt.Errorf("%w: dead_letter: %v", model.ErrInvalid, err)
		}
		if c.DeadLetter == c.Queue {
			return model.QueueConfig{}, fmt.Errorf("%w: dead_letter %q is the queue itself: name another queue", model.ErrInvalid, c.DeadLetter)
		}
	}
	for _, f := range []struct {
		name     string
		in       *int
		out      *int
		min, max int
	}{
		{"max_batch_size", in.MaxBatchSize, &c.MaxBatchSize, 1, MaxQueueBatchSize},
		{"max_wait_ms", in.MaxWaitMS, &c.MaxWaitMS, 0, MaxQueueMaxWaitMS},
		{"max_retries", in.MaxRetries, &c.MaxRetries, 0, MaxQueueRetries},
		{"retry_delay_seconds", in.RetryDelaySeconds, &c.RetryDelaySeconds, 0, MaxQueueRetryDelay},
	} {
		if f.in == nil {
			continue
		}
		if *f.in < f.min || *f.in > f.max {
			return model.QueueConfig{}, fmt.Errorf("%w: %s is %d: it is between %d and %d", model.ErrInvalid, f.name, *f.in, f.min, f.max)
		}
		*f.out = *f.in
	}
	return c, nil
}

// Queues lists an app's queues with what each holds.
func (s *Service) Queues(ctx context.Context, appID string) ([]model.QueueStats, error) {
	if s.cfg.Queues == nil {
		return nil, ErrNoQueues
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	return s.cfg.Queues.QueueStats(ctx, appID)
}

// QueueMessages lists up to limit messages of an app's queue, oldest
// first, after the message id after; state is "", "ready" or "failed".
func (s *Service) QueueMessages(ctx context.Context, appID, queue, state, after string, limit int) ([]model.QueueMessage, error) {
	if s.cfg.Queues == nil {
		return nil, ErrNoQueues
	}
	if err := data.CheckQueueName(queue); err != nil {
		return nil, fmt.Errorf("%w: %v", model.ErrInvalid, err)
	}
	if state != "" && state != "ready" && state != "failed" {
		return nil, fmt.Errorf("%w: state %q: it is \"ready\" or \"failed\"", model.ErrInvalid, state)
	}
	switch {
	case limit == 0:
		limit = DefaultQueueBrowseLimit
	case limit < 1 || limit > MaxQueueBrowseLimit:
		return nil, fmt.Errorf("%w: limit is %d: it is between 1 and %d", model.ErrInvalid, limit, MaxQueueBrowseLimit)
	}
	if _, err := s.store.AppByID(ctx, appID); err != nil {
		return nil, err
	}
	return s.cfg.Queues.QueueMessages(ctx, appID, queue, state, after, limit)
}

// QueueMessageAction changes one message of an app's queue: "retry"
// delivers it again now, attempts from zero; "delete" removes it. Audited.
func (s *Service) QueueMessageAction(ctx context.Context, a model.Actor, appID, queue, id, action string) error {
	if s.cfg.Queues == nil {
		return ErrNoQueues
	}
	if err := data.CheckQueueName(queue); err != nil {
		return fmt.Errorf("%w: %v", model.ErrInvalid, err)
	}
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.cfg.Queues.QueueMessage(ctx, appID, queue, id); err != nil {
			return err
		}
		var err error
		switch action {
		case "retry":
			err = s.cfg.Queues.RetryQueueMessage(ctx, appID, queue, id)
		case "delete":
			err = s.cfg.Queues.DeleteQueueMessage(ctx, appID, queue, id)
		default:
			err = fmt.Errorf("%w: unknown action %q on a queue message", model.ErrInvalid, action)
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, a, "queue.message."+action, appID, id, map[string]any{"queue": queue})
	})
}

// RedriveQueue sends an app's queue's dead messages back to be delivered:
// a dead-letter queue's to the queues they came from, failed ones again
// in their queue. Audited; it returns how many moved.
func (s *Service) RedriveQueue(ctx context.Context, a model.Actor, appID, queue string) (int, error) {
	if s.cfg.Queues == nil {
		return 0, ErrNoQueues
	}
	if err := data.CheckQueueName(queue); err != nil {
		return 0, fmt.Errorf("%w: %v", model.ErrInvalid, err)
	}
	var n int
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.AppByID(ctx, appID); err != nil {
			return err
		}
		var err error
		if n, err = s.cfg.Queues.RedriveQueue(ctx, appID, queue); err != nil {
			return err
		}
		return s.audit(ctx, a, "queue.redrive", appID, queue, map[string]any{"moved": n})
	})
	return n, err
}
