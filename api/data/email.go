package data

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net/mail"
	"strings"

	"github.com/google/uuid"
	gomail "github.com/wneessen/go-mail"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// Limits of email.send.
const (
	// MaxEmailRecipients is the most addresses of to, cc and bcc together.
	MaxEmailRecipients = 50
	// MaxMailBytes bounds a built message, headers and encoding included.
	MaxMailBytes = 1 << 20
	// MaxSubjectBytes bounds a subject.
	MaxSubjectBytes = 998
	// MaxAttachments is the most files one message carries.
	MaxAttachments = 10
)

// Codes of failed email calls.
const (
	// CodeEmailNotConfigured: the daemon has no SMTP relay.
	CodeEmailNotConfigured = "email.not_configured"
	// CodeEmailSenderRefused: the from address is not an allowed sender.
	CodeEmailSenderRefused = "email.sender_refused"
	// CodeEmailLoop: message.forward of a message that went through
	// mailtrace.MaxHops relays already, a routing loop.
	CodeEmailLoop = "email.loop"
)

// EmailStore keeps the outbox; appliance/store's Store satisfies it.
type EmailStore interface {
	// AddEmail stores a message, in the transaction ctx carries if any.
	AddEmail(ctx context.Context, m model.OutboundEmail) error
}

// Senders is who scripts may send as: addresses, and domains written
// "@example.com" (any address at exactly that domain).
type Senders []string

// Allows reports whether addr (a bare address) is one of s.
func (s Senders) Allows(addr string) bool {
	addr = strings.ToLower(addr)
	at := strings.LastIndexByte(addr, '@')
	for _, a := range s {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == addr || (strings.HasPrefix(a, "@") && at >= 0 && addr[at:] == a) {
			return true
		}
	}
	return false
}

// WithEmail lets scripts send email through the outbox e, from the
// senders allowed. It returns s.
func (s *Service) WithEmail(e EmailStore, allowed Senders) *Service {
	s.email, s.senders = e, allowed
	return s
}

