package model

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
