// The "picloud" SDK module, run once in an execution's runtime when a
// script imports it. The function receives the engine's natives: call(op,
// collection, argsJSON) returns a promise of the result's JSON text;
// toBase64 and fromBase64 carry binary values. It returns the module's
// exports. Arguments are checked here for clear errors; the data service
// checks them again, for it trusts nothing a worker sends.
(function (call, toBase64, fromBase64) {
  'use strict'

  const MAX_KEY = 1024
  const MAX_NAME = 256
  const MAX_LIST = 1000
  const MAX_MANY = 100
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()

  function fail(kind, message) {
    const err = kind === 'RangeError' ? new RangeError(message) : new TypeError(message)
    err.code = kind === 'RangeError' ? 'data.too_large' : 'data.invalid'
    throw err
  }

  function checkString(what, v, max) {
    if (typeof v !== 'string') fail('TypeError', what + ' must be a string, not ' + (v === null ? 'null' : typeof v))
    if (v.length === 0) fail('TypeError', what + ' must not be empty')
    if (v.indexOf('\u0000') >= 0) fail('TypeError', what + ' must not contain NUL characters')
    if (encoder.encode(v).length > max) fail('RangeError', what + ' is longer than ' + max + ' bytes')
    return v
  }

  function checkOptions(what, opts) {
    if (opts === undefined || opts === null) return {}
    if (typeof opts !== 'object') fail('TypeError', what + ': the options must be an object')
    return opts
  }

  function isBinary(v) {
    return v instanceof ArrayBuffer || ArrayBuffer.isView(v)
  }

  // encode turns a value into its stored form: text, json or bytes.
  function encode(key, value) {
    if (typeof value === 'string') return { type: 'text', value }
    if (isBinary(value)) return { type: 'bytes', value: toBase64(value) }
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
      fail('TypeError', 'put("' + key + '"): a value must be a string, an ArrayBuffer or a JSON value, not ' + typeof value)
    }
    const text = JSON.stringify(value)
    if (text === undefined) fail('TypeError', 'put("' + key + '"): the value cannot be stored as JSON')
    return { type: 'json', value: text }
  }

  // decode turns a stored value into what get's type option asks for; no
  // type gives it back as it was put.
  function decode(entry, type) {
    const stored = entry.type
    const v = entry.value
    switch (type) {
      case undefined:
        if (stored === 'json') return JSON.parse(v)
        if (stored === 'bytes') return fromBase64(v)
        return v
      case 'text':
        return stored === 'bytes' ? decoder.decode(fromBase64(v)) : v
      case 'json':
        return JSON.parse(stored === 'bytes' ? decoder.decode(fromBase64(v)) : v)
      case 'arrayBuffer':
        if (stored === 'bytes') return fromBase64(v)
        return encoder.encode(v).buffer
    }
    fail('TypeError', 'type must be "text", "json" or "arrayBuffer", not ' + JSON.stringify(String(type)))
  }

  function checkType(type) {
    if (type !== undefined && type !== 'text' && type !== 'json' && type !== 'arrayBuffer') {
      fail('TypeError', 'type must be "text", "json" or "arrayBuffer", not ' + JSON.stringify(String(type)))
    }
    return type
  }

  function expiry(what, opts) {
    const out = {}
    if (opts.ttl !== undefined && opts.expiresAt !== undefined) fail('TypeError', what + ': give ttl or expiresAt, not both')
    if (opts.ttl !== undefined) {
      if (typeof opts.ttl !== 'number' || !(opts.ttl > 0) || !isFinite(opts.ttl)) fail('TypeError', what + ': ttl must be a positive number of seconds')
      out.ttl = opts.ttl
    }
    if (opts.expiresAt !== undefined) {
      const at = opts.expiresAt instanceof Date ? opts.expiresAt.getTime() : opts.expiresAt
      if (typeof at !== 'number' || !isFinite(at)) fail('TypeError', what + ': expiresAt must be a Date or milliseconds since the epoch')
      out.expiresAt = at
    }
    return out
  }

  function ifVersion(what, opts, out) {
    if (!('ifVersion' in opts) || opts.ifVersion === undefined) return
    const v = opts.ifVersion
    if (v !== null && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)) {
      fail('TypeError', what + ': ifVersion must be a version number, or null for "only if absent"')
    }
    out.ifVersion = v
    out.checkVersion = true
  }

  async function send(op, collection, args) {
    return JSON.parse(await call(op, collection, JSON.stringify(args)))
  }

  function entryMeta(e) {
    return { metadata: e.metadata === undefined ? null : e.metadata, version: e.version, expiresAt: e.expiresAt === undefined ? null : e.expiresAt }
  }

  class KVCollection {
    constructor(name) {
      this.name = checkString('a collection name', name, MAX_NAME)
      Object.freeze(this)
    }

    async get(key, opts) {
      checkString('a key', key, MAX_KEY)
      const type = checkType(typeof opts === 'string' ? opts : checkOptions('get', opts).type)
      const e = await send('kv.get', this.name, { key })
      return e === null ? null : decode(e, type)
    }

    async getWithMetadata(key, opts) {
      checkString('a key', key, MAX_KEY)
      const type = checkType(typeof opts === 'string' ? opts : checkOptions('getWithMetadata', opts).type)
      const e = await send('kv.get', this.name, { key })
      if (e === null) return { value: null, metadata: null, version: null, expiresAt: null }
      return Object.assign({ value: decode(e, type) }, entryMeta(e))
    }

    async getMany(keys, opts) {
      if (!Array.isArray(keys)) fail('TypeError', 'getMany: keys must be an array of strings')
      if (keys.length > MAX_MANY) fail('RangeError', 'getMany: at most ' + MAX_MANY + ' keys at once, not ' + keys.length)
      keys.forEach(k => checkString('a key', k, MAX_KEY))
      const type = checkType(typeof opts === 'string' ? opts : checkOptions('getMany', opts).type)
      const found = await send('kv.getMany', this.name, { keys })
      const out = new Map()
      for (const k of keys) {
        const e = found[k]
        out.set(k, e === undefined || e === null ? null : decode(e, type))
      }
      return out
    }

    async put(key, value, opts) {
      checkString('a key', key, MAX_KEY)
      opts = checkOptions('put', opts)
      const args = Object.assign({ key }, encode(key, value), expiry('put', opts))
      if (opts.metadata !== undefined) {
        const m = JSON.stringify(opts.metadata)
        if (m === undefined) fail('TypeError', 'put("' + key + '"): metadata must be a JSON value')
        if (encoder.encode(m).length > MAX_KEY) fail('RangeError', 'put("' + key + '"): metadata is larger than ' + MAX_KEY + ' bytes of JSON')
        args.metadata = opts.metadata
      }
      ifVersion('put("' + key + '")', opts, args)
      return send('kv.put', this.name, args)
    }

    async delete(key, opts) {
      checkString('a key', key, MAX_KEY)
      opts = checkOptions('delete', opts)
      const args = { key }
      ifVersion('delete("' + key + '")', opts, args)
      const r = await send('kv.delete', this.name, args)
      return r.deleted
    }

    async incr(key, delta) {
      checkString('a key', key, MAX_KEY)
      if (delta === undefined) delta = 1
      if (typeof delta !== 'number' || !isFinite(delta)) fail('TypeError', 'incr("' + key + '"): delta must be a finite number')
      return send('kv.incr', this.name, { key, delta })
    }

    async list(opts) {
      opts = checkOptions('list', opts)
      const args = {}
      for (const f of ['prefix', 'start', 'end', 'cursor']) {
        if (opts[f] === undefined) continue
        if (typeof opts[f] !== 'string') fail('TypeError', 'list: ' + f + ' must be a string')
        args[f] = opts[f]
      }
      if (opts.prefix !== undefined && (opts.start !== undefined || opts.end !== undefined)) {
        fail('TypeError', 'list: give prefix or start/end, not both')
      }
      if (opts.limit !== undefined) {
        if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_LIST) {
          fail('TypeError', 'list: limit must be an integer from 1 to ' + MAX_LIST)
        }
        args.limit = opts.limit
      }
      if (opts.reverse) args.reverse = true
      if (opts.values) args.values = true
      const type = checkType(opts.type)
      const r = await send('kv.list', this.name, args)
      const items = r.items.map(e => {
        const item = Object.assign({ key: e.key }, entryMeta(e))
        if (args.values) item.value = decode(e, type)
        return item
      })
      return { items, cursor: r.cursor === undefined ? null : r.cursor, complete: r.complete }
    }
  }

  const kv = Object.freeze({
    collection(name) { return new KVCollection(name) },
  })

  return Object.freeze({ kv })
})
