// The "picloud" SDK module (kv, docs, db, users, queue, invoke and email), run once in an execution's runtime when a
// script imports it. The function receives the engine's natives: call(op,
// collection, argsJSON, tx) returns a promise of the result's JSON text,
// run in transaction tx unless it is undefined;
// toBase64 and fromBase64 carry binary values; countSubrequest counts an
// invoke call against the subrequest limit it shares with fetch. It returns the module's
// exports. Arguments are checked here for clear errors; the data service
// checks them again, for it trusts nothing a worker sends.
(function (call, toBase64, fromBase64, countSubrequest) {
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

  async function send(op, collection, args, tx) {
    return JSON.parse(await call(op, collection, JSON.stringify(args), tx))
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
        if (encoder.encode(m).length > MAX_KEY) fail('RangeError', 'put("' + key + '"): metadata is larger than ' + MAX_KEY + ' bytes of JSON')
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

  const MAX_FIND = 1000

  function isPlainObject(v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !isBinary(v)
  }

  function checkDoc(what, doc, noun) {
    if (!isPlainObject(doc)) fail('TypeError', what + ': ' + noun + ' must be an object, not ' + (doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc))
    return doc
  }

  function checkID(what, id) {
    if (typeof id !== 'string') fail('TypeError', what + ': an id must be a string, not ' + (id === null ? 'null' : typeof id))
    return id
  }

  function docIfVersion(what, opts, out) {
    opts = checkOptions(what, opts)
    if (opts.ifVersion === undefined) return out
    if (!Number.isSafeInteger(opts.ifVersion) || opts.ifVersion < 1) fail('TypeError', what + ': ifVersion must be a version number')
    out.ifVersion = opts.ifVersion
    out.checkVersion = true
    return out
  }

  // checkWhere refuses what JSON would silently drop: a condition whose
  // value is undefined would otherwise match every document.
  function checkWhere(what, where) {
    if (where === undefined || where === null) return undefined
    if (!isPlainObject(where)) fail('TypeError', what + ': where must be an object of paths and conditions')
    for (const path of Object.keys(where)) {
      const c = where[path]
      if (c === undefined || typeof c === 'function' || typeof c === 'symbol' || typeof c === 'bigint') fail('TypeError', what + ': the condition on "' + path + '" is ' + typeof c)
      if (isPlainObject(c)) {
        for (const op of Object.keys(c)) {
          if (c[op] === undefined) fail('TypeError', what + ': ' + op + ' of "' + path + '" is undefined')
        }
      }
    }
    return where
  }

  class DocsCollection {
    constructor(name, tx) {
      this.name = checkString('a collection name', name, MAX_NAME)
      this.tx = tx
      Object.freeze(this)
    }

    async insert(doc) {
      checkDoc('insert', doc, 'a document')
      return send('docs.insert', this.name, { doc }, this.tx)
    }

    async get(id) {
      checkID('get', id)
      return send('docs.get', this.name, { id }, this.tx)
    }

    async replace(id, doc, opts) {
      const what = 'replace(' + JSON.stringify(checkID('replace', id)) + ')'
      checkDoc(what, doc, 'a document')
      return send('docs.replace', this.name, docIfVersion(what, opts, { id, doc }), this.tx)
    }

    async update(id, patch, opts) {
      const what = 'update(' + JSON.stringify(checkID('update', id)) + ')'
      checkDoc(what, patch, 'a patch')
      return send('docs.update', this.name, docIfVersion(what, opts, { id, patch }), this.tx)
    }

    async delete(id, opts) {
      const what = 'delete(' + JSON.stringify(checkID('delete', id)) + ')'
      const r = await send('docs.delete', this.name, docIfVersion(what, opts, { id }), this.tx)
      return r.deleted
    }

    async find(opts) {
      opts = checkOptions('find', opts)
      const args = {}
      const where = checkWhere('find', opts.where)
      if (where !== undefined) args.where = where
      if (opts.orderBy !== undefined) {
        if (!Array.isArray(opts.orderBy)) fail('TypeError', 'find: orderBy must be a list of [path, "asc" | "desc"]')
        args.orderBy = opts.orderBy
      }
      if (opts.limit !== undefined) {
        if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_FIND) {
          fail('TypeError', 'find: limit must be an integer from 1 to ' + MAX_FIND)
        }
        args.limit = opts.limit
      }
      if (opts.cursor !== undefined && opts.cursor !== null) {
        if (typeof opts.cursor !== 'string') fail('TypeError', 'find: cursor must be a string')
        args.cursor = opts.cursor
      }
      const r = await send('docs.find', this.name, args, this.tx)
      return { items: r.items, cursor: r.cursor === undefined ? null : r.cursor, complete: r.complete }
    }

    async count(where) {
      const args = {}
      where = checkWhere('count', where)
      if (where !== undefined) args.where = where
      const r = await send('docs.count', this.name, args, this.tx)
      return r.count
    }

    async ensureIndex(paths, opts) {
      if (typeof paths === 'string') paths = [paths]
      if (!Array.isArray(paths) || paths.length === 0 || paths.some(p => typeof p !== 'string')) {
        fail('TypeError', 'ensureIndex: paths must be a path or a list of paths')
      }
      opts = checkOptions('ensureIndex', opts)
      const args = { paths }
      if (opts.unique !== undefined) {
        if (typeof opts.unique !== 'boolean') fail('TypeError', 'ensureIndex: unique must be true or false')
        args.unique = opts.unique
      }
      await send('docs.ensureIndex', this.name, args, this.tx)
    }
  }

  // docsModule is the docs module bound to a transaction (undefined:
  // none), so that a transaction can hand out its own.
  function docsModule(tx) {
    return Object.freeze({
      collection(name) { return new DocsCollection(name, tx) },
    })
  }

  const docs = docsModule(undefined)

  // Queues: a message body is any JSON value; the data service checks its
  // size against the daemon's limit.
  const MAX_BATCH = 100
  const MAX_DELAY = 43200
  const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/

  function queueMessage(what, m, batchOpts) {
    const opts = checkOptions(what, m)
    if (m === undefined || m === null) fail('TypeError', what + ': a message must be an object such as {body}')
    if (!('body' in opts) || opts.body === undefined || typeof opts.body === 'function' || typeof opts.body === 'symbol' || typeof opts.body === 'bigint') {
      fail('TypeError', what + ': a message body must be a JSON value')
    }
    const body = JSON.stringify(opts.body)
    if (body === undefined) fail('TypeError', what + ': the message body cannot be sent as JSON')
    const out = { body }
    const delay = opts.delaySeconds !== undefined ? opts.delaySeconds : batchOpts.delaySeconds
    if (delay !== undefined) {
      if (typeof delay !== 'number' || !(delay >= 0) || delay > MAX_DELAY) fail('TypeError', what + ': delaySeconds must be a number from 0 to ' + MAX_DELAY)
      out.delaySeconds = delay
    }
    if (opts.dedupeKey !== undefined) out.dedupeKey = checkString('a dedupeKey', opts.dedupeKey, MAX_KEY)
    return out
  }

  class Queue {
    constructor(name, tx) {
      if (typeof name !== 'string' || !QUEUE_NAME.test(name)) {
        fail('TypeError', 'queue(' + JSON.stringify(String(name)) + '): a queue name is 1 to 63 letters, digits, "-" or "_", starting with a letter or digit')
      }
      this.name = name
      this.tx = tx
      Object.freeze(this)
    }

    async send(body, opts) {
      const m = Object.assign({}, checkOptions('send', opts), { body })
      await send('queue.send', this.name, { messages: [queueMessage('send', m, {})] }, this.tx)
    }

    async sendBatch(messages, opts) {
      if (!Array.isArray(messages)) fail('TypeError', 'sendBatch: give an array of {body, delaySeconds, dedupeKey}')
      if (messages.length > MAX_BATCH) fail('RangeError', 'sendBatch: at most ' + MAX_BATCH + ' messages at once, not ' + messages.length)
      const batchOpts = checkOptions('sendBatch', opts)
      const out = messages.map(m => queueMessage('sendBatch', m, batchOpts))
      if (out.length > 0) await send('queue.send', this.name, { messages: out }, this.tx)
    }
  }

  // queueModule is queue(name) bound to a transaction (undefined: none).
  function queueModule(tx) {
    return name => new Queue(name, tx)
  }

  const queue = queueModule(undefined)

  const kv = kvModule(undefined)

  // Email: email.send({from, to, cc, bcc, replyTo, subject, text, html,
  // attachments})
  // stores the message for the daemon's mailer and resolves to
  // {messageId}; to, cc and bcc take an address or an array of them. The
  // data service parses the addresses and checks the sender and limits.
  const MAX_RECIPIENTS = 50
  const MAX_ATTACHMENTS = 10
  const EMAIL_FIELDS = ['from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'text', 'html', 'attachments']

  // attachmentList checks the files of a message; their content, text
  // (sent as UTF-8) or bytes, travels in base64.
  function attachmentList(v) {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) fail('TypeError', 'email.send: attachments must be an array of {filename, content, contentType}')
    if (v.length > MAX_ATTACHMENTS) fail('TypeError', 'email.send: ' + v.length + ' attachments: at most ' + MAX_ATTACHMENTS)
    return v.map((f, i) => {
      if (f === null || typeof f !== 'object') fail('TypeError', 'email.send: attachment ' + i + ' must be an object such as {filename, content}')
      if (typeof f.filename !== 'string' || f.filename.length === 0) fail('TypeError', 'email.send: attachment ' + i + ': filename must be a non-empty string')
      let bytes
      if (typeof f.content === 'string') bytes = encoder.encode(f.content)
      else if (isBinary(f.content)) bytes = f.content
      else fail('TypeError', 'email.send: attachment "' + f.filename + '": content must be a string, an ArrayBuffer or a typed array')
      const out = { filename: f.filename, content: toBase64(bytes) }
      if (f.contentType !== undefined) {
        if (typeof f.contentType !== 'string') fail('TypeError', 'email.send: attachment "' + f.filename + '": contentType must be a string')
        out.contentType = f.contentType
      }
      return out
    })
  }

  function addressList(what, v) {
    if (v === undefined || v === null) return []
    const list = Array.isArray(v) ? v : [v]
    for (const a of list) {
      if (typeof a !== 'string' || a.length === 0) fail('TypeError', 'email.send: ' + what + ' must be an address or an array of addresses')
    }
    return list
  }

  function optionalText(what, v) {
    if (v === undefined || v === null) return ''
    if (typeof v !== 'string') fail('TypeError', 'email.send: ' + what + ' must be a string, not ' + typeof v)
    return v
  }

  function emailIn(tx) {
    return Object.freeze({
      async send(message) {
        if (message === null || typeof message !== 'object' || Array.isArray(message)) {
          fail('TypeError', 'email.send: give a message such as {from, to, subject, text}')
        }
        for (const k of Object.keys(message)) {
          if (EMAIL_FIELDS.indexOf(k) < 0) fail('TypeError', 'email.send: unknown field "' + k + '" (known: ' + EMAIL_FIELDS.join(', ') + ')')
        }
        if (typeof message.from !== 'string' || message.from.length === 0) fail('TypeError', 'email.send: from must be an address')
        const args = {
          from: message.from,
          to: addressList('to', message.to),
          cc: addressList('cc', message.cc),
          bcc: addressList('bcc', message.bcc),
          replyTo: optionalText('replyTo', message.replyTo),
          subject: optionalText('subject', message.subject),
          text: optionalText('text', message.text),
          html: optionalText('html', message.html),
        }
        const files = attachmentList(message.attachments)
        if (files.length > 0) args.attachments = files
        const n = args.to.length + args.cc.length + args.bcc.length
        if (n === 0) fail('TypeError', 'email.send: give at least one recipient in to, cc or bcc')
        if (n > MAX_RECIPIENTS) fail('TypeError', 'email.send: ' + n + ' recipients: at most ' + MAX_RECIPIENTS + ' in to, cc and bcc together')
        if (args.text === '' && args.html === '') fail('TypeError', 'email.send: give a text or an html body')
        return send('email.send', '', args, tx)
      },
    })
  }

  const email = emailIn(undefined)

  // Transactions: a conflict (a serialization failure or a deadlock) makes
  // db.transaction run the callback again, up to MAX_ATTEMPTS times in
  // all, after a random pause that doubles each time.
  const MAX_ATTEMPTS = 5
  const BACKOFF_MS = 10
  const pause = typeof setTimeout === 'function' ? setTimeout : null
  const random = Math.random
  let openTx = 0 // transactions of this execution open now

  function codeError(code, message) {
    const err = new Error(message)
    err.code = code
    return err
  }

  function isConflict(err) {
    return err !== null && typeof err === 'object' && err.code === 'data.conflict'
  }

  function backoff(attempt) {
    const ms = random() * BACKOFF_MS * Math.pow(2, attempt)
    return new Promise(resolve => (pause ? pause(resolve, ms) : resolve()))
  }

  // txModules are the modules bound to transaction tx that the callback
  // receives.
  function txModules(tx) {
    return Object.freeze({ kv: kvModule(tx), docs: docsModule(tx), queue: queueModule(tx), invoke: Object.freeze({ later: laterIn(tx) }), email: emailIn(tx) })
  }

  // attempt runs fn once in a new transaction: it commits when fn's promise
  // resolves and rolls back when it rejects, rethrowing its error.
  async function attempt(fn) {
    const { tx } = await send('tx.begin', '', {}, undefined)
    let value
    try {
      value = await fn(txModules(tx))
    } catch (err) {
      try {
        await send('tx.rollback', '', {}, tx)
      } catch (_) {
        // The daemon rolls back what a failed rollback leaves.
      }
      throw err
    }
    await send('tx.commit', '', {}, tx)
    return value
  }

  async function transaction(fn) {
    if (typeof fn !== 'function') fail('TypeError', 'db.transaction: give it a function, async (tx) => { … }')
    if (openTx > 0) {
      throw codeError('data.nested_transaction',
        'db.transaction: a transaction of this execution is already open; transactions do not nest (use the tx you have)')
    }
    openTx++
    try {
      for (let n = 1; ; n++) {
        try {
          return await attempt(fn)
        } catch (err) {
          if (!isConflict(err)) throw err
          if (n >= MAX_ATTEMPTS) {
            throw codeError('data.conflict', 'db.transaction: concurrent transactions conflicted with this one ' +
              MAX_ATTEMPTS + ' times; it was rolled back each time and nothing of it was written')
          }
          await backoff(n)
        }
      }
    } finally {
      openTx--
    }
  }

  const db = Object.freeze({ transaction })

  // The users module: the app's own users. Passwords go to the board and
  // never come back; tokens are opaque strings the board keeps hashed.
  function checkEmail(what, email) {
    if (typeof email !== 'string' || email.length === 0) fail('TypeError', what + ': an email must be a non-empty string')
    return email
  }

  function checkPassword(what, password) {
    if (typeof password !== 'string') fail('TypeError', what + ': a password must be a string')
    return password
  }

  function checkUserData(what, data) {
    if (data === undefined) return undefined
    if (!isPlainObject(data)) fail('TypeError', what + ': data must be an object')
    return data
  }

  function ttlOf(what, opts) {
    opts = checkOptions(what, opts)
    if (opts.ttl === undefined) return {}
    if (typeof opts.ttl !== 'number' || !(opts.ttl >= 1) || !isFinite(opts.ttl)) fail('TypeError', what + ': ttl must be a number of seconds, at least 1')
    return { ttl: opts.ttl }
  }

  // sessionOf is the arguments of users.issueSession: ttl, and sliding
  // and maxTtl for a session renewed when used (the daemon checks that
  // they agree).
  function sessionOf(id, opts) {
    const what = 'users.issueSession'
    const args = Object.assign({ id: checkID(what, id) }, ttlOf(what, opts))
    opts = checkOptions(what, opts)
    if (opts.sliding !== undefined) {
      if (typeof opts.sliding !== 'boolean') fail('TypeError', what + ': sliding must be true or false')
      args.sliding = opts.sliding
    }
    if (opts.maxTtl !== undefined) {
      if (typeof opts.maxTtl !== 'number' || !(opts.maxTtl >= 1) || !isFinite(opts.maxTtl)) fail('TypeError', what + ': maxTtl must be a number of seconds, at least 1')
      args.maxTtl = opts.maxTtl
    }
    return args
  }

  // singleUseTtlOf is the ttl of a verification or reset token, which
  // never slides.
  function singleUseTtlOf(what, opts) {
    const o = checkOptions(what, opts)
    if (o.sliding !== undefined || o.maxTtl !== undefined) fail('TypeError', what + ': only sessions slide: sliding and maxTtl are options of users.issueSession')
    return ttlOf(what, o)
  }

  function userSend(op, args) {
    return send('users.' + op, '', args, undefined)
  }

  // cookieValue is the value of cookie name in a Cookie header, or null.
  function cookieValue(header, name) {
    if (!header) return null
    for (const part of header.split(';')) {
      const i = part.indexOf('=')
      if (i < 0) continue
      if (part.slice(0, i).trim() === name) {
        let v = part.slice(i + 1).trim()
        if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') v = v.slice(1, -1)
        return v
      }
    }
    return null
  }

  // tokenOf is the session token a request carries: a Bearer token, else
  // the cookie named opts.cookie.
  function tokenOf(request, opts) {
    if (request === null || typeof request !== 'object' || !request.headers || typeof request.headers.get !== 'function') {
      fail('TypeError', 'users.fromRequest: give it the request')
    }
    opts = checkOptions('users.fromRequest', opts)
    const auth = request.headers.get('authorization')
    if (auth) {
      const m = /^Bearer[ ]+(\S+)\s*$/i.exec(auth)
      if (m) return m[1]
    }
    if (opts.cookie !== undefined) {
      if (typeof opts.cookie !== 'string' || opts.cookie === '') fail('TypeError', 'users.fromRequest: cookie must be a cookie name')
      return cookieValue(request.headers.get('cookie'), opts.cookie)
    }
    return null
  }

  const users = Object.freeze({
    async create(fields) {
      fields = checkDoc('users.create', fields, 'the user')
      const args = { email: checkEmail('users.create', fields.email) }
      if (fields.password !== undefined) args.password = checkPassword('users.create', fields.password)
      const data = checkUserData('users.create', fields.data)
      if (data !== undefined) args.data = data
      return userSend('create', args)
    },
    async get(id) { return userSend('get', { id: checkID('users.get', id) }) },
    async findByEmail(email) { return userSend('findByEmail', { email: checkEmail('users.findByEmail', email) }) },
    async update(id, fields) {
      checkID('users.update', id)
      fields = checkDoc('users.update', fields, 'the change')
      const args = { id }
      if (fields.email !== undefined) args.email = checkEmail('users.update', fields.email)
      const data = checkUserData('users.update', fields.data)
      if (data !== undefined) args.data = data
      return userSend('update', args)
    },
    async delete(id) { return (await userSend('delete', { id: checkID('users.delete', id) })).deleted },
    async setPassword(id, password) {
      const r = await userSend('setPassword', { id: checkID('users.setPassword', id), password: checkPassword('users.setPassword', password) })
      return r.updated
    },
    async verify(email, password) {
      return userSend('verify', { email: checkEmail('users.verify', email), password: checkPassword('users.verify', password) })
    },
    async issueSession(id, opts) {
      return userSend('issueSession', sessionOf(id, opts))
    },
    async fromToken(token) {
      if (typeof token !== 'string') return null
      return userSend('fromToken', { token })
    },
    async fromRequest(request, opts) {
      const token = tokenOf(request, opts)
      return token === null ? null : userSend('fromToken', { token })
    },
    tokenFromRequest(request, opts) { return tokenOf(request, opts) },
    async revokeSession(token) {
      if (typeof token !== 'string') return false
      return (await userSend('revokeSession', { token })).revoked
    },
    async revokeSessions(id) { return (await userSend('revokeSessions', { id: checkID('users.revokeSessions', id) })).revoked },
    async issueVerificationToken(id, opts) {
      return userSend('issueToken', Object.assign({ id: checkID('users.issueVerificationToken', id), purpose: 'verify' }, singleUseTtlOf('users.issueVerificationToken', opts)))
    },
    async confirmEmail(token) {
      if (typeof token !== 'string') return null
      return userSend('confirmEmail', { token })
    },
    async issueResetToken(id, opts) {
      return userSend('issueToken', Object.assign({ id: checkID('users.issueResetToken', id), purpose: 'reset' }, singleUseTtlOf('users.issueResetToken', opts)))
    },
    async resetPassword(token, password) {
      checkPassword('users.resetPassword', password)
      if (typeof token !== 'string') return null
      return userSend('resetPassword', { token, password })
    },
  })

  // invoke runs another script of the same app by name with a request
  // (a Request, or what new Request(input, init) takes) and resolves to
  // its Response. The daemon runs it within the caller's deadline and
  // refuses cycles and chains deeper than 8.
  async function invoke(script, input, init) {
    if (typeof script !== 'string' || script.length === 0 || script.length > MAX_NAME) {
      fail('TypeError', 'invoke: the script name must be a non-empty string of at most ' + MAX_NAME + ' characters')
    }
    countSubrequest()
    const req = new Request(input === undefined ? 'http://invoke.local/' : input, init)
    const header = {}
    for (const [k, v] of req.headers) header[k] = [v]
    const body = req.body === null ? '' : toBase64(await req.arrayBuffer())
    const r = await send('invoke', script, { request: { method: req.method, url: req.url, header, body } })
    const headers = []
    for (const k of Object.keys(r.header || {})) for (const v of r.header[k]) headers.push([k, v])
    const nullBody = r.status === 204 || r.status === 205 || r.status === 304 || !r.body
    return new Response(nullBody ? null : fromBase64(r.body), { status: r.status, headers })
  }

  // invoke.later plans a run of another script of the app: after
  // delaySeconds (0 to 7 days), its fetch handler gets a POST of the body
  // as JSON; a throw or a 5xx answer is retried. It resolves to {id}.
  // Bound to a transaction (tx.invoke.later), the plan commits or rolls
  // back with it.
  const MAX_LATER_DELAY = 7 * 24 * 3600

  function laterIn(tx) {
    return async function later(script, body, opts) {
      if (typeof script !== 'string' || script.length === 0 || script.length > MAX_NAME) {
        fail('TypeError', 'invoke.later: the script name must be a non-empty string of at most ' + MAX_NAME + ' characters')
      }
      if (body === undefined) body = null
      if (typeof body === 'function' || typeof body === 'symbol' || typeof body === 'bigint') {
        fail('TypeError', 'invoke.later: the body must be a JSON value, not ' + typeof body)
      }
      const text = JSON.stringify(body)
      if (text === undefined) fail('TypeError', 'invoke.later: the body cannot be sent as JSON')
      opts = checkOptions('invoke.later', opts)
      const args = { body: text }
      if (opts.delaySeconds !== undefined) {
        const d = opts.delaySeconds
        if (typeof d !== 'number' || !(d >= 0) || d > MAX_LATER_DELAY) {
          fail('TypeError', 'invoke.later: delaySeconds must be a number from 0 to ' + MAX_LATER_DELAY + ' (7 days)')
        }
        args.delaySeconds = d
      }
      return send('invoke.later', script, args, tx)
    }
  }

  invoke.later = laterIn(undefined)
  Object.freeze(invoke)

  return Object.freeze({ kv, docs, db, users, queue, invoke, email })
})
