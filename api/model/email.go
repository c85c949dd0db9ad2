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