// emailSendArgs are the arguments of email.send.
type emailSendArgs struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Cc      []string `json:"cc"`
	Bcc     []string `json:"bcc"`
	ReplyTo string   `json:"replyTo"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
	// Attachments are files, their content in base64.
	Attachments []emailAttachment `json:"attachments"`
}

// emailAttachment is one file of a message.
type emailAttachment struct {
	Filename    string `json:"filename"`
	Content     string `json:"content"` // base64
	ContentType string `json:"contentType"`
}

// emailSend answers email.send: it checks the message, builds it and
// stores it in the outbox, and returns its {messageId}.
func (s *Service) emailSend(ctx context.Context, appID string, call engine.DataCall) (any, error) {
	if s.email == nil {
		return nil, &engine.DataError{Code: CodeEmailNotConfigured, Message: "email.send: this daemon has no SMTP relay (PICLOUD_SMTP_RELAY)"}
	}
	var a emailSendArgs
	if err := decodeArgs(call, &a); err != nil {
		return nil, err
	}
	m, err := buildEmail(a, s.senders)
	if err != nil {
		return nil, err
	}
	if err := s.checkAppSender(ctx, appID, "email.send", m.Sender); err != nil {
		return nil, err
	}
	m.AppID = appID
	if err := s.email.AddEmail(ctx, m); err != nil {
		return nil, err
	}
	return struct {
		MessageID string `json:"messageId"`
	}{m.MessageID}, nil
}

// buildEmail checks a's fields, the sender against allowed, and builds
// the message.
func buildEmail(a emailSendArgs, allowed Senders) (model.OutboundEmail, error) {
	var m model.OutboundEmail
	from, err := parseAddress("from", a.From)
	if err != nil {
		return m, err
	}
	if !allowed.Allows(from.Address) {
		return m, &engine.DataError{Code: CodeEmailSenderRefused,
			Message: fmt.Sprintf("email.send: %s is not an allowed sender (PICLOUD_SMTP_SENDERS)", from.Address)}
	}
	var rcpts []string
	lists := map[string][]*mail.Address{}
	for _, l := range []struct {
		what  string
		addrs []string
	}{{"to", a.To}, {"cc", a.Cc}, {"bcc", a.Bcc}} {
		for _, raw := range l.addrs {
			addr, err := parseAddress(l.what, raw)
			if err != nil {
				return m, err
			}
			lists[l.what] = append(lists[l.what], addr)
			rcpts = append(rcpts, addr.Address)
		}
	}
	if len(rcpts) == 0 {
		return m, invalid("email.send: give at least one recipient in to, cc or bcc")
	}
	if len(rcpts) > MaxEmailRecipients {
		return m, invalid("email.send: %d recipients: at most %d in to, cc and bcc together", len(rcpts), MaxEmailRecipients)
	}
	if strings.ContainsAny(a.Subject, "\r\n") || !isText(a.Subject) {
		return m, invalid("email.send: the subject must be one line of text")
	}
	if len(a.Subject) > MaxSubjectBytes {
		return m, tooLarge("email.send: the subject is %d bytes, over the %d allowed", len(a.Subject), MaxSubjectBytes)
	}
	if a.Text == "" && a.HTML == "" {
		return m, invalid("email.send: give a text or an html body")
	}
	if len(a.Text)+len(a.HTML) > MaxMailBytes {
		return m, tooLarge("email.send: the body is %d bytes, over the %d a message may have", len(a.Text)+len(a.HTML), MaxMailBytes)
	}
	if !isText(a.Text) || !isText(a.HTML) {
		return m, invalid("email.send: the body must be valid UTF-8 without NUL characters")
	}

	msg := gomail.NewMsg()
	msg.FromMailAddress(from)
	msg.ToMailAddress(lists["to"]...)
	msg.CcMailAddress(lists["cc"]...)
	msg.BccMailAddress(lists["bcc"]...)
	if a.ReplyTo != "" {
		replyTo, err := parseAddress("replyTo", a.ReplyTo)
		if err != nil {
			return m, err
		}
		msg.ReplyToMailAddress(replyTo)
	}
	msg.Subject(a.Subject)
	switch {
	case a.Text != "" && a.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, a.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, a.HTML)
	case a.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, a.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, a.HTML)
	}
	if len(a.Attachments) > MaxAttachments {
		return m, invalid("email.send: %d attachments: at most %d", len(a.Attachments), MaxAttachments)
	}
	size := len(a.Text) + len(a.HTML)
	for i, f := range a.Attachments {
		if f.Filename == "" || len(f.Filename) > MaxNameBytes || !isText(f.Filename) || strings.ContainsAny(f.Filename, "\r\n/\\\"") {
			return m, invalid("email.send: attachment %d: the filename must be 1 to %d bytes of text without line breaks, quotes or slashes", i, MaxNameBytes)
		}
		b, err := base64.StdEncoding.DecodeString(f.Content)
		if err != nil {
			return m, invalid("email.send: attachment %q: the content is not base64: %v", f.Filename, err)
		}
		if size += len(b); size > MaxMailBytes {
			return m, tooLarge("email.send: the body and attachments are %d bytes or more, over the %d a message may have", size, MaxMailBytes)
		}
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") || strings.ContainsAny(ct, "\r\n") {
			return m, invalid("email.send: attachment %q: contentType %q is not a media type such as text/csv", f.Filename, f.ContentType)
		}
		if err := msg.AttachReader(f.Filename, bytes.NewReader(b), gomail.WithFileContentType(gomail.ContentType(ct))); err != nil {
			return m, invalid("email.send: attachment %q: %v", f.Filename, err)
		}
	}
	m.MessageID = uuid.NewString() + from.Address[strings.LastIndexByte(from.Address, '@'):]
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.SetUserAgent("PiCloud")
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return m, invalid("email.send: the message cannot be built: %v", err)
	}
	if buf.Len() > MaxMailBytes {
		return m, tooLarge("email.send: the message is %d bytes, over the %d allowed", buf.Len(), MaxMailBytes)
	}
	m.Sender, m.Recipients, m.Message = from.Address, rcpts, buf.Bytes()
	return m, nil
}

// parseAddress parses one address of field what, as RFC 5322 allows it
// ("Name <a@b.example>" or "a@b.example").
func parseAddress(what, s string) (*mail.Address, error) {
	if s == "" {
		return nil, invalid("email.send: %s must be an email address", what)
	}
	if strings.ContainsAny(s, "\r\n") || !isText(s) {
		return nil, invalid("email.send: %s %q must be one line of text", what, s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, invalid("email.send: %s %q is not an email address: %v", what, s, err)
	}
	if !strings.Contains(a.Address, "@") {
		return nil, invalid("email.send: %s %q has no domain", what, s)
	}
	return a, nil
}

// AppSendersStore reads the senders the owner set for an app;
// appliance/store's Store satisfies it.
type AppSendersStore interface {
	// AppEmailSenders returns an app's senders; false when none are set.
	AppEmailSenders(ctx context.Context, appID string) ([]string, bool, error)
}

// WithAppSenders restricts each app's email to the senders its owner
// set, if any, within those of WithEmail. It returns s.
func (s *Service) WithAppSenders(st AppSendersStore) *Service {
	s.appSenders = st
	return s
}

// checkAppSender refuses addr as the sender of what when the owner set
// the app's senders and addr is not among them.
func (s *Service) checkAppSender(ctx context.Context, appID, what, addr string) error {
	if s.appSenders == nil {
		return nil
	}
	own, ok, err := s.appSenders.AppEmailSenders(ctx, appID)
	if err != nil {
		return err
	}
	if ok && !Senders(own).Allows(addr) {
		return &engine.DataError{Code: CodeEmailSenderRefused,
			Message: fmt.Sprintf("%s: %s is not one of this app's senders (GET /api/v1/admin/apps/%s/email-senders)", what, addr, appID)}
	}
	return nil
}
