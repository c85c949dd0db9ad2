package engine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/dop251/goja"
)

// The kv part of the "picloud" module is native: it is the SDK's busiest
// part, and built in JavaScript it cost every execution that touched it
// some forty functions made before the first call (about 40 µs here).
// Natively the module and each collection are dynamic objects, and a
// method is made once per execution, when it is first read. What a script
// sees is what the JavaScript part gave: async methods (bad arguments
// reject, with the same TypeErrors and RangeErrors and their codes),
// frozen objects, the same results.

// SDK limits checked before a call is sent; the data service checks them
// again, for it trusts nothing a worker sends.
const (
	sdkMaxKey  = 1024 // bytes of a key, and of metadata's JSON
	sdkMaxName = 256  // bytes of a collection name
	sdkMaxList = 1000 // keys of one list page
	sdkMaxMany = 100  // keys of one getMany
)

// kvModule is the kv module of an execution bound to a transaction (tx,
// undefined for none): its one export, collection(name).
type kvModule struct {
	e          *execution
	tx         goja.Value
	collection goja.Value // made when first read
}

// kvBinder returns kvModule's maker as the JavaScript parts see it:
// part("kv")(tx) is the module bound to tx.
func (e *execution) kvBinder() goja.Value {
	return e.r.ToValue(func(call goja.FunctionCall) goja.Value {
		return e.r.NewDynamicObject(&kvModule{e: e, tx: call.Argument(0)})
	})
}

func (m *kvModule) Get(key string) goja.Value {
	if key != "collection" {
		return nil
	}
	if m.collection == nil {
		m.collection = m.e.r.ToValue(func(call goja.FunctionCall) goja.Value {
			name, bad := m.e.sdkString("a collection name", call.Argument(0), sdkMaxName)
			if bad != nil {
				panic(bad)
			}
			return m.e.r.NewDynamicObject(&kvCollection{e: m.e, name: name, nameValue: call.Argument(0), tx: m.tx})
		})
	}
	return m.collection
}

func (m *kvModule) Set(string, goja.Value) bool { return false }
func (m *kvModule) Delete(string) bool          { return false }
func (m *kvModule) Has(key string) bool         { return key == "collection" }
func (m *kvModule) Keys() []string              { return []string{"collection"} }

// kvCollection is kv.collection(name): its own property is name; the
// methods are the execution's, shared by every collection, and find
// theirs in this.
type kvCollection struct {
	e         *execution
	name      string
	nameValue goja.Value
	tx        goja.Value
}

func (c *kvCollection) Get(key string) goja.Value {
	if key == "name" {
		return c.nameValue
	}
	return c.e.kvMethod(key)
}

func (c *kvCollection) Set(string, goja.Value) bool { return false }
func (c *kvCollection) Delete(string) bool          { return false }
func (c *kvCollection) Has(key string) bool         { return key == "name" || c.e.kvMethod(key) != nil }
func (c *kvCollection) Keys() []string              { return []string{"name"} }

// kvMethod returns the collection method called name, made on first use;
// nil if there is none.
func (e *execution) kvMethod(name string) goja.Value {
	if fn, ok := e.kvFuncs[name]; ok {
		return fn
	}
	var impl func(c *kvCollection, call goja.FunctionCall) goja.Value
	switch name {
	case "get":
		impl = (*kvCollection).get
	case "getWithMetadata":
		impl = (*kvCollection).getWithMetadata
	case "getMany":
		impl = (*kvCollection).getMany
	case "put":
		impl = (*kvCollection).put
	case "delete":
		impl = (*kvCollection).del
	case "incr":
		impl = (*kvCollection).incr
	case "list":
		impl = (*kvCollection).list
	default:
		return nil
	}
	fn := e.r.ToValue(func(call goja.FunctionCall) goja.Value {
		c, ok := collectionOf(call.This)
		if !ok {
			return e.rejected(e.newError("TypeError", "kv: "+name+" must be called on a collection, kv.collection(name)."+name+"(…)"))
		}
		return e.asyncNative(func() goja.Value { return impl(c, call) })
	})
	if e.kvFuncs == nil {
		e.kvFuncs = make(map[string]goja.Value, 2)
	}
	e.kvFuncs[name] = fn
	return fn
}

