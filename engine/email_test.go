package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// keptCalls answers every data call with {"messageId":"m@x"} and keeps it.
type keptCalls struct {
	mu    sync.Mutex
	calls []DataCall
}

func (k *keptCalls) Call(_ context.Context, _ string, c DataCall) (DataResult, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, c)
	return DataResult{Value: []byte(`{"messageId":"m@x"}`)}, nil
}

// The SDK's email.send refuses bad messages with a TypeError before any
// data call, and sends a good one with its addresses as arrays and its
// attachments in base64.
func TestEmailSendArguments(t *testing.T) {
	ds := &keptCalls{}
	x := NewInProcess(Options{Data: ds})
	res := runWith(t, x, JavaScript, `import { email } from "picloud"
const bad = [
  undefined, "text", [],
  { to: "a@x.example", text: "t" },
  { from: "s@x.example", text: "t" },
  { from: "s@x.example", to: "a@x.example" },
  { from: "s@x.example", to: [1], text: "t" },
  { from: "s@x.example", to: "a@x.example", text: "t", headers: {} },
  { from: "s@x.example", to: Array(51).fill("a@x.example"), text: "t" },
  { from: "s@x.example", to: "a@x.example", text: 5 },
  { from: "s@x.example", to: "a@x.example", text: "t", attachments: {} },
  { from: "s@x.example", to: "a@x.example", text: "t", attachments: Array(11).fill({ filename: "f", content: "" }) },
  { from: "s@x.example", to: "a@x.example", text: "t", attachments: [{ filename: "", content: "" }] },
  { from: "s@x.example", to: "a@x.example", text: "t", attachments: [{ filename: "f", content: 1 }] },
]
export default async () => {
  const out = []
  for (const m of bad) {
    try { await email.send(m); out.push("sent") } catch (e) { out.push(e.name + " " + e.code) }
  }
  const ok = await email.send({ from: "s@x.example", to: "a@x.example", bcc: ["b@x.example"], subject: "s", html: "<b>h</b>",
    attachments: [{ filename: "f.bin", content: new Uint8Array([0, 255]) }, { filename: "t.txt", content: "é", contentType: "text/plain" }] })
  out.push(ok.messageId)
  return Response.json(out)
}`)
	var out []string
	if err := json.Unmarshal([]byte(respBody(t, res)), &out); err != nil {
		t.Fatal(err)
	}
	for i, o := range out[:len(out)-1] {
		if o != "TypeError data.invalid" {
			t.Errorf("bad message %d: %s, want TypeError data.invalid", i, o)
		}
	}
	if out[len(out)-1] != "m@x" {
		t.Errorf("email.send resolved to %q", out[len(out)-1])
	}
	if len(ds.calls) != 1 || ds.calls[0].Op != "email.send" {
		t.Fatalf("%d data calls, want the good message's only", len(ds.calls))
	}
	var args map[string]any
	if err := json.Unmarshal(ds.calls[0].Args, &args); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(args)
	for _, want := range []string{`"to":["a@x.example"]`, `"bcc":["b@x.example"]`, `"cc":[]`, `"text":""`,
		`{"content":"AP8=","filename":"f.bin"}`, `{"content":"w6k=","contentType":"text/plain","filename":"t.txt"}`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("the call's arguments %s have no %s", got, want)
		}
	}
}
