package manager

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/picloud/picloud/api/model"
)

func TestParseCronConfig(t *testing.T) {
	c, err := ParseCronConfig(json.RawMessage(`{"schedule":"@daily"}`), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := (model.CronConfig{Schedule: "@daily", Timezone: "UTC", Misfire: "run_once", MaxRetries: DefaultCronRetries}); c != want {
		t.Errorf("defaults: %+v, want %+v", c, want)
	}
	c, err = ParseCronConfig(json.RawMessage(`{"schedule":"0 9 * * 1-5","timezone":"Europe/Berlin","misfire":"skip","max_retries":0}`), false)
	if err != nil || c.MaxRetries != 0 || c.Misfire != "skip" || c.Timezone != "Europe/Berlin" {
		t.Errorf("given: %+v %v", c, err)
	}
	for _, bad := range []struct{ body, want string }{
		{`{}`, "needs a schedule"},
		{`{"schedule":"*/5 * * * *","extra":1}`, `unknown field "extra"`},
		{`{"schedule":"*/5 * * * * *"}`, "expected exactly 5 fields"},
		{`{"schedule":"@daily","timezone":"Nowhere/City"}`, `unknown time zone "Nowhere/City"`},
		{`{"schedule":"@daily","misfire":"twice"}`, `misfire "twice"`},
		{`{"schedule":"@daily","max_retries":11}`, "max_retries is 11"},
		{`{"schedule":"@daily","max_retries":-1}`, "max_retries is -1"},
		{`{"schedule":5}`, "cannot unmarshal"},
	} {
		_, err := ParseCronConfig(json.RawMessage(bad.body), false)
		if !errors.Is(err, model.ErrInvalid) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", bad.body, err, bad.want)
		}
	}
	if _, err := ParseCronConfig(json.RawMessage(`{"schedule":"*/2 * * * * *"}`), true); err != nil {
		t.Errorf("seconds allowed: %v", err)
	}
}

func TestCheckTriggerType(t *testing.T) {
	s := &Service{}
	for _, c := range []struct{ typ, want string }{{"", "has no type"}, {"sms", `unknown trigger type "sms"`}, {"email", "needs an address"}, {"queue", "needs a queue"}} {
		_, err := s.checkTriggerConfig(c.typ, json.RawMessage(`{}`))
		if !errors.Is(err, model.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("type %q: %v, want %q", c.typ, err, c.want)
		}
	}
}

func TestParseEmailConfig(t *testing.T) {
	c, err := ParseEmailConfig(json.RawMessage(`{"address":"Orders@Shop.example"}`))
	if err != nil || c.Address != "orders@shop.example" {
		t.Errorf("address: %+v %v, want it in lower case", c, err)
	}
	for _, bad := range []struct{ body, want string }{
		{`{}`, "needs an address"},
		{`{"address":""}`, "needs an address"},
		{`{"address":"orders@shop.example","queue":"x"}`, `unknown field "queue"`},
		{`{"address":"Orders <orders@shop.example>"}`, "not a bare email address"},
		{`{"address":"orders"}`, "not a bare email address"},
		{`{"address":"orders@shop_example"}`, "not a domain name"},
		{`{"address":["orders@shop.example"]}`, "cannot unmarshal"},
	} {
		_, err := ParseEmailConfig(json.RawMessage(bad.body))
		if !errors.Is(err, model.ErrInvalid) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", bad.body, err, bad.want)
		}
	}
}

func TestCheckAppSenders(t *testing.T) {
	board := []string{"@shop.example", "alerts@other.example"}
	got, err := checkAppSenders([]string{"Orders@Shop.example", "@SHOP.example", "alerts@other.example", "orders@shop.example"}, board)
	if err != nil || strings.Join(got, " ") != "orders@shop.example @shop.example alerts@other.example" {
		t.Errorf("within the board: %v %v", got, err)
	}
	if got, err := checkAppSenders(nil, board); got != nil || err != nil {
		t.Errorf("nil: %v %v, want nil (no restriction)", got, err)
	}
	if got, err := checkAppSenders([]string{}, board); got == nil || len(got) != 0 || err != nil {
		t.Errorf("[]: %v %v, want an empty restriction", got, err)
	}
	for _, bad := range []struct {
		senders []string
		want    string
	}{
		{[]string{"news@other.example"}, "not among the board's senders"},
		{[]string{"@other.example"}, "not among the board's senders"},
		{[]string{"@sub.shop.example"}, "not among the board's senders"},
		{[]string{"shop.example"}, "neither an address"},
		{[]string{"a b@shop.example"}, "neither an address"},
	} {
		if _, err := checkAppSenders(bad.senders, board); !errors.Is(err, model.ErrInvalid) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want ErrInvalid saying %q", bad.senders, err, bad.want)
		}
	}
}