var kvCollectionType = reflect.TypeFor[*kvCollection]()

// collectionOf is the collection a method was called on; the type is
// checked first, for exporting another object would read all of it.
func collectionOf(this goja.Value) (*kvCollection, bool) {
	o, ok := this.(*goja.Object)
	if !ok || o.ExportType() != kvCollectionType {
		return nil, false
	}
	c, ok := o.Export().(*kvCollection)
	return c, ok
}

// asyncNative runs the body of an async native method: what it throws
// rejects the promise it returns, as an async function's would. An
// interrupt (a limit) keeps unwinding.
func (e *execution) asyncNative(body func() goja.Value) (v goja.Value) {
	defer func() {
		switch r := recover().(type) {
		case nil:
		case *goja.Exception:
			v = e.rejected(r.Value())
		case goja.Value:
			v = e.rejected(r)
		default:
			panic(r)
		}
	}()
	return body()
}

// sdkFail returns the error the SDK gives for bad arguments: a TypeError
// (data.invalid) or, for a size, a RangeError (data.too_large).
func (e *execution) sdkFail(tooLarge bool, msg string) goja.Value {
	code := CodeDataInvalid
	if tooLarge {
		code = CodeDataTooLarge
	}
	return e.dataErrorValue(&DataError{Code: code, Message: msg})
}

// sdkString checks a name or key: a non-empty string without NUL of at
// most max bytes of UTF-8.
func (e *execution) sdkString(what string, v goja.Value, max int) (string, goja.Value) {
	if !goja.IsString(v) {
		return "", e.sdkFail(false, what+" must be a string, not "+typeOfOrNull(v))
	}
	s := v.String()
	switch {
	case s == "":
		return "", e.sdkFail(false, what+" must not be empty")
	case strings.IndexByte(s, 0) >= 0:
		return "", e.sdkFail(false, what+" must not contain NUL characters")
	case len(s) > max:
		return "", e.sdkFail(true, what+" is longer than "+strconv.Itoa(max)+" bytes")
	}
	return s, nil
}

// typeOf is JavaScript's typeof.
func typeOf(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "object"
	case goja.IsString(v):
		return "string"
	case goja.IsNumber(v):
		return "number"
	case goja.IsBigInt(v):
		return "bigint"
	}
	switch o := v.(type) {
	case *goja.Symbol:
		return "symbol"
	case *goja.Object:
		if _, ok := goja.AssertFunction(o); ok {
			return "function"
		}
		return "object"
	}
	return "boolean"
}

// typeOfOrNull is typeof, but "null" for null, as the SDK's messages say.
func typeOfOrNull(v goja.Value) string {
	if v != nil && goja.IsNull(v) {
		return "null"
	}
	return typeOf(v)
}

// sdkOptions checks an options argument: undefined or null is none.
func (e *execution) sdkOptions(what string, v goja.Value) *goja.Object {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	o, ok := v.(*goja.Object)
	if !ok || typeOf(v) != "object" {
		panic(e.sdkFail(false, what+": the options must be an object"))
	}
	return o
}

// option reads a property of opts; undefined when opts is nil.
func option(opts *goja.Object, name string) goja.Value {
	if opts == nil {
		return goja.Undefined()
	}
	if v := opts.Get(name); v != nil {
		return v
	}
	return goja.Undefined()
}

// valueType reads get's type: a string argument, or the options' type.
func (e *execution) valueType(what string, arg goja.Value) string {
	var t goja.Value
	if goja.IsString(arg) {
		t = arg
	} else {
		t = option(e.sdkOptions(what, arg), "type")
	}
	return e.checkValueType(t)
}

func (e *execution) checkValueType(t goja.Value) string {
	if goja.IsUndefined(t) {
		return ""
	}
	if goja.IsString(t) {
		switch s := t.String(); s {
		case "text", "json", "arrayBuffer":
			return s
		}
	}
	panic(e.sdkFail(false, `type must be "text", "json" or "arrayBuffer", not `+jsonString(t.String())))
}

