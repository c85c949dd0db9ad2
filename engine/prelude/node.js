// The node: modules Workers offers under nodejs_compat that make sense in
// PiCloud: node:buffer's Buffer, node:crypto's hashing, HMAC and random
// values, node:util's format and inspect. Run once in an execution's
// runtime, the first time a script imports one of them; the function
// receives the native helpers and returns the modules by name.
(function (native) {
  'use strict'

  const kMaxLength = 64 * 1024 * 1024

  // A Buffer is a Uint8Array whose prototype is Buffer.prototype.
  function asBuffer(u8) {
    Object.setPrototypeOf(u8, Buffer.prototype)
    return u8
  }

  function normEncoding(enc) {
    if (enc === undefined || enc === null) return 'utf8'
    switch (String(enc).toLowerCase()) {
      case 'utf8': case 'utf-8': return 'utf8'
      case 'hex': return 'hex'
      case 'base64': return 'base64'
      case 'base64url': return 'base64url'
      case 'latin1': case 'binary': return 'latin1'
      case 'ascii': return 'ascii'
      case 'ucs2': case 'ucs-2': case 'utf16le': case 'utf-16le': return 'utf16le'
    }
    throw new TypeError('Unknown encoding: ' + enc)
  }

  function bytesOf(str, enc) {
    str = String(str)
    switch (normEncoding(enc)) {
      case 'utf8': return new TextEncoder().encode(str)
      case 'hex': {
        const n = str.length >>> 1
        const out = new Uint8Array(n)
        let i = 0
        for (; i < n; i++) {
          const b = parseInt(str.substr(2 * i, 2), 16)
          if (Number.isNaN(b) || !/^[0-9a-fA-F]{2}$/.test(str.substr(2 * i, 2))) break
          out[i] = b
        }
        return out.subarray(0, i)
      }
      case 'base64': case 'base64url': {
        // As Node.js: both alphabets, other characters and padding skipped.
        let s = str.replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, '')
        if (s.length % 4 === 1) s = s.slice(0, -1)
        const bin = atob(s)
        const out = new Uint8Array(bin.length)
        for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
        return out
      }
      case 'latin1': case 'ascii': {
        const out = new Uint8Array(str.length)
        for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i) & 0xff
        return out
      }
      case 'utf16le': {
        const out = new Uint8Array(str.length * 2)
        for (let i = 0; i < str.length; i++) {
          const c = str.charCodeAt(i)
          out[2 * i] = c & 0xff
          out[2 * i + 1] = c >>> 8
        }
        return out
      }
    }
  }

  function latin1(u8) {
    let s = ''
    for (let i = 0; i < u8.length; i += 8192) s += String.fromCharCode.apply(null, u8.subarray(i, i + 8192))
    return s
  }

  function stringOf(u8, enc) {
    switch (normEncoding(enc)) {
      case 'utf8': return new TextDecoder().decode(u8)
      case 'hex': {
        let s = ''
        for (let i = 0; i < u8.length; i++) s += (u8[i] < 16 ? '0' : '') + u8[i].toString(16)
        return s
      }
      case 'base64': return btoa(latin1(u8))
      case 'base64url': return btoa(latin1(u8)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
      case 'latin1': return latin1(u8)
      case 'ascii': {
        let s = ''
        for (let i = 0; i < u8.length; i++) s += String.fromCharCode(u8[i] & 0x7f)
        return s
      }
      case 'utf16le': {
        let s = ''
        for (let i = 0; i + 1 < u8.length; i += 2) s += String.fromCharCode(u8[i] | (u8[i + 1] << 8))
        return s
      }
    }
  }

  function checkSize(size) {
    if (typeof size !== 'number' || !(size >= 0) || size > kMaxLength) {
      throw new RangeError('The argument "size" is invalid: ' + size)
    }
  }

  // Buffer(arrayBuffer, byteOffset, length) is what typed array methods
  // (subarray) call to make a Buffer; from scripts, use Buffer.from.
  function Buffer(arg, encodingOrOffset, length) {
    if (arg instanceof ArrayBuffer) return asBuffer(new Uint8Array(arg, encodingOrOffset || 0, length === undefined ? arg.byteLength - (encodingOrOffset || 0) : length))
    if (typeof arg === 'number') return Buffer.alloc(arg)
    return Buffer.from(arg, encodingOrOffset, length)
  }
  Object.setPrototypeOf(Buffer.prototype, Uint8Array.prototype)
  Object.setPrototypeOf(Buffer, Uint8Array)
  Object.defineProperty(Buffer, Symbol.species, { get() { return Buffer }, configurable: true })

  Buffer.from = function from(value, encodingOrOffset, length) {
    if (typeof value === 'string') return asBuffer(new Uint8Array(bytesOf(value, encodingOrOffset)))
    if (value instanceof ArrayBuffer) {
      const off = encodingOrOffset === undefined ? 0 : Number(encodingOrOffset)
      return asBuffer(new Uint8Array(value, off, length === undefined ? value.byteLength - off : Number(length)))
    }
    if (ArrayBuffer.isView(value)) {
      if (value instanceof Uint8Array) return asBuffer(new Uint8Array(value))
      return asBuffer(new Uint8Array(Array.from(value, (x) => Number(x) & 0xff)))
    }
    if (value !== null && typeof value === 'object') {
      if (value.type === 'Buffer' && Array.isArray(value.data)) return asBuffer(new Uint8Array(value.data))
      if (typeof value.length === 'number' || Array.isArray(value)) return asBuffer(new Uint8Array(Array.from(value, (x) => Number(x) & 0xff)))
    }
    throw new TypeError('The first argument must be a string, a Buffer, an ArrayBuffer, an array or an array-like object')
  }
  Buffer.alloc = function alloc(size, fill, encoding) {
    checkSize(size)
    const b = asBuffer(new Uint8Array(size))
    if (fill !== undefined && fill !== 0) b.fill(fill, 0, size, encoding)
    return b
  }
  Buffer.allocUnsafe = function allocUnsafe(size) { checkSize(size); return asBuffer(new Uint8Array(size)) }
  Buffer.allocUnsafeSlow = Buffer.allocUnsafe
  Buffer.isBuffer = function isBuffer(b) { return b instanceof Buffer }
  Buffer.isEncoding = function isEncoding(enc) {
    try { normEncoding(enc); return typeof enc === 'string' } catch { return false }
  }
  Buffer.byteLength = function byteLength(value, enc) {
    if (typeof value === 'string') return bytesOf(value, enc).length
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength
    throw new TypeError('The "string" argument must be a string, a Buffer or an ArrayBuffer')
  }
  Buffer.concat = function concat(list, totalLength) {
    if (!Array.isArray(list)) throw new TypeError('The "list" argument must be an array')
    const total = totalLength === undefined ? list.reduce((n, b) => n + b.length, 0) : totalLength
    const out = Buffer.alloc(total)
    let at = 0
    for (const b of list) {
      if (!(b instanceof Uint8Array)) throw new TypeError('The "list" argument must hold Buffers or Uint8Arrays')
      const n = Math.min(b.length, total - at)
      out.set(n === b.length ? b : b.subarray(0, n), at)
      at += n
      if (at >= total) break
    }
    return out
  }
  Buffer.compare = function compare(a, b) {
    const n = Math.min(a.length, b.length)
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
  }
  Buffer.poolSize = 8192

  const methods = {
    toString(encoding, start, end) {
      const s = start === undefined ? 0 : Math.max(0, start | 0)
      const e = end === undefined ? this.length : Math.min(this.length, end | 0)
      return stringOf(e <= s ? new Uint8Array(0) : Uint8Array.prototype.subarray.call(this, s, e), encoding)
    },
    toJSON() { return { type: 'Buffer', data: Array.from(this) } },
    equals(other) {
      if (!(other instanceof Uint8Array)) throw new TypeError('The "otherBuffer" argument must be a Buffer or a Uint8Array')
      return Buffer.compare(this, other) === 0
    },
    compare(other) { return Buffer.compare(this, other) },
    slice(start, end) { return this.subarray(start, end) },
    write(string, offset, length, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; length = undefined }
      else if (typeof length === 'string') { encoding = length; length = undefined }
      offset = offset === undefined ? 0 : offset >>> 0
      const bytes = bytesOf(string, encoding)
      const n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length)
      this.set(bytes.subarray(0, n), offset)
      return n
    },
    fill(value, offset, end, encoding) {
      if (typeof offset === 'string') { encoding = offset; offset = 0; end = this.length }
      offset = offset === undefined ? 0 : offset
      end = end === undefined ? this.length : end
      if (typeof value === 'string') {
        const bytes = bytesOf(value, encoding)
        if (bytes.length === 0) return Uint8Array.prototype.fill.call(this, 0, offset, end)
        for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j]
        return this
      }
      return Uint8Array.prototype.fill.call(this, typeof value === 'number' ? value & 0xff : 0, offset, end)
    },
    includes(value, byteOffset, encoding) { return this.indexOf(value, byteOffset, encoding) !== -1 },
    indexOf(value, byteOffset, encoding) {
      if (typeof value === 'number') return Uint8Array.prototype.indexOf.call(this, value & 0xff, byteOffset)
      const needle = typeof value === 'string' ? bytesOf(value, encoding) : value
      const from = byteOffset === undefined ? 0 : byteOffset < 0 ? Math.max(0, this.length + byteOffset) : byteOffset
      outer: for (let i = from; i + needle.length <= this.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer
        return i
      }
      return -1
    },
    readUInt8(o = 0) { return this[o] },
    readUInt16LE(o = 0) { return this[o] | (this[o + 1] << 8) },
    readUInt16BE(o = 0) { return (this[o] << 8) | this[o + 1] },
    readUInt32LE(o = 0) { return new DataView(this.buffer, this.byteOffset).getUint32(o, true) },
    readUInt32BE(o = 0) { return new DataView(this.buffer, this.byteOffset).getUint32(o, false) },
    readInt32LE(o = 0) { return new DataView(this.buffer, this.byteOffset).getInt32(o, true) },
    readInt32BE(o = 0) { return new DataView(this.buffer, this.byteOffset).getInt32(o, false) },
    writeUInt8(v, o = 0) { this[o] = v; return o + 1 },
    writeUInt16LE(v, o = 0) { new DataView(this.buffer, this.byteOffset).setUint16(o, v, true); return o + 2 },
    writeUInt16BE(v, o = 0) { new DataView(this.buffer, this.byteOffset).setUint16(o, v, false); return o + 2 },
    writeUInt32LE(v, o = 0) { new DataView(this.buffer, this.byteOffset).setUint32(o, v, true); return o + 4 },
    writeUInt32BE(v, o = 0) { new DataView(this.buffer, this.byteOffset).setUint32(o, v, false); return o + 4 },
  }
  methods.readUint8 = methods.readUInt8
  methods.readUint16LE = methods.readUInt16LE
  methods.readUint16BE = methods.readUInt16BE
  methods.readUint32LE = methods.readUInt32LE
  methods.readUint32BE = methods.readUInt32BE
  methods.writeUint8 = methods.writeUInt8
  methods.writeUint32BE = methods.writeUInt32BE
  methods.writeUint32LE = methods.writeUInt32LE
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(Buffer.prototype, name, { value: fn, writable: true, configurable: true })
  }
  Object.defineProperty(Buffer.prototype, 'constructor', { value: Buffer, writable: true, configurable: true })

  const buffer = { Buffer, Blob, File, atob, btoa, kMaxLength, constants: { MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kMaxLength } }

  // node:crypto: createHash and createHmac over the native hashes, and
  // the random and comparison helpers.
  class Hash {
    constructor(algorithm, key) {
      this._h = native.hash(String(algorithm), key === undefined ? null : toBytes(key))
      this._done = false
    }
    update(data, encoding) {
      if (this._done) throw new Error('Digest already called')
      native.update(this._h, toBytes(data, encoding))
      return this
    }
    digest(encoding) {
      if (this._done) throw new Error('Digest already called')
      this._done = true
      const out = asBuffer(new Uint8Array(native.digest(this._h)))
      return encoding === undefined || encoding === 'buffer' ? out : out.toString(encoding)
    }
  }

  function toBytes(data, encoding) {
    if (typeof data === 'string') return bytesOf(data, encoding)
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    if (data instanceof ArrayBuffer) return new Uint8Array(data)
    throw new TypeError('The "data" argument must be a string, a Buffer, a TypedArray or a DataView')
  }

  const crypto = {
    createHash(algorithm) { return new Hash(algorithm) },
    createHmac(algorithm, key) { return new Hash(algorithm, key) },
    getHashes() { return ['md5', 'sha1', 'sha256', 'sha384', 'sha512'] },
    randomBytes(size) { checkSize(size); return asBuffer(globalThis.crypto.getRandomValues(new Uint8Array(size))) },
    randomUUID() { return globalThis.crypto.randomUUID() },
    getRandomValues(a) { return globalThis.crypto.getRandomValues(a) },
    timingSafeEqual(a, b) {
      if (a.byteLength !== b.byteLength) throw new RangeError('Input buffers must have the same byte length')
      return globalThis.crypto.subtle.timingSafeEqual(a, b)
    },
    webcrypto: globalThis.crypto,
    subtle: globalThis.crypto.subtle,
  }

  const util = {
    format: native.format,
    inspect: native.inspect,
    types: {
      isDate: (v) => v instanceof Date,
      isRegExp: (v) => v instanceof RegExp,
      isMap: (v) => v instanceof Map,
      isSet: (v) => v instanceof Set,
      isPromise: (v) => v instanceof Promise,
      isUint8Array: (v) => v instanceof Uint8Array,
      isArrayBuffer: (v) => v instanceof ArrayBuffer,
    },
    TextEncoder,
    TextDecoder,
  }

  return { buffer, crypto, util }
})
