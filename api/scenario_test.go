package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/appliance/testkit"
)

// apiScenario is one request to the API and what its answer must be, in
// the manner of PocketBase's tests.ApiScenario. {name} in url, header values
// and body is replaced by the stack's vars[name], which before and after
// hooks of earlier scenarios set; "TOKEN" in a header value is alice's
// session token.
type apiScenario struct {
	name    string
	method  string
	url     string
	headers map[string]string // nil: no header (anonymous)
	body    any               // a string of JSON (or text), or a value to encode as JSON

	expectedStatus     int
	expectedContent    []string          // substrings of the body
	notExpectedContent []string          // strings the body must not hold
	expectedBody       *string           // the whole body
	expectedHeaders    map[string]string // "" means present, with any value
	expectedJSON       map[string]any    // dotted paths into the JSON answer, and their values

	// tries > 1 sends the request again, up to tries times, until the
	// expectations hold (a limit reached after repeated attempts).
	tries int
	// eventually > 0 sends the request again until the expectations hold,
	// for at most that long (what a background writer records).
	eventually time.Duration

	before func(t *testing.T, s *stack)
	after  func(t *testing.T, s *stack, res response)
}

// asAlice is the header of alice's session.
var asAlice = map[string]string{"Authorization": "Bearer TOKEN"}

// bearer is the header of the credential in vars[name].
func bearer(name string) map[string]string {
	return map[string]string{"Authorization": "Bearer {" + name + "}"}
}

// body is a pointer to s, for expectedBody.
func body(s string) *string { return &s }

// save is an after hook that keeps the JSON answer's field at path (dotted)
// in vars[name].
func save(name, path string) func(*testing.T, *stack, response) {
	return func(t *testing.T, s *stack, res response) {
		t.Helper()
		v, err := jsonAt(res.body, path)
		if err != nil {
			t.Fatalf("save %s: %v", name, err)
		}
		s.vars[name] = fmt.Sprint(v)
	}
}

// runScenarios runs the scenarios in order on one stack, each as a
// subtest; later ones may use what earlier ones made.
func (s *stack) runScenarios(t *testing.T, scenarios []apiScenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.test(s.with(t)) })
	}
}

// test runs the scenario on s, whose t is the scenario's subtest.
func (sc apiScenario) test(s *stack) {
	t := s.t
	t.Helper()
	if sc.before != nil {
		sc.before(t, s)
	}
	method, url, headers, body := sc.request(s)
	var res response
	var err error
	check := func() error {
		if res, err = s.send(method, url, headers, body); err != nil {
			return err
		}
		return sc.check(s, res)
	}
	switch {
	case sc.eventually > 0:
		err = testkit.Poll(sc.eventually, check)
	case sc.tries > 1:
		for range sc.tries {
			if err = check(); err == nil {
				break
			}
		}
	default:
		err = check()
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if sc.after != nil {
		sc.after(t, s, res)
	}
}

// request is the scenario's request with the stack's vars filled in.
func (sc apiScenario) request(s *stack) (method, url string, headers map[string]string, body string) {
	pairs := make([]string, 0, 2*len(s.vars))
	for k, v := range s.vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	fill := strings.NewReplacer(pairs...).Replace
	switch b := sc.body.(type) {
	case nil:
	case string:
		body = fill(b)
	default:
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(b); err != nil {
			s.t.Fatalf("encode the body: %v", err)
		}
		body = fill(buf.String())
	}
	if sc.headers != nil {
		headers = map[string]string{}
		for k, v := range sc.headers {
			headers[k] = fill(v)
		}
	}
	return sc.method, fill(sc.url), headers, body
}

// check is nil when res is what the scenario expects, and otherwise says
// every way it is not.
func (sc apiScenario) check(s *stack, res response) error {
	var errs []error
	if res.status != sc.expectedStatus {
		errs = append(errs, fmt.Errorf("status %d, want %d", res.status, sc.expectedStatus))
	}
	for _, want := range sc.expectedContent {
		if !strings.Contains(res.body, want) {
			errs = append(errs, fmt.Errorf("no %q in the body", want))
		}
	}
	for _, unwanted := range sc.notExpectedContent {
		if strings.Contains(res.body, unwanted) {
			errs = append(errs, fmt.Errorf("%q in the body", unwanted))
		}
	}
	if sc.expectedBody != nil && res.body != *sc.expectedBody {
		errs = append(errs, fmt.Errorf("the body is not %q", *sc.expectedBody))
	}
	for k, want := range sc.expectedHeaders {
		got := res.header.Values(k)
		if len(got) == 0 || want != "" && (len(got) != 1 || got[0] != want) {
			errs = append(errs, fmt.Errorf("header %s %q, want %q", k, got, want))
		}
	}
	paths := make([]string, 0, len(sc.expectedJSON))
	for path := range sc.expectedJSON {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	for _, path := range paths {
		got, err := jsonAt(res.body, path)
		if err != nil {
			errs = append(errs, err)
		} else if fmt.Sprint(got) != fmt.Sprint(sc.expectedJSON[path]) {
			errs = append(errs, fmt.Errorf("%s is %v, want %v", path, got, sc.expectedJSON[path]))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w\nbody: %.2000s", errors.Join(errs...), res.body)
	}
	return nil
}

// jsonAt is the value at a dotted path (a.b.c) of a JSON object.
func jsonAt(body, path string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return nil, fmt.Errorf("the body is not JSON: %w", err)
	}
	for _, key := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: no object holds %q", path, key)
		}
		if v, ok = m[key]; !ok {
			return nil, fmt.Errorf("%s: no %q", path, key)
		}
	}
	return v, nil
}

// TestScenarioCheckFails checks that the runner's check can fail, and says
// how: a scenario whose expectations all differ from the answer.
func TestScenarioCheckFails(t *testing.T) {
	res := response{status: 200, header: http.Header{"Retry-After": {"2"}}, body: `{"a":{"b":1},"secret":"x"}`}
	sc := apiScenario{expectedStatus: 201, expectedContent: []string{"missing"}, notExpectedContent: []string{"secret"},
		expectedBody: body("other"), expectedHeaders: map[string]string{"Retry-After": "1", "X-Absent": ""},
		expectedJSON: map[string]any{"a.b": 2, "a.c": 1}}
	err := sc.check(nil, res)
	if err == nil {
		t.Fatal("a scenario that expects nothing of the answer passed")
	}
	for _, want := range []string{"status 200, want 201", `no "missing"`, `"secret" in the body`, `not "other"`,
		"header Retry-After", "header X-Absent", "a.b is 1, want 2", `a.c: no "c"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the failure does not say %q:\n%v", want, err)
		}
	}
	ok := apiScenario{expectedStatus: 200, expectedContent: []string{`"b":1`}, notExpectedContent: []string{"absent"},
		expectedBody: body(res.body), expectedHeaders: map[string]string{"Retry-After": ""}, expectedJSON: map[string]any{"a.b": 1}}
	if err := ok.check(nil, res); err != nil {
		t.Fatalf("a scenario that matches the answer failed: %v", err)
	}
}