// jsonString is s as JSON.stringify writes a string.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// key checks a method's key argument.
func (c *kvCollection) key(v goja.Value) string {
	k, bad := c.e.sdkString("a key", v, sdkMaxKey)
	if bad != nil {
		panic(bad)
	}
	return k
}

// send makes the data call op with args (JSON-encoded here) and returns
// the promise of what done makes of the answer.
func (c *kvCollection) send(op string, args any, done func(raw []byte) (goja.Value, goja.Value)) goja.Value {
	b, err := json.Marshal(args)
	if err != nil {
		panic(c.e.newError("TypeError", op+": "+err.Error()))
	}
	return c.e.dataCall(DataCall{Op: op, Collection: c.name, Args: b}, c.tx, done)
}

// parsed is a done that gives the answer as parsed JSON.
func (c *kvCollection) parsed(raw []byte) (goja.Value, goja.Value) {
	return c.e.parseJSON(string(raw))
}

// KVEntry is a key as the data service answers the kv calls: the value is
// text for text and json values, base64 for bytes; ExpiresAt is in
// milliseconds since the epoch.
type KVEntry struct {
	Key       string          `json:"key,omitempty"`
	Type      string          `json:"type"`
	Value     *string         `json:"value,omitempty"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Version   int64           `json:"version"`
	ExpiresAt *int64          `json:"expiresAt,omitempty"`
}

// decode turns a stored value into what the type option asks for; no type
// gives it back as it was put.
func (e *execution) decodeEntry(en *KVEntry, typ string) (goja.Value, goja.Value) {
	if en.Value == nil {
		return goja.Undefined(), nil
	}
	v := *en.Value
	var raw []byte
	if en.Type == "bytes" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, e.newError("TypeError", "the data service sent a malformed binary value")
		}
		raw = b
	}
	switch typ {
	case "":
		switch en.Type {
		case "json":
			return e.parseJSON(v)
		case "bytes":
			return e.newArrayBuffer(raw), nil
		}
		return e.str(v), nil
	case "text":
		if raw != nil {
			return e.str(utf8Text(raw)), nil
		}
		return e.str(v), nil
	case "json":
		if raw != nil {
			return e.parseJSON(utf8Text(raw))
		}
		return e.parseJSON(v)
	}
	if raw != nil { // arrayBuffer
		return e.newArrayBuffer(raw), nil
	}
	return e.r.ToValue(e.r.NewArrayBuffer([]byte(v))), nil
}

// utf8Text decodes bytes as TextDecoder does by default: UTF-8, a leading
// byte order mark dropped, each bad sequence one U+FFFD.
func utf8Text(b []byte) string {
	return strings.TrimPrefix(decodeUTF8(b), "\uFEFF")
}

// setMeta sets what getWithMetadata and list give of an entry besides its
// value: metadata, version and expiresAt.
func (e *execution) setMeta(o *goja.Object, en *KVEntry) goja.Value {
	meta := goja.Null()
	if len(en.Metadata) > 0 && string(en.Metadata) != "null" {
		v, thrown := e.parseJSON(string(en.Metadata))
		if thrown != nil {
			return thrown
		}
		meta = v
	}
	_ = o.Set("metadata", meta)
	_ = o.Set("version", e.r.ToValue(en.Version))
	expires := goja.Null()
	if en.ExpiresAt != nil {
		expires = e.r.ToValue(*en.ExpiresAt)
	}
	_ = o.Set("expiresAt", expires)
	return nil
}

// entry decodes a get's answer: nil for a missing key.
func entry(raw []byte) (*KVEntry, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var en KVEntry
	if err := json.Unmarshal(raw, &en); err != nil {
		return nil, err
	}
	return &en, nil
}

func (e *execution) malformedAnswer(op string) goja.Value {
	return e.newError("TypeError", op+": the data service sent a malformed answer")
}

type kvKeyArgs struct {
	Key string `json:"key"`
}

func (c *kvCollection) get(call goja.FunctionCall) goja.Value {
	key := c.key(call.Argument(0))
	typ := c.e.valueType("get", call.Argument(1))
	return c.send("kv.get", kvKeyArgs{Key: key}, func(raw []byte) (goja.Value, goja.Value) {
		en, err := entry(raw)
		if err != nil {
			return nil, c.e.malformedAnswer("get")
		}
		if en == nil {
			return goja.Null(), nil
		}
		return c.e.decodeEntry(en, typ)
	})
}

func (c *kvCollection) getWithMetadata(call goja.FunctionCall) goja.Value {
	key := c.key(call.Argument(0))
	typ := c.e.valueType("getWithMetadata", call.Argument(1))
	return c.send("kv.get", kvKeyArgs{Key: key}, func(raw []byte) (goja.Value, goja.Value) {
		en, err := entry(raw)
		if err != nil {
			return nil, c.e.malformedAnswer("getWithMetadata")
		}
		o := c.e.r.NewObject()
		if en == nil {
			for _, k := range []string{"value", "metadata", "version", "expiresAt"} {
				_ = o.Set(k, goja.Null())
			}
			return o, nil
		}
		v, thrown := c.e.decodeEntry(en, typ)
		if thrown != nil {
			return nil, thrown
		}
		_ = o.Set("value", v)
		if thrown := c.e.setMeta(o, en); thrown != nil {
			return nil, thrown
		}
		return o, nil
	})
}

func (c *kvCollection) getMany(call goja.FunctionCall) goja.Value {
	e := c.e
	arr, ok := call.Argument(0).(*goja.Object)
	if !ok || arr.ClassName() != "Array" {
		panic(e.sdkFail(false, "getMany: keys must be an array of strings"))
	}
	n := arr.Get("length").ToInteger()
	if n > sdkMaxMany {
		panic(e.sdkFail(true, "getMany: at most "+strconv.Itoa(sdkMaxMany)+" keys at once, not "+strconv.FormatInt(n, 10)))
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = c.key(arr.Get(strconv.Itoa(i)))
	}
	typ := e.valueType("getMany", call.Argument(1))
	return c.send("kv.getMany", struct {
		Keys []string `json:"keys"`
	}{keys}, func(raw []byte) (goja.Value, goja.Value) {
		var found map[string]*KVEntry
		if err := json.Unmarshal(raw, &found); err != nil {
			return nil, e.malformedAnswer("getMany")
		}
		m, set := e.newMap()
		for _, k := range keys {
			v := goja.Null()
			if en := found[k]; en != nil {
				var thrown goja.Value
				if v, thrown = e.decodeEntry(en, typ); thrown != nil {
					return nil, thrown
				}
			}
			if _, err := set(m, e.str(k), v); err != nil {
				return nil, thrownValue(err)
			}
		}
		return m, nil
	})
}

// newMap makes a Map and returns its set method.
func (e *execution) newMap() (*goja.Object, goja.Callable) {
	ctor, _ := e.r.GlobalObject().Get("Map").(*goja.Object)
	m, err := e.r.New(ctor)
	if err != nil {
		panic(err)
	}
	set, _ := goja.AssertFunction(m.Get("set"))
	return m, set
}

// kvPutArgs are a put's arguments as the data service reads them.
type kvPutArgs struct {
	Key          string          `json:"key"`
	Type         string          `json:"type"`
	Value        string          `json:"value"`
	TTL          *float64        `json:"ttl,omitempty"`
	ExpiresAt    *float64        `json:"expiresAt,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	IfVersion    *int64          `json:"ifVersion,omitempty"`
	CheckVersion bool            `json:"checkVersion,omitempty"`
}

