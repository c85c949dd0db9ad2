package data

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/picloud/picloud/api/model"
	"github.com/picloud/picloud/engine"
)

// keptEmails keeps what the data service stores in the outbox.
type keptEmails struct{ got []model.OutboundEmail }

func (k *keptEmails) AddEmail(_ context.Context, m model.OutboundEmail) error {
	k.got = append(k.got, m)
	return nil
}

// TestEmailSendArguments checks that email.send refuses bad messages,
// with the code that says why and without storing anything, and stores a
// good one built with its envelope.
func TestEmailSendArguments(t *testing.T) {
	s := New(nil, nil)
	call := func(args string) (engine.DataResult, error) {
		return s.Call(context.Background(), "app-1", engine.DataCall{Op: "email.send", Args: []byte(args)})
	}
	good := `{"from":"Shop <shop@example.com>","to":["a@x.example"],"subject":"Hi","text":"hello"}`
	if _, err := call(good); dataCode(err) != CodeEmailNotConfigured {
		t.Errorf("email.send without a relay: %v, want %s", err, CodeEmailNotConfigured)
	}
	kept := &keptEmails{}
	s.WithEmail(kept, Senders{"@example.com", "news@other.example"})
	many := make([]string, MaxEmailRecipients+1)
	for i := range many {
		many[i] = "r@x.example"
	}
	manyJSON, _ := json.Marshal(many)
	for _, c := range []struct{ args, code, says string }{
		{`{"from":"not an address","to":["a@x.example"],"text":"t"}`, engine.CodeDataInvalid, "from"},
		{`{"from":"shop@example.com","to":["a@x.example"],"cc":["bad@"],"text":"t"}`, engine.CodeDataInvalid, "cc"},
		{`{"from":"shop@example.com","to":["a@x.example"],"bcc":["nodomain"],"text":"t"}`, engine.CodeDataInvalid, "bcc"},
		{`{"from":"shop@example.com","to":["a@x.example"],"replyTo":"x","text":"t"}`, engine.CodeDataInvalid, "replyTo"},
		{`{"from":"shop@example.com","to":["a@x.example\r\nBcc: c@x.example"],"text":"t"}`, engine.CodeDataInvalid, "one line"},
		{`{"from":"shop@example.com","text":"t"}`, engine.CodeDataInvalid, "at least one recipient"},
		{`{"from":"shop@example.com","to":` + string(manyJSON) + `,"text":"t"}`, engine.CodeDataInvalid, "51 recipients"},
		{`{"from":"shop@example.com","to":["a@x.example"],"subject":"a\r\nX-Evil: 1","text":"t"}`, engine.CodeDataInvalid, "subject"},
		{`{"from":"shop@example.com","to":["a@x.example"],"subject":"s"}`, engine.CodeDataInvalid, "text or an html body"},
		{`{"from":"shop@example.com","to":["a@x.example"],"text":"t","headers":[]}`, engine.CodeDataInvalid, "unknown field"},
		{`{"from":"shop@example.com","to":["a@x.example"],"text":"` + strings.Repeat("x", MaxMailBytes) + `"}`, engine.CodeDataTooLarge, "over the"},
		{`{"from":"shop@example.com","to":["a@x.example"],"text":"t","attachments":[{"filename":"a.txt","content":"not base64!"}]}`, engine.CodeDataInvalid, "not base64"},
		{`{"from":"shop@example.com","to":["a@x.example"],"text":"t","attachments":[{"filename":"../a.txt","content":""}]}`, engine.CodeDataInvalid, "filename"},
		{`{"from":"shop@example.com","to":["a@x.example"],"text":"t","attachments":[{"filename":"a\r\nX: 1","content":""}]}`, engine.CodeDataInvalid, "filename"},
		{`{"from":"shop@example.com","to":["a@x.example"],"text":"t","attachments":[{"filename":"a","content":"","contentType":"nonsense"}]}`, engine.CodeDataInvalid, "contentType"},
		{`{"from":"shop@example.com","to":["a@x.example"],"text":"t","attachments":[` + strings.Repeat(`{"filename":"a","content":""},`, MaxAttachments) + `{"filename":"a","content":""}]}`, engine.CodeDataInvalid, "attachments: at most"},
		{`{"from":"shop@example.com","to":["a@x.example"],"text":"t","attachments":[{"filename":"big","content":"` + base64.StdEncoding.EncodeToString(make([]byte, MaxMailBytes)) + `"}]}`, engine.CodeDataTooLarge, "over the"},
		{`{"from":"shop@sub.example.com","to":["a@x.example"],"text":"t"}`, CodeEmailSenderRefused, "not an allowed sender"},
		{`{"from":"other@other.example","to":["a@x.example"],"text":"t"}`, CodeEmailSenderRefused, "not an allowed sender"},
	} {
		_, err := call(c.args)
		if dataCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("email.send %.120s: %v, want %s saying %q", c.args, err, c.code, c.says)
		}
	}
	if len(kept.got) != 0 {
		t.Fatalf("refused sends stored %d messages", len(kept.got))
	}

	res, err := call(`{"from":"Shop <Shop@Example.com>","to":["Ann <a@x.example>"],"cc":["c@x.example"],"bcc":["hidden@x.example"],` +
		`"replyTo":"r@x.example","subject":"Grüße","text":"plain body","html":"<p>html body</p>",` +
		`"attachments":[{"filename":"report.csv","content":"` + base64.StdEncoding.EncodeToString([]byte("a,b\n1,2\n")) + `","contentType":"text/csv"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		MessageID string `json:"messageId"`
	}
	if err := json.Unmarshal(res.Value, &out); err != nil || !strings.HasSuffix(out.MessageID, "@Example.com") {
		t.Fatalf("result %s: %v", res.Value, err)
	}
	if len(kept.got) != 1 {
		t.Fatalf("stored %d messages", len(kept.got))
	}
	m := kept.got[0]
	msg := string(m.Message)
	if m.AppID != "app-1" || m.MessageID != out.MessageID || m.Sender != "Shop@Example.com" ||
		strings.Join(m.Recipients, " ") != "a@x.example c@x.example hidden@x.example" {
		t.Errorf("stored %+v", m)
	}
	for _, want := range []string{"Message-ID: <" + out.MessageID + ">", "To: \"Ann\" <a@x.example>", "Cc: <c@x.example>",
		"Reply-To: <r@x.example>", "Subject: =?UTF-8?", "multipart/alternative", "plain body", "<p>html body</p>",
		"multipart/mixed", `filename="report.csv"`, "text/csv", base64.StdEncoding.EncodeToString([]byte("a,b\n1,2\n"))} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message has no %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "hidden@") {
		t.Errorf("the message names its bcc recipient:\n%s", msg)
	}
}
