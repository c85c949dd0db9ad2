package engine

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"hash"
	"strings"

	"github.com/dop251/goja"
)

// crypto.subtle: digest with SHA-1/256/384/512, and HMAC keys (importKey
// "raw" or "jwk"-less generateKey, exportKey "raw", sign, verify). Every
// method returns a promise, as in browsers; failures reject with a
// DOMException. timingSafeEqual is the Workers extension that webhook
// signature checks want.

var hashes = map[string]func() hash.Hash{
	"SHA-1": sha1.New, "SHA-256": sha256.New, "SHA-384": sha512.New384, "SHA-512": sha512.New,
}

// cryptoKey is the state of a CryptoKey.
type cryptoKey struct {
	instance
	e           *execution
	hash        string
	secret      []byte
	extractable bool
	usages      []string
}

func (k *cryptoKey) Get(key string) goja.Value {
	e := k.e
	switch key {
	case "type":
		return e.str("secret")
	case "extractable":
		return e.r.ToValue(k.extractable)
	case "algorithm":
		alg := e.r.NewObject()
		_ = alg.Set("name", "HMAC")
		h := e.r.NewObject()
		_ = h.Set("name", k.hash)
		_ = alg.Set("hash", h)
		_ = alg.Set("length", len(k.secret)*8)
		return alg
	case "usages":
		return e.stringArray(k.usages)
	}
	return k.instance.Get(key)
}

// algorithmName reads an algorithm given as a name or {name}.
func algorithmName(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		if n := o.Get("name"); n != nil {
			return strings.ToUpper(n.String())
		}
		return ""
	}
	if isNullish(v) {
		return ""
	}
	return strings.ToUpper(v.String())
}

