package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestCanonicalURLAgreesWithParser checks the allocation-free path against
// the full parser: every input it accepts (from the WPT vectors, inputs
// and expected hrefs, and the cases below) must parse to itself with the
// same parts. The cases that must take the full parser show that the
// check is not simply accepting everything.
func TestCanonicalURLAgreesWithParser(t *testing.T) {
	inputs := []string{
		"http://pi.local/users/7?q=two&x=1", "https://example.com/", "ws://a-b.c:8080/x#y", "https://h/p?#",
		"http://h/a|b:c@d!$&'()*+,;=~%zz/", "https://h/?a=`{}|^", "http://h//x", "https://h/%2",
		"http://127.0.0.1:8080/kv?n=1", "http://1.2.3.4/", "https://0.0.0.0/", "http://255.255.255.255/x",
	}
	mustReject := []string{
		"http://EXAMPLE.com/", "http://01.2.3.4/", "http://256.1.1.1/", "http://1.2.3/", "http://1.2.3.4.5/",
		"http://1.2.3.4./", "http://0x1.2.3.4/", "http://1.2.3.08/", "http://1.2.3.1000/", "http://1.2..4/", "http://a.0x7f/", "http://a.b.1/", "http://a/./b", "http://a/b/..",
		"http://a/%2e/", "http://a/%2E%2E", "http://a:80/", "https://a:443/", "http://a:/", "http://a:080/",
		"http://a:65536/", "http://xn--a.com/", "http://a..b/", "http://a./", "http://a", "http://a?x", "http://u@a/",
		"http://a/ b", "http://a/\u00e9", "http://a/^", "http://a/?'", "http://a/#`", "http://a/\\b", " http://a/",
		"http://a/\t", "ftp://a/", "file:///x", "sc://a/", "HTTP://a/",
	}
	inputs = append(inputs, mustReject...)
	b, err := os.ReadFile(filepath.Join("testdata", "wpt", "urltestdata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var data []map[string]any
	for _, r := range raw {
		var v map[string]any
		if json.Unmarshal(r, &v) == nil { // comments are strings
			data = append(data, v)
		}
	}
	refs := [][2]string{
		{"/thanks?from=form", "http://pi.local/users/7?q=two&x=1"}, {"/a#b", "https://h:8443/x"},
		{"//evil/x", "http://h/"}, {"/\\evil/x", "http://h/"}, {"/./x", "http://h/"}, {" /x", "http://h/"},
		{"/x", "http://H/"}, {"x", "http://h/a/"}, {"?q", "http://h/a"}, {"https://o/", "http://h/"},
	}
	for _, v := range data {
		in, _ := v["input"].(string)
		if base, ok := v["base"].(string); ok {
			refs = append(refs, [2]string{in, base})
		}
	}
	for _, v := range data {
		for _, k := range []string{"input", "href"} {
			if s, ok := v[k].(string); ok {
				inputs = append(inputs, s)
			}
		}
	}
	accepted := 0
	for _, in := range inputs {
		c, ok := parseCanonicalURL(in)
		if !ok {
			continue
		}
		accepted++
		u, err := urlParser.Parse(in)
		if err != nil {
			t.Errorf("%q: accepted as canonical, but the parser refuses it: %v", in, err)
			continue
		}
		full := &urlRecord{u: u}
		fast := &urlRecord{canonical: c}
		for _, part := range []struct {
			name      string
			got, want string
		}{
			{"href", fast.href(), full.href()}, {"protocol", fast.protocol(), full.protocol()},
			{"username", fast.username(), full.username()}, {"password", fast.password(), full.password()},
			{"host", fast.host(), full.host()}, {"hostname", fast.hostname(), full.hostname()},
			{"port", fast.port(), full.port()}, {"pathname", fast.pathname(), full.pathname()},
			{"search", fast.search(), full.search()}, {"hash", fast.hash(), full.hash()},
			{"query", fast.query(), full.query()}, {"origin", fast.origin(), full.origin()},
		} {
			if part.got != part.want {
				t.Errorf("%q: %s is %q on the canonical path, %q parsed", in, part.name, part.got, part.want)
			}
		}
		if full.href() != in {
			t.Errorf("%q: accepted as canonical, but it serialises as %q", in, full.href())
		}
	}
	acceptedRefs := 0
	for _, ref := range refs {
		c, ok := parseCanonicalRef(ref[0], ref[1])
		if !ok {
			continue
		}
		acceptedRefs++
		base, err := urlParser.Parse(ref[1])
		if err != nil {
			t.Errorf("%q against %q: the base is accepted as canonical, but the parser refuses it: %v", ref[0], ref[1], err)
			continue
		}
		u, err := base.Parse(ref[0])
		if err != nil {
			t.Errorf("%q against %q: accepted as canonical, but the parser refuses it: %v", ref[0], ref[1], err)
			continue
		}
		if c.href != u.Href(false) {
			t.Errorf("%q against %q: %q on the canonical path, %q parsed", ref[0], ref[1], c.href, u.Href(false))
		}
	}
	if acceptedRefs < 5 {
		t.Errorf("only %d references took the canonical path", acceptedRefs)
	}
	for _, in := range mustReject {
		if _, ok := parseCanonicalURL(in); ok {
			t.Errorf("%q: accepted as canonical", in)
		}
	}
	if accepted < 50 {
		t.Errorf("only %d inputs took the canonical path", accepted)
	}
	t.Logf("%d of %d inputs and %d of %d references took the canonical path", accepted, len(inputs), acceptedRefs, len(refs))
}
