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

	"github.com/picloud/picloud/api/model"
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

// The report's types are the API's (api/model), shared with its clients.
type (
	Failure      = model.ReplayFailure
	Result       = model.ReplayResult
	StatusChange = model.ReplayStatusChange
	HeaderChange = model.ReplayHeaderChange
	BodyChange   = model.ReplayBodyChange
	Report       = model.ReplayReport
	Summary      = model.ReplaySummary
)

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