func (e *execution) newSubtle() *goja.Object {
	s := e.r.NewObject()
	// async runs fn and returns a promise of its result; a thrown value
	// becomes the rejection, as for an async function.
	async := func(fn func(call goja.FunctionCall) goja.Value) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) (ret goja.Value) {
			defer func() {
				if p := recover(); p != nil {
					v, ok := p.(goja.Value)
					if !ok {
						panic(p)
					}
					ret = e.rejected(v)
				}
			}()
			return e.resolved(fn(call))
		}
	}
	data := func(v goja.Value, what string) []byte {
		b, ok := bufferBytes(e.r, v)
		if !ok {
			panic(e.newError("TypeError", what+" must be an ArrayBuffer, a typed array or a DataView"))
		}
		return b
	}
	hashOf := func(v goja.Value) func() hash.Hash {
		h := hashes[algorithmName(v)]
		if h == nil {
			panic(e.newDOM("NotSupportedError", "unsupported hash algorithm "+quote(algorithmName(v))+": use SHA-1, SHA-256, SHA-384 or SHA-512"))
		}
		return h
	}
	key := func(v goja.Value, usage string) *cryptoKey {
		k, ok := stateOf[*cryptoKey](v)
		if !ok {
			panic(e.newError("TypeError", "the key is not a CryptoKey"))
		}
		for _, u := range k.usages {
			if u == usage {
				return k
			}
		}
		panic(e.newDOM("InvalidAccessError", "the key cannot be used to "+usage))
	}
	hmacAlg := func(v goja.Value) {
		if n := algorithmName(v); n != "HMAC" {
			panic(e.newDOM("NotSupportedError", "unsupported algorithm "+quote(n)+": crypto.subtle supports HMAC keys"))
		}
	}
	newKey := func(alg goja.Value, secret []byte, extractable goja.Value, usages goja.Value) goja.Value {
		hmacAlg(alg)
		o, _ := alg.(*goja.Object)
		k := &cryptoKey{e: e, secret: secret, extractable: extractable.ToBoolean()}
		if o != nil {
			hashOf(o.Get("hash"))
			k.hash = algorithmName(o.Get("hash"))
		}
		if k.hash == "" {
			panic(e.newError("TypeError", "HMAC needs a hash: { name: 'HMAC', hash: 'SHA-256' }"))
		}
		var us []string
		_ = e.r.ExportTo(usages, &us)
		for _, u := range us {
			if u != "sign" && u != "verify" {
				panic(e.newDOM("SyntaxError", "HMAC keys can be used to sign and verify, not "+quote(u)))
			}
		}
		if len(us) == 0 {
			panic(e.newDOM("SyntaxError", "a key needs at least one usage: sign or verify"))
		}
		k.usages = us
		return e.r.NewDynamicObject(k)
	}
	_ = s.Set("digest", async(func(call goja.FunctionCall) goja.Value {
		h := hashOf(call.Argument(0))()
		h.Write(data(call.Argument(1), "digest: the data"))
		return e.newArrayBuffer(h.Sum(nil))
	}))
	_ = s.Set("importKey", async(func(call goja.FunctionCall) goja.Value {
		if f := call.Argument(0).String(); f != "raw" {
			panic(e.newDOM("NotSupportedError", "importKey: only the \"raw\" format is supported, not "+quote(f)))
		}
		secret := append([]byte(nil), data(call.Argument(1), "importKey: the key data")...)
		if len(secret) == 0 {
			panic(e.newDOM("DataError", "importKey: the key is empty"))
		}
		return newKey(call.Argument(2), secret, call.Argument(3), call.Argument(4))
	}))
	_ = s.Set("generateKey", async(func(call goja.FunctionCall) goja.Value {
		var secret []byte
		if o, ok := call.Argument(0).(*goja.Object); ok {
			hmacAlg(o)
			// Without a length, the key is the hash's block size.
			secret = make([]byte, hashOf(o.Get("hash"))().BlockSize())
			if l := o.Get("length"); l != nil && !goja.IsUndefined(l) {
				n := l.ToInteger()
				if n <= 0 || n > 4096 || n%8 != 0 {
					panic(e.newDOM("OperationError", "generateKey: the length must be a multiple of 8 up to 4096 bits"))
				}
				secret = make([]byte, n/8)
			}
		}
		_, _ = rand.Read(secret)
		return newKey(call.Argument(0), secret, call.Argument(1), call.Argument(2))
	}))
	_ = s.Set("exportKey", async(func(call goja.FunctionCall) goja.Value {
		if f := call.Argument(0).String(); f != "raw" {
			panic(e.newDOM("NotSupportedError", "exportKey: only the \"raw\" format is supported"))
		}
		k, ok := stateOf[*cryptoKey](call.Argument(1))
		if !ok {
			panic(e.newError("TypeError", "exportKey: the key is not a CryptoKey"))
		}
		if !k.extractable {
			panic(e.newDOM("InvalidAccessError", "exportKey: the key is not extractable"))
		}
		return e.newArrayBuffer(append([]byte(nil), k.secret...))
	}))
	mac := func(k *cryptoKey, msg []byte) []byte {
		m := hmac.New(hashes[k.hash], k.secret)
		m.Write(msg)
		return m.Sum(nil)
	}
	_ = s.Set("sign", async(func(call goja.FunctionCall) goja.Value {
		hmacAlg(call.Argument(0))
		k := key(call.Argument(1), "sign")
		return e.newArrayBuffer(mac(k, data(call.Argument(2), "sign: the data")))
	}))
	_ = s.Set("verify", async(func(call goja.FunctionCall) goja.Value {
		hmacAlg(call.Argument(0))
		k := key(call.Argument(1), "verify")
		sig := data(call.Argument(2), "verify: the signature")
		return e.r.ToValue(hmac.Equal(sig, mac(k, data(call.Argument(3), "verify: the data"))))
	}))
	_ = s.Set("timingSafeEqual", func(call goja.FunctionCall) goja.Value {
		a, b := data(call.Argument(0), "timingSafeEqual: a"), data(call.Argument(1), "timingSafeEqual: b")
		if len(a) != len(b) {
			panic(e.newError("TypeError", "timingSafeEqual: the inputs differ in length"))
		}
		return e.r.ToValue(subtle.ConstantTimeCompare(a, b) == 1)
	})
	return s
}
