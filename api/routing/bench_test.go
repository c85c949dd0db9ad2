package routing

import (
	"fmt"
	"testing"
)

// benchTable builds a table of about 200 routes resembling a few apps'
// APIs: static pages, resources with parameters and file wildcards.
func benchTable(b *testing.B) *Table {
	var specs []string
	for i := 0; i < 20; i++ {
		res := fmt.Sprintf("res%02d", i)
		specs = append(specs,
			"GET /"+res,
			"POST /"+res,
			"GET /"+res+"/:id",
			"PUT /"+res+"/:id",
			"DELETE /"+res+"/:id",
			"GET /"+res+"/:id/items",
			"GET /"+res+"/:id/items/:item",
			"GET /"+res+"/search",
			"GET /pages/"+res+"/about",
			"GET /files/"+res+"/*path",
		)
	}
	tb := table(b, specs...)
	if tb.Len() != 200 {
		b.Fatalf("table has %d routes", tb.Len())
	}
	return tb
}

func BenchmarkMatch(b *testing.B) {
	tb := benchTable(b)
	cases := []struct{ name, method, path string }{
		{"static", "GET", "/pages/res17/about"},
		{"static_short", "GET", "/res11"},
		{"param", "GET", "/res13/12345"},
		{"param2", "GET", "/res13/12345/items/678"},
		{"wildcard", "GET", "/files/res07/css/site/main.css"},
		{"escaped_param", "GET", "/res13/a%20b"},
		{"head_fallback", "HEAD", "/res05/search"},
		{"miss", "GET", "/res05/1/nothing/here"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if _, _, ok := tb.Match(c.method, c.path); !ok && c.name != "miss" {
				b.Fatalf("%s %s did not match", c.method, c.path)
			}
			b.ReportAllocs()
			for b.Loop() {
				tb.Match(c.method, c.path)
			}
		})
	}
}
