// The base of the "picloud" SDK: the helpers every part uses. The engine
// runs it once in an execution's runtime, when the script first reads a
// part of the SDK, with its natives: call(op, collection, argsJSON, tx)
// returns a promise of the result (parsed from the service's JSON), run
// in transaction tx unless it is undefined; toBase64 and fromBase64 carry binary values;
// countSubrequest counts an invoke call against the subrequest limit it
// shares with fetch. Arguments are checked here for clear errors; the data
// service checks them again, for it trusts nothing a worker sends.
(function (call, toBase64, fromBase64, countSubrequest) {
  'use strict'

  const MAX_KEY = 1024
  const MAX_NAME = 256
  const MAX_LIST = 1000
  const MAX_MANY = 100

  // encoder and decoder are made on first use: most executions need neither.
  let encoder, decoder
  function utf8(s) {
    if (encoder === undefined) encoder = new TextEncoder()
    return encoder.encode(s)
  }
  function fromUTF8(bytes) {
    if (decoder === undefined) decoder = new TextDecoder()
    return decoder.decode(bytes)
  }

  function fail(kind, message) {
    const err = kind === 'RangeError' ? new RangeError(message) : new TypeError(message)
    err.code = kind === 'RangeError' ? 'data.too_large' : 'data.invalid'
    throw err
  }

  function checkString(what, v, max) {
    if (typeof v !== 'string') fail('TypeError', what + ' must be a string, not ' + (v === null ? 'null' : typeof v))
    if (v.length === 0) fail('TypeError', what + ' must not be empty')
    if (v.indexOf('\u0000') >= 0) fail('TypeError', what + ' must not contain NUL characters')
    // A UTF-16 code unit is at most 3 bytes of UTF-8: short strings fit
    // without being encoded.
    if (v.length * 3 > max && utf8(v).length > max) fail('RangeError', what + ' is longer than ' + max + ' bytes')
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

  // send makes a data call: a promise of its result.
  function send(op, collection, args, tx) {
    return call(op, collection, JSON.stringify(args), tx)
  }

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

  return {
    call, toBase64, fromBase64, countSubrequest,
    MAX_KEY, MAX_NAME, MAX_LIST, MAX_MANY,
    utf8, fromUTF8, fail, checkString, checkOptions, isBinary, send,
    isPlainObject, checkDoc, checkID,
  }
})
