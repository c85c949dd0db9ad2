package main

import (
	"strings"
	"testing"
)

// TestExecutionLogKeepsTheResponse: an execution record holds the start of
// what the script answered, with its headers, secret values redacted and
// long bodies cut at PICLOUD_LOG_RESPONSE_BYTES, while the caller gets the
// whole answer.
func TestExecutionLogKeepsTheResponse(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real daemon")
	}
	d := newDaemon(t, buildBinary(t), "PICLOUD_LOG_RESPONSE_BYTES=64")
	d.startAsOwner()
	const app = "00000000-0000-0000-0000-000000000001"
	d.expect(d.call("PUT", "/api/v1/admin/apps/"+app+"/variables/API_KEY", `{"value":"k-4242-secret","secret":true}`), 201)
	script := d.deploy("", "answer", `export default {
  fetch(request, env) {
    return new Response(JSON.stringify({ key: env.API_KEY, pad: "y".repeat(200) }), {
      status: 202, headers: { "Content-Type": "application/json", "X-Echo": env.API_KEY } })
  }
}`, "GET", "/answer")
	r := d.call("GET", "/answer", "")
	d.expect(r, 202, `"key":"k-4242-secret"`, strings.Repeat("y", 200))

	logs := d.await("the execution is logged", "GET", "/api/v1/admin/logs?script_id="+script, "", has(`"response"`))
	d.expect(logs, 200, `"size":232`, `"cut":true`, `"X-Echo":["[secret]"]`, `"body":"{\"key\":\"[secret]\",\"pad\":\"yyy`)
	if strings.Contains(logs.body, "k-4242-secret") || strings.Contains(logs.body, strings.Repeat("y", 60)) {
		t.Fatalf("the log holds the secret or more than 64 bytes of the body: %s", logs.body)
	}
}
