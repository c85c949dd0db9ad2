// The kv part of the "picloud" SDK: it returns kvModule(tx), the kv module
// whose calls run in transaction tx (undefined: none).
(function (base) {
  'use strict'

  const { MAX_KEY, MAX_NAME, MAX_LIST, MAX_MANY, utf8, fromUTF8, fail, checkString, checkOptions, isBinary, send, toBase64, fromBase64 } = base

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
        return stored === 'bytes' ? fromUTF8(fromBase64(v)) : v
      case 'json':
        return JSON.parse(stored === 'bytes' ? fromUTF8(fromBase64(v)) : v)
      case 'arrayBuffer':
        if (stored === 'bytes') return fromBase64(v)
        return utf8(v).buffer
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

  function entryMeta(e) {
    return { metadata: e.metadata === undefined ? null : e.metadata, version: e.version, expiresAt: e.expiresAt === undefined ? null : e.expiresAt }
  }

  class KVCollection {
    // tx is the transaction the collection's calls run in, or undefined.
    constructor(name, tx) {
      this.name = checkString('a collection name', name, MAX_NAME)
      this.tx = tx
      Object.freeze(this)
    }

    async get(key, opts) {
      checkString('a key', key, MAX_KEY)
      const type = checkType(typeof opts === 'string' ? opts : checkOptions('get', opts).type)
      const e = await send('kv.get', this.name, { key }, this.tx)
      return e === null ? null : decode(e, type)
    }

    async getWithMetadata(key, opts) {
      checkString('a key', key, MAX_KEY)
      const type = checkType(typeof opts === 'string' ? opts : checkOptions('getWithMetadata', opts).type)
      const e = await send('kv.get', this.name, { key }, this.tx)
      if (e === null) return { value: null, metadata: null, version: null, expiresAt: null }
      return Object.assign({ value: decode(e, type) }, entryMeta(e))
    }

    async getMany(keys, opts) {
      if (!Array.isArray(keys)) fail('TypeError', 'getMany: keys must be an array of strings')
      if (keys.length > MAX_MANY) fail('RangeError', 'getMany: at most ' + MAX_MANY + ' keys at once, not ' + keys.length)
      keys.forEach(k => checkString('a key', k, MAX_KEY))
      const type = checkType(typeof opts === 'string' ? opts : checkOptions('getMany', opts).type)
      const found = await send('kv.getMany', this.name, { keys }, this.tx)
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
        if (utf8(m).length > MAX_KEY) fail('RangeError', 'put("' + key + '"): metadata is larger than ' + MAX_KEY + ' bytes of JSON')
        args.metadata = opts.metadata
      }
      ifVersion('put("' + key + '")', opts, args)
      return send('kv.put', this.name, args, this.tx)
    }

    async delete(key, opts) {
      checkString('a key', key, MAX_KEY)
      opts = checkOptions('delete', opts)
      const args = { key }
      ifVersion('delete("' + key + '")', opts, args)
      const r = await send('kv.delete', this.name, args, this.tx)
      return r.deleted
    }

    async incr(key, delta) {
      checkString('a key', key, MAX_KEY)
      if (delta === undefined) delta = 1
      if (typeof delta !== 'number' || !isFinite(delta)) fail('TypeError', 'incr("' + key + '"): delta must be a finite number')
      return send('kv.incr', this.name, { key, delta }, this.tx)
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
      const r = await send('kv.list', this.name, args, this.tx)
      const items = r.items.map(e => {
        const item = Object.assign({ key: e.key }, entryMeta(e))
        if (args.values) item.value = decode(e, type)
        return item
      })
      return { items, cursor: r.cursor === undefined ? null : r.cursor, complete: r.complete }
    }
  }

  // kvModule is the kv module whose calls run in transaction tx, or
  // outside any when tx is undefined.
  function kvModule(tx) {
    return Object.freeze({
      collection(name) { return new KVCollection(name, tx) },
    })
  }

  return kvModule
})