func (c *kvCollection) put(call goja.FunctionCall) goja.Value {
	e := c.e
	key := c.key(call.Argument(0))
	opts := e.sdkOptions("put", call.Argument(2))
	what := `put("` + key + `")`
	a := kvPutArgs{Key: key}
	a.Type, a.Value = e.encodeValue(what, call.Argument(1))
	e.expiry("put", opts, &a)
	if m := option(opts, "metadata"); !goja.IsUndefined(m) {
		text, ok := e.stringifyOrThrow(m)
		if !ok {
			panic(e.sdkFail(false, what+": metadata must be a JSON value"))
		}
		if len(text) > sdkMaxKey {
			panic(e.sdkFail(true, what+": metadata is larger than "+strconv.Itoa(sdkMaxKey)+" bytes of JSON"))
		}
		a.Metadata = json.RawMessage(text)
	}
	a.IfVersion, a.CheckVersion = e.ifVersion(what, opts)
	return c.send("kv.put", a, c.parsed)
}

// stringifyOrThrow is JSON.stringify(v): what it throws is thrown; ok is
// false when it gives undefined.
func (e *execution) stringifyOrThrow(v goja.Value) (string, bool) {
	s, err := e.toJSON(v)
	if err != nil {
		panic(thrownValue(err))
	}
	return s, s != ""
}

