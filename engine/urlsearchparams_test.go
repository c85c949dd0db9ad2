package engine

import "testing"

// TestURLSearchParamsStandard holds URLSearchParams to the URL standard:
// cases after its examples and the edge cases of WPT's urlsearchparams
// tests (which are JavaScript, so they are written again here). The
// expected values are what the standard says; Node.js 20 gives the same.
func TestURLSearchParamsStandard(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"parsing", `const p = (s) => [...new URLSearchParams(s)]
return [p("a=b+c"), p("a=b%2Bc"), p("&&&a=1&&b"), p("=b"), p("a==b"), p("??a=b"), p("a=%zz%4"),
  p("%C3%A9=%FF"), p("a=%E2%82"), p("a=%FF%FE"), p("a=%F0%9F%8C%88%ED%A0%80")]`,
			`[[["a","b c"]],[["a","b+c"]],[["a","1"],["b",""]],[["","b"]],[["a","=b"]],[["?a","b"]],[["a","%zz%4"]],
  [["é","\ufffd"]],[["a","\ufffd"]],[["a","\ufffd\ufffd"]],[["a","🌈\ufffd\ufffd\ufffd"]]]`},
		{"serialising", `return new URLSearchParams([["a b", "+&=#?"], ["é~", "*-._"], ["line", "x\ny"], ["", ""]]).toString()`,
			`"a+b=%2B%26%3D%23%3F&%C3%A9%7E=*-._&line=x%0Ay&="`},
		{"the standard's example: sort re-serialises the query", `const url = new URL("https://example.com/?a=b ~")
const before = url.href
url.searchParams.sort()
return [before, url.href]`, `["https://example.com/?a=b%20~","https://example.com/?a=b+%7E"]`},
		{"sort is stable and by UTF-16 code units", `const p = new URLSearchParams("z=b&a=b&z=a&a=a")
p.sort()
const q = new URLSearchParams("\uFB03=1&\u{1F308}=2&\uFFFD=3&a=4")
q.sort()
return [p.toString(), [...q.keys()]]`, `["a=b&a=a&z=b&z=a",["a","🌈","ﬃ","\ufffd"]]`},
		{"record and sequence inits", `const r = []
r.push(new URLSearchParams({ b: "1", a: "2" }).toString())
r.push(new URLSearchParams([["x", 1], ["x", 2]]).getAll("x"))
try { new URLSearchParams([["a", "b", "c"]]); r.push("no error") } catch (e) { r.push(e.name) }
try { new URLSearchParams([["a"]]); r.push("no error") } catch (e) { r.push(e.name) }
const src = new URLSearchParams("k=v")
const copy = new URLSearchParams(src)
copy.append("k", "w")
r.push(src.toString(), copy.toString())
return r`, `["b=1&a=2",["1","2"],"TypeError","TypeError","k=v","k=v&k=w"]`},
		{"methods with a value argument", `const p = new URLSearchParams("a=1&a=2&b=3")
const r = [p.size, p.has("a", "2"), p.has("a", "9"), p.get("zz"), p.getAll("zz")]
p.delete("a", "1")
r.push(p.toString())
p.set("b", "4"); p.set("c", "5")
r.push(p.toString(), p.size)
return r`, `[3,true,false,null,[],"a=2&b=3","a=2&b=4&c=5",3]`},
		{"a URL's searchParams follow its query", `const u = new URL("https://h/p?x=1#f")
const sp = u.searchParams
const r = [sp === u.searchParams]
sp.append("y", "a b")
r.push(u.href)
u.search = "?q=2"
r.push(sp.toString())
u.href = "https://h/?z=3"
r.push(sp.get("z"))
sp.delete("z")
r.push(u.href, u.search)
return r`, `[true,"https://h/p?x=1&y=a+b#f","q=2","3","https://h/",""]`},
		{"iteration", `const p = new URLSearchParams("a=1&b=2")
const seen = []
p.forEach((v, k, obj) => seen.push(k + v + (obj === p)))
return [seen, [...p.entries()], [...p.keys()], [...p.values()], [...p].length]`,
			`[["a1true","b2true"],[["a","1"],["b","2"]],["a","b"],["1","2"],2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jsonEq(t, evalJSON(t, tt.src), tt.want)
		})
	}
}
