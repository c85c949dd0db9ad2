package engine

import (
	"strings"
	"testing"
)

// TestReplayRefusesFetch: a replay's fetch stops the execution with
// replay.refused, even when the script catches the rejection; outside a
// replay the same script gets its answer.
func TestReplayRefusesFetch(t *testing.T) {
	src := `export default async () => {
  try { await fetch("http://example.invalid/") } catch (e) { return new Response("caught " + e.code) }
  return new Response("fetched")
}`
	res := run(t, src, func(inv *Invocation) { inv.Replay = true })
	if res.Error == nil || res.Error.Code != CodeReplayRefused || !strings.Contains(res.Error.Message, "fetch is refused during a replay") {
		t.Fatalf("a replay's fetch: %+v %+v", res.Error, res.Response)
	}
	res = run(t, src)
	if res.Error != nil {
		t.Fatalf("outside a replay: %+v", res.Error)
	}
}