// encodeValue turns a value into its stored form: text, json or bytes.
func (e *execution) encodeValue(what string, v goja.Value) (typ, value string) {
	if goja.IsString(v) {
		return "text", v.String()
	}
	if b, ok := bufferBytes(e.r, v); ok {
		return "bytes", base64.StdEncoding.EncodeToString(b)
	}
	switch t := typeOf(v); t {
	case "undefined", "function", "symbol", "bigint":
		panic(e.sdkFail(false, what+": a value must be a string, an ArrayBuffer or a JSON value, not "+t))
	}
	text, ok := e.stringifyOrThrow(v)
	if !ok {
		panic(e.sdkFail(false, what+": the value cannot be stored as JSON"))
	}
	return "json", text
}

// expiry reads put's ttl or expiresAt.
func (e *execution) expiry(what string, opts *goja.Object, a *kvPutArgs) {
	ttl, at := option(opts, "ttl"), option(opts, "expiresAt")
	if !goja.IsUndefined(ttl) && !goja.IsUndefined(at) {
		panic(e.sdkFail(false, what+": give ttl or expiresAt, not both"))
	}
	if !goja.IsUndefined(ttl) {
		f := number(ttl)
		if !(f > 0) || math.IsInf(f, 0) {
			panic(e.sdkFail(false, what+": ttl must be a positive number of seconds"))
		}
		a.TTL = &f
	}
	if !goja.IsUndefined(at) {
		if o, ok := at.(*goja.Object); ok && o.ClassName() == "Date" {
			getTime, _ := goja.AssertFunction(o.Get("getTime"))
			if getTime != nil {
				t, err := getTime(o)
				if err != nil {
					panic(thrownValue(err))
				}
				at = t
			}
		}
		f := number(at)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			panic(e.sdkFail(false, what+": expiresAt must be a Date or milliseconds since the epoch"))
		}
		a.ExpiresAt = &f
	}
}

// number is v when it is a number, else NaN: the SDK checks typeof before
// anything else, so an object's valueOf is never called and a symbol never
// throws.
func number(v goja.Value) float64 {
	if !goja.IsNumber(v) {
		return math.NaN()
	}
	return v.ToFloat()
}

// ifVersion reads a write's ifVersion: a version number, or null for
// "only if absent"; check is false when none was given.
func (e *execution) ifVersion(what string, opts *goja.Object) (version *int64, check bool) {
	v := option(opts, "ifVersion")
	if goja.IsUndefined(v) {
		return nil, false
	}
	if goja.IsNull(v) {
		return nil, true
	}
	f := number(v)
	if f != math.Trunc(f) || math.Abs(f) > 1<<53-1 || f < 1 {
		panic(e.sdkFail(false, what+`: ifVersion must be a version number, or null for "only if absent"`))
	}
	n := int64(f)
	return &n, true
}

