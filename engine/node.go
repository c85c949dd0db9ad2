package engine

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	_ "embed"
	"hash"
	"strings"
	"sync"

	"github.com/dop251/goja"
)

// The node: modules Workers offers under nodejs_compat that make sense
// here (docs/scripts.md): node:buffer, node:crypto's hashing, HMAC and
// random values, node:util's format and inspect. A script imports them as
// in Workers; esbuild leaves the import a require call, answered here.
//
//go:embed prelude/node.js
var nodeSource string

// nodeModules maps the names a script may import to the modules of
// prelude/node.js.
var nodeModules = map[string]string{
	"node:buffer": "buffer", "buffer": "buffer",
	"node:crypto": "crypto", "crypto": "crypto",
	"node:util": "util", "util": "util",
}

var nodeProgram = sync.OnceValues(func() (*goja.Program, error) {
	return goja.Compile("picloud-node.js", nodeSource, true)
})

// nodeHashes are node:crypto's hash names, lower case without "-".
var nodeHashes = map[string]func() hash.Hash{
	"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
}

// nodeModule returns the node: module key names (see nodeModules),
// running prelude/node.js the first time.
func (e *execution) nodeModule(key string) goja.Value {
	if e.nodeNS == nil {
		prog, err := nodeProgram()
		if err != nil {
			panic(err) // the embedded source is tested; this is a build defect
		}
		fv, err := e.r.RunProgram(prog)
		if err != nil {
			panic(err)
		}
		fn, _ := goja.AssertFunction(fv)
		ns, err := fn(goja.Undefined(), e.nodeNatives())
		if err != nil {
			panic(err)
		}
		e.nodeNS = ns.(*goja.Object)
	}
	return e.nodeNS.Get(key)
}

// nodeNatives are the helpers prelude/node.js builds its modules on.
func (e *execution) nodeNatives() *goja.Object {
	n := e.r.NewObject()
	_ = n.Set("hash", func(call goja.FunctionCall) goja.Value {
		name := strings.ReplaceAll(strings.ToLower(call.Argument(0).String()), "-", "")
		mk := nodeHashes[name]
		if mk == nil {
			e.throw("Error", "Digest method not supported: "+quote(call.Argument(0).String()))
		}
		var h hash.Hash
		if k := call.Argument(1); goja.IsNull(k) {
			h = mk()
		} else {
			key, _ := bufferBytes(e.r, k)
			h = hmac.New(mk, key)
		}
		return e.r.ToValue(&nodeHash{h: h})
	})
	state := func(v goja.Value) *nodeHash {
		h, ok := v.Export().(*nodeHash)
		if !ok {
			e.throw("TypeError", "not a hash")
		}
		return h
	}
	_ = n.Set("update", func(call goja.FunctionCall) goja.Value {
		b, _ := bufferBytes(e.r, call.Argument(1))
		state(call.Argument(0)).h.Write(b)
		return goja.Undefined()
	})
	_ = n.Set("digest", func(call goja.FunctionCall) goja.Value {
		return e.newArrayBuffer(state(call.Argument(0)).h.Sum(nil))
	})
	_ = n.Set("format", func(call goja.FunctionCall) goja.Value {
		return e.str(e.formatArgs(call.Arguments))
	})
	_ = n.Set("inspect", func(call goja.FunctionCall) goja.Value {
		return e.str(e.inspectMember(call.Argument(0)))
	})
	return n
}

// nodeHash is the state of a node:crypto Hash or Hmac.
type nodeHash struct{ h hash.Hash }
