package model

import "time"

// TriggerQueue is the trigger type that delivers a queue's messages to the
// script's queue handler.
const TriggerQueue = "queue"

// QueueConfig is the configuration of a queue trigger.
type QueueConfig struct {
	// Queue is the name of the app's queue the trigger consumes.
	Queue string `json:"queue"`
	// MaxBatchSize is the most messages one call of the handler gets.
	MaxBatchSize int `json:"max_batch_size"`
	// MaxWaitMS is how long a batch that is not full waits for more
	// messages after its oldest became ready.
	MaxWaitMS int `json:"max_wait_ms"`
	// MaxRetries is how often a message is delivered again after its
	// first delivery failed.
	MaxRetries int `json:"max_retries"`
	// RetryDelaySeconds is how long a retried message waits, unless
	// retry({delaySeconds}) said otherwise.
	RetryDelaySeconds int `json:"retry_delay_seconds"`
	// DeadLetter names the queue that messages past their retries move
	// to; "" keeps them in their queue as failed.
	DeadLetter string `json:"dead_letter,omitempty"`
}

// QueueSend is one message a script sends.
type QueueSend struct {
	Body      string // JSON text
	Delay     time.Duration
	DedupeKey string // "" for none
}

// QueueMessage is a stored message.
type QueueMessage struct {
	ID          string     `json:"id"`
	Queue       string     `json:"queue"`
	Body        string     `json:"-"`
	State       string     `json:"state"` // "ready" or "failed"
	Attempts    int        `json:"attempts"`
	DedupeKey   string     `json:"dedupe_key,omitempty"`
	OriginQueue string     `json:"origin_queue,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	VisibleAt   time.Time  `json:"visible_at"`
	LeasedUntil *time.Time `json:"leased_until,omitempty"`
}

// QueueStats is what an app's queue holds now.
type QueueStats struct {
	Queue string `json:"queue"`
	// Depth is every message waiting in the queue: ready, delayed or
	// retrying, not in flight and not failed.
	Depth    int `json:"depth"`
	InFlight int `json:"in_flight"`
	// Retrying is the waiting messages delivered at least once before.
	Retrying int `json:"retrying"`
	Failed   int `json:"failed"`
	// OldestAgeSeconds is the age of the oldest message not failed, 0
	// for none.
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
}

// AppQueueStats is one queue of the board, with its app's name.
type AppQueueStats struct {
	App string `json:"app"`
	QueueStats
}

// QueueOutcome is what a consumer decided for one delivered message.
type QueueOutcome struct {
	ID    string
	Ack   bool          // delete it
	Delay time.Duration // else: deliver again after this
	Error string        // why it is retried, for the admin view
}
