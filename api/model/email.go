package model

import "time"

// OutboundEmail is a message a script sent with email.send, built and
// waiting in the outbox for the SMTP relay.
type OutboundEmail struct {
	ID         string   // the outbox row's id
	AppID      string   // the app whose script sent it
	MessageID  string   // its Message-ID, without the angle brackets
	Sender     string   // the envelope sender (MAIL FROM)
	Recipients []string // the envelope recipients (RCPT TO): to, cc and bcc
	Message    []byte   // the whole message, headers and body
	Attempts   int      // delivery attempts so far, the one being made included
}

// TriggerEmail is the trigger type that hands the mail received for an
// address to the script's email handler.
const TriggerEmail = "email"

// EmailConfig is the configuration of an email trigger.
type EmailConfig struct {
	// Address is the address claimed, in lower case; its domain is one
	// the app holds.
	Address string `json:"address"`
}

// InboundEmail is a message the SMTP listener accepted for one
// recipient, stored for the script whose trigger claims it.
type InboundEmail struct {
	ID        string
	AppID     string
	ScriptID  string
	TriggerID string
	Sender    string // the envelope sender (MAIL FROM); "" for a bounce
	Recipient string // the envelope recipient (RCPT TO)
	Message   []byte // the whole message, as received
	Attempts  int    // delivery attempts so far, the one being made included
}

// AppEmailSenders are the senders an app's scripts may use: Senders as
// the owner set them (nil when not set: the board's list holds), within
// Board, the board's PICLOUD_SMTP_SENDERS.
type AppEmailSenders struct {
	Senders []string `json:"senders"`
	Board   []string `json:"board"`
}

// InboxMessage is a received message as the admin API lists it: the
// envelope, the subject (from its headers), its size and its delivery.
// Raw is the message itself, filled only when one message is asked for,
// at most the cap the admin API gives (RawTruncated says it was cut).
type InboxMessage struct {
	ID            string     `json:"id"`
	ScriptID      string     `json:"script_id"`
	TriggerID     string     `json:"trigger_id,omitempty"`
	From          string     `json:"from"`
	To            string     `json:"to"`
	Subject       string     `json:"subject"`
	Size          int        `json:"size"`
	State         string     `json:"state"` // queued, delivered, rejected or failed
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error,omitempty"`
	RejectReason  string     `json:"reject_reason,omitempty"`
	ReceivedAt    time.Time  `json:"received_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"` // while queued
	SettledAt     *time.Time `json:"settled_at,omitempty"`      // once delivered, rejected or failed
	Raw           *string    `json:"raw,omitempty"`
	RawTruncated  bool       `json:"raw_truncated,omitempty"`
	// Head is the start of the message, its headers, for the subject.
	Head []byte `json:"-"`
}
