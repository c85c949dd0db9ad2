package capture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/aymanbagabas/go-udiff"
)

// Outcome is what a replayed request answered, headers redacted as the
// captured ones were.
type Outcome struct {
	Status int
	Header map[string][]string
	Body   []byte
	// Error is the replay's failure, nil when the version answered.
	Error *Failure
}

// Failure is why a replayed execution failed.
type Failure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Result is the comparison of one captured request's response with its
// replay's: Same, or what differs.
type Result struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Same   bool   `json:"same"`
	// Status is set when the status differs.
	Status *StatusChange `json:"status,omitempty"`
	// Headers are the response headers that differ, by name.
	Headers []HeaderChange `json:"headers,omitempty"`
	// Body is set when the body differs.
	Body *BodyChange `json:"body,omitempty"`
	// Error is the replay's failure, when it failed.
	Error *Failure `json:"error,omitempty"`
}

// StatusChange is a status that differs.
type StatusChange struct {
	Captured int `json:"captured"`
	Replayed int `json:"replayed"`
}

// HeaderChange is a response header that differs; a side without it is
// null.
type HeaderChange struct {
	Name     string   `json:"name"`
	Captured []string `json:"captured"`
	Replayed []string `json:"replayed"`
}

// BodyChange is how bodies differ: JSON bodies by path (Changes, such as
// "$.total: 3 → 4"), text as a unified diff (Diff), other bodies by
// size.
type BodyChange struct {
	Kind    string   `json:"kind"` // "json", "text" or "binary"
	Changes []string `json:"changes,omitempty"`
	Diff    string   `json:"diff,omitempty"`
	// Sizes of the bodies, in bytes.
	CapturedBytes int `json:"captured_bytes"`
	ReplayedBytes int `json:"replayed_bytes"`
}

// Compare compares a captured response with its replay's outcome.
func Compare(status int, header map[string][]string, body []byte, got Outcome) Result {
	var r Result
	if got.Status != status {
		r.Status = &StatusChange{Captured: status, Replayed: got.Status}
	}
	r.Headers = compareHeaders(header, got.Header)
	if !bytes.Equal(body, got.Body) {
		r.Body = compareBodies(body, got.Body)
	}
	r.Error = got.Error
	r.Same = r.Status == nil && len(r.Headers) == 0 && r.Body == nil && r.Error == nil
	return r
}

func compareHeaders(a, b map[string][]string) []HeaderChange {
	names := map[string]bool{}
	for k := range a {
		names[k] = true
	}
	for k := range b {
		names[k] = true
	}
	var out []HeaderChange
	for _, k := range slices.Sorted(maps.Keys(names)) {
		if !slices.Equal(a[k], b[k]) {
			out = append(out, HeaderChange{Name: k, Captured: a[k], Replayed: b[k]})
		}
	}
	return out
}

func compareBodies(a, b []byte) *BodyChange {
	c := &BodyChange{CapturedBytes: len(a), ReplayedBytes: len(b)}
	var ja, jb any
	if json.Valid(a) && json.Valid(b) && decode(a, &ja) == nil && decode(b, &jb) == nil {
		c.Kind = "json"
		c.Changes = jsonChanges("$", ja, jb, nil)
		if len(c.Changes) > 0 {
			return c
		}
		// The same value written otherwise (spacing, key order): a text
		// diff says how.
	}
	if utf8.Valid(a) && utf8.Valid(b) {
		c.Kind = "text"
		c.Diff = udiff.Unified("captured", "replayed", string(a), string(b))
		return c
	}
	c.Kind = "binary"
	return c
}

// decode decodes JSON keeping numbers as written.
func decode(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// jsonChanges lists where a and b differ, path first: "path: a → b",
// with "(absent)" for a side that has nothing there.
func jsonChanges(path string, a, b any, out []string) []string {
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			keys := map[string]bool{}
			for k := range av {
				keys[k] = true
			}
			for k := range bv {
				keys[k] = true
			}
			for _, k := range slices.Sorted(maps.Keys(keys)) {
				x, inA := av[k]
				y, inB := bv[k]
				p := path + member(k)
				switch {
				case !inA:
					out = append(out, p+": (absent) → "+show(y))
				case !inB:
					out = append(out, p+": "+show(x)+" → (absent)")
				default:
					out = jsonChanges(p, x, y, out)
				}
			}
			return out
		}
	case []any:
		if bv, ok := b.([]any); ok {
			for i := range max(len(av), len(bv)) {
				p := path + "[" + strconv.Itoa(i) + "]"
				switch {
				case i >= len(av):
					out = append(out, p+": (absent) → "+show(bv[i]))
				case i >= len(bv):
					out = append(out, p+": "+show(av[i])+" → (absent)")
				default:
					out = jsonChanges(p, av[i], bv[i], out)
				}
			}
			return out
		}
	}
	if sa, sb := show(a), show(b); sa != sb {
		out = append(out, path+": "+sa+" → "+sb)
	}
	return out
}

var identifier = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// member is the path step to an object's member k.
func member(k string) string {
	if identifier.MatchString(k) {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

// show is a JSON value as compact JSON.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Report is a replay of a version against a script's captured requests.
type Report struct {
	ScriptID string `json:"script_id"`
	// Version is the version replayed.
	Version int `json:"version"`
	// CaptureEnabled is false when the script's capture is off: there
	// was nothing to replay.
	CaptureEnabled bool     `json:"capture_enabled"`
	Summary        Summary  `json:"summary"`
	Requests       []Result `json:"requests"`
}

// Summary counts a report's requests: those answered the same, those
// answered otherwise, and those whose replay failed (Result.Error).
type Summary struct {
	Total     int `json:"total"`
	Same      int `json:"same"`
	Different int `json:"different"`
	Failed    int `json:"failed"`
}

// Add adds a request's result to the report.
func (r *Report) Add(res Result) {
	r.Requests = append(r.Requests, res)
	r.Summary.Total++
	switch {
	case res.Error != nil:
		r.Summary.Failed++
	case res.Same:
		r.Summary.Same++
	default:
		r.Summary.Different++
	}
}