func (c *kvCollection) del(call goja.FunctionCall) goja.Value {
	e := c.e
	key := c.key(call.Argument(0))
	opts := e.sdkOptions("delete", call.Argument(1))
	a := kvPutArgs{Key: key}
	a.IfVersion, a.CheckVersion = e.ifVersion(`delete("`+key+`")`, opts)
	return c.send("kv.delete", struct {
		Key          string `json:"key"`
		IfVersion    *int64 `json:"ifVersion,omitempty"`
		CheckVersion bool   `json:"checkVersion,omitempty"`
	}{key, a.IfVersion, a.CheckVersion}, func(raw []byte) (goja.Value, goja.Value) {
		var r struct {
			Deleted bool `json:"deleted"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, e.malformedAnswer("delete")
		}
		return e.r.ToValue(r.Deleted), nil
	})
}

func (c *kvCollection) incr(call goja.FunctionCall) goja.Value {
	e := c.e
	key := c.key(call.Argument(0))
	delta := 1.0
	if d := call.Argument(1); !goja.IsUndefined(d) {
		delta = number(d)
		if math.IsNaN(delta) || math.IsInf(delta, 0) {
			panic(e.sdkFail(false, `incr("`+key+`"): delta must be a finite number`))
		}
	}
	return c.send("kv.incr", struct {
		Key   string  `json:"key"`
		Delta float64 `json:"delta"`
	}{key, delta}, c.parsed)
}

// kvListArgs are a list's arguments as the data service reads them.
type kvListArgs struct {
	Prefix  string `json:"prefix,omitempty"`
	Start   string `json:"start,omitempty"`
	End     string `json:"end,omitempty"`
	Cursor  string `json:"cursor,omitempty"`
	Limit   int    `json:"limit,omitempty"`
	Reverse bool   `json:"reverse,omitempty"`
	Values  bool   `json:"values,omitempty"`
}

func (c *kvCollection) list(call goja.FunctionCall) goja.Value {
	e := c.e
	opts := e.sdkOptions("list", call.Argument(0))
	var a kvListArgs
	given := map[string]bool{}
	for _, f := range []struct {
		name string
		to   *string
	}{{"prefix", &a.Prefix}, {"start", &a.Start}, {"end", &a.End}, {"cursor", &a.Cursor}} {
		v := option(opts, f.name)
		if goja.IsUndefined(v) {
			continue
		}
		if !goja.IsString(v) {
			panic(e.sdkFail(false, "list: "+f.name+" must be a string"))
		}
		*f.to = v.String()
		given[f.name] = true
	}
	if given["prefix"] && (given["start"] || given["end"]) {
		panic(e.sdkFail(false, "list: give prefix or start/end, not both"))
	}
	if l := option(opts, "limit"); !goja.IsUndefined(l) {
		f := number(l)
		if f != math.Trunc(f) || f < 1 || f > sdkMaxList {
			panic(e.sdkFail(false, "list: limit must be an integer from 1 to "+strconv.Itoa(sdkMaxList)))
		}
		a.Limit = int(f)
	}
	a.Reverse = option(opts, "reverse").ToBoolean()
	a.Values = option(opts, "values").ToBoolean()
	typ := e.checkValueType(option(opts, "type"))
	return c.send("kv.list", a, func(raw []byte) (goja.Value, goja.Value) {
		var r struct {
			Items    []KVEntry `json:"items"`
			Cursor   *string   `json:"cursor"`
			Complete bool      `json:"complete"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, e.malformedAnswer("list")
		}
		items := make([]any, len(r.Items))
		for i := range r.Items {
			en := &r.Items[i]
			o := e.r.NewObject()
			_ = o.Set("key", e.str(en.Key))
			if thrown := e.setMeta(o, en); thrown != nil {
				return nil, thrown
			}
			if a.Values {
				v, thrown := e.decodeEntry(en, typ)
				if thrown != nil {
					return nil, thrown
				}
				_ = o.Set("value", v)
			}
			items[i] = o
		}
		out := e.r.NewObject()
		_ = out.Set("items", e.r.NewArray(items...))
		cursor := goja.Null()
		if r.Cursor != nil {
			cursor = e.str(*r.Cursor)
		}
		_ = out.Set("cursor", cursor)
		_ = out.Set("complete", e.r.ToValue(r.Complete))
		return out, nil
	})
}
