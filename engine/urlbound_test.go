package engine

import (
	"strings"
	"testing"
)

// TestURLPathWorkIsBounded: whatwg-url serialises a path in time that
// grows with segments × length, in a call the time limit cannot
// interrupt, so a URL whose path would cost more than maxPathWork is
// refused; opaque paths, queries and fragments are not limited.
func TestURLPathWorkIsBounded(t *testing.T) {
	got := evalJSON(t, `const r = []
const try_ = (f) => { try { return f() } catch (e) { return e.name } }
const many = "a/".repeat(40000)
r.push(try_(() => new URL("http://h/" + many + "^").href.length))
r.push(try_(() => new URL("http://h/" + many).href.length))
r.push(try_(() => new URL(many + "^", "http://h/").href.length))
r.push(try_(() => new URL("sc:\t/" + many).href.length))
r.push(URL.canParse("http://h/" + many + "^"))
r.push(try_(() => new URL("data:text/plain;base64," + many).pathname.length))
r.push(try_(() => new URL("http://h/p?" + many).search.length))
r.push(try_(() => new URL("http://h/p#" + many).hash.length))
r.push(try_(() => new URL("http://h/" + "a/".repeat(500) + "^").pathname.length))
const u = new URL("http://h/x")
u.pathname = many
r.push(u.pathname)
return r`)
	jsonEq(t, got, `["TypeError","TypeError","TypeError","TypeError",false,80018,80001,80001,1004,"/x"]`)
	if pathWork("http://h/"+strings.Repeat("a/", 1000)) > maxPathWork {
		t.Error("a 2 KiB path of 1,000 segments is refused")
	}
}

// TestURLAuthorityIsBounded: whatwg-url parses user names, passwords and
// opaque hosts in time that grows with the square of their length, so
// authorities over maxAuthority are refused; a long path segment or query
// is not limited.
func TestURLAuthorityIsBounded(t *testing.T) {
	got := evalJSON(t, `const r = []
const try_ = (f) => { try { return f() } catch (e) { return e.name } }
const long = "u".repeat(200000)
r.push(try_(() => new URL("http://" + long + "@h/").href.length))
r.push(try_(() => new URL("http://u:" + long + "@h/").href.length))
r.push(try_(() => new URL("sc://" + long + "/").href.length))
r.push(try_(() => new URL("ht\ttp:" + long + "@h/").href.length))
r.push(try_(() => new URL("//" + long + "@h/", "http://b/").href.length))
r.push(try_(() => new URL("http://h/" + long).pathname.length))
r.push(try_(() => new URL("sc:" + long).pathname.length))
r.push(try_(() => new URL("http://" + "a.".repeat(3000) + "com/").hostname.length))
r.push(try_(() => new URL("/" + long, "http://b/").pathname.length))
const u = new URL("sc://h/")
u.host = "a%".repeat(100000)
u.hostname = "a%".repeat(100000)
r.push(u.host)
return r`)
	jsonEq(t, got, `["TypeError","TypeError","TypeError","TypeError","TypeError",200001,200000,6003,200001,"h"]`)
}
