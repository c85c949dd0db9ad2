// Web APIs that are plain JavaScript: run once in an execution's runtime,
// the first time a script names one of them. The function receives the
// execution's setTimeout and returns the globals it defines.
(function (setTimeout, detach) {
  'use strict'

  // The legacy codes of DOMException names (WebIDL, "DOMException names").
  const domCodes = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InUseAttributeError: 10,
    InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
    InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20,
    URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  }

  class DOMException extends Error {
    constructor(message, name) {
      super(message === undefined ? '' : String(message))
      Object.defineProperty(this, 'name', { value: name === undefined ? 'Error' : String(name), writable: true, configurable: true })
    }
    get code() { return domCodes[this.name] || 0 }
  }
  for (const [name, code] of Object.entries(domCodes)) {
    const constant = name.replace(/^URL/, 'URL_').replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() + '_ERR'
    Object.defineProperty(DOMException, constant, { value: code, enumerable: true })
  }

  // Event and EventTarget follow DOM's "dispatch" for a target that has no
  // parent: the event is at its target (eventPhase 2) while dispatched.
  const dispatching = Symbol('dispatching')
  const stopImmediate = Symbol('stopImmediate')
  let nextTrusted = false

  class Event {
    constructor(type, init) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required")
      this.type = String(type)
      this.bubbles = !!(init && init.bubbles)
      this.cancelable = !!(init && init.cancelable)
      this.composed = !!(init && init.composed)
      this.defaultPrevented = false
      this.target = null
      this.currentTarget = null
      this.eventPhase = 0
      this.timeStamp = Date.now()
      Object.defineProperty(this, 'isTrusted', { value: nextTrusted, enumerable: true })
      nextTrusted = false
    }
    preventDefault() { if (this.cancelable) this.defaultPrevented = true }
    stopImmediatePropagation() { this[stopImmediate] = true }
    stopPropagation() {}
    composedPath() { return this[dispatching] ? [this.currentTarget] : [] }
  }
  for (const [name, value] of [['NONE', 0], ['CAPTURING_PHASE', 1], ['AT_TARGET', 2], ['BUBBLING_PHASE', 3]]) {
    Object.defineProperty(Event, name, { value, enumerable: true })
    Object.defineProperty(Event.prototype, name, { value, enumerable: true })
  }

  class CustomEvent extends Event {
    constructor(type, init) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'CustomEvent': 1 argument required")
      super(type, init)
      this.detail = init && init.detail !== undefined ? init.detail : null
    }
  }

  // trustedEvent is an event the platform fires (isTrusted is true).
  function trustedEvent(type) {
    nextTrusted = true
    return new Event(type)
  }

  const listeners = new WeakMap()

  function flatten(options) {
    return typeof options === 'object' && options !== null ? !!options.capture : !!options
  }

  class EventTarget {
    addEventListener(type, fn, options) {
      if (fn === null || fn === undefined) return
      if (typeof fn !== 'function' && (typeof fn !== 'object' || typeof fn.handleEvent !== 'function')) {
        throw new TypeError('The listener must be a function or have a handleEvent method')
      }
      const capture = flatten(options)
      const once = typeof options === 'object' && options !== null && !!options.once
      const signal = typeof options === 'object' && options !== null ? options.signal : undefined
      if (signal && signal.aborted) return
      let byType = listeners.get(this)
      if (!byType) listeners.set(this, byType = new Map())
      let list = byType.get(String(type))
      if (!list) byType.set(String(type), list = [])
      if (list.some(l => l.fn === fn && l.capture === capture)) return
      list.push({ fn, capture, once, removed: false })
      if (signal) signal.addEventListener('abort', () => this.removeEventListener(type, fn, { capture }), { once: true })
    }
    removeEventListener(type, fn, options) {
      const byType = listeners.get(this)
      const list = byType && byType.get(String(type))
      if (!list) return
      const capture = flatten(options)
      const i = list.findIndex(l => l.fn === fn && l.capture === capture)
      if (i >= 0) {
        list[i].removed = true
        list.splice(i, 1)
      }
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError('dispatchEvent: the argument is not an Event')
      if (event[dispatching]) throw new DOMException('The event is already being dispatched', 'InvalidStateError')
      event[dispatching] = true
      event[stopImmediate] = false
      event.target = event.currentTarget = this
      event.eventPhase = 2
      try {
        const handler = this['on' + event.type]
        if (typeof handler === 'function') handler.call(this, event)
        const byType = listeners.get(this)
        const list = byType && byType.get(event.type)
        if (list) {
          for (const l of list.slice()) {
            if (event[stopImmediate]) break
            if (l.removed) continue
            if (l.once) this.removeEventListener(event.type, l.fn, { capture: l.capture })
            if (typeof l.fn === 'function') l.fn.call(this, event)
            else l.fn.handleEvent(event)
          }
        }
      } finally {
        event[dispatching] = false
        event.currentTarget = null
        event.eventPhase = 0
      }
      return !event.defaultPrevented
    }
  }

  const token = Symbol('AbortSignal')
  const signals = new WeakMap()

  // abortSignal is DOM's "signal abort": the signal and the signals that
  // depend on it (AbortSignal.any) are all aborted before any abort event
  // fires.
  function abortSignal(signal, reason) {
    const st = signals.get(signal)
    if (st.aborted) return
    st.aborted = true
    st.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason
    const fire = []
    for (const d of st.dependents) {
      const ds = signals.get(d)
      if (!ds.aborted) {
        ds.aborted = true
        ds.reason = st.reason
        fire.push(d)
      }
    }
    signal.dispatchEvent(trustedEvent('abort'))
    for (const d of fire) d.dispatchEvent(trustedEvent('abort'))
  }

  function newSignal() { return new AbortSignal(token) }

  class AbortSignal extends EventTarget {
    constructor(key) {
      if (key !== token) throw new TypeError('Illegal constructor')
      super()
      signals.set(this, { aborted: false, reason: undefined, dependents: [], sources: null })
      this.onabort = null
    }
    get aborted() { return signals.get(this).aborted }
    get reason() { return signals.get(this).reason }
    throwIfAborted() { if (this.aborted) throw this.reason }
    static abort(reason) { const s = newSignal(); abortSignal(s, reason); return s }
    static timeout(ms) {
      const s = newSignal()
      setTimeout(() => abortSignal(s, new DOMException('The operation timed out.', 'TimeoutError')), ms)
      return s
    }
    static any(list) {
      const all = [...list]
      for (const x of all) if (!signals.has(x)) throw new TypeError('AbortSignal.any: every member must be an AbortSignal')
      const s = newSignal()
      for (const x of all) if (x.aborted) { abortSignal(s, x.reason); return s }
      const st = signals.get(s)
      st.sources = []
      for (const x of all) {
        const xs = signals.get(x)
        for (const src of xs.sources || [x]) {
          if (!st.sources.includes(src)) {
            st.sources.push(src)
            signals.get(src).dependents.push(s)
          }
        }
      }
      return s
    }
  }

  class AbortController {
    constructor() { Object.defineProperty(this, 'signal', { value: newSignal(), enumerable: true }) }
    abort(reason) { abortSignal(this.signal, reason) }
  }

  const errorTypes = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }

  function structuredClone(value, options) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'structuredClone': 1 argument required")
    const transfer = options === undefined || options === null ? [] : [...(options.transfer || [])]
    for (const [i, b] of transfer.entries()) {
      if (!(b instanceof ArrayBuffer)) throw new DOMException('Only ArrayBuffers can be transferred.', 'DataCloneError')
      if (transfer.indexOf(b) !== i) throw new DOMException('An ArrayBuffer is transferred twice.', 'DataCloneError')
    }
    const seen = new Map()
    const fail = what => { throw new DOMException(what + ' could not be cloned.', 'DataCloneError') }
    const clone = v => {
      if (typeof v === 'function' || typeof v === 'symbol') fail(typeof v === 'function' ? 'A function' : 'A symbol')
      if (v === null || typeof v !== 'object') return v
      if (seen.has(v)) return seen.get(v)
      let out
      const keep = o => { seen.set(v, o); return o }
      if (Array.isArray(v)) {
        out = keep(new Array(v.length))
        for (const k of Object.keys(v)) out[k] = clone(v[k])
        return out
      }
      if (v instanceof Date) return keep(new Date(v.getTime()))
      if (v instanceof RegExp) return keep(new RegExp(v.source, v.flags))
      if (v instanceof Map) {
        out = keep(new Map())
        for (const [k, x] of v) out.set(clone(k), clone(x))
        return out
      }
      if (v instanceof Set) {
        out = keep(new Set())
        for (const x of v) out.add(clone(x))
        return out
      }
      if (v instanceof ArrayBuffer) return keep(v.slice(0))
      if (ArrayBuffer.isView(v)) {
        const buf = clone(v.buffer)
        if (v instanceof DataView) return keep(new DataView(buf, v.byteOffset, v.byteLength))
        return keep(new v.constructor(buf, v.byteOffset, v.length))
      }
      if (v instanceof DOMException) return keep(new DOMException(v.message, v.name))
      if (typeof File === 'function' && v instanceof File) return keep(new File([v], v.name, { type: v.type, lastModified: v.lastModified }))
      if (typeof Blob === 'function' && v instanceof Blob) return keep(new Blob([v], { type: v.type }))
      if (v instanceof Error) {
        const Ctor = errorTypes[v.name] || Error
        out = keep(new Ctor(v.message))
        if (v.stack !== undefined) out.stack = String(v.stack)
        return out
      }
      if (v instanceof Boolean || v instanceof Number || v instanceof String) return keep(Object(v.valueOf()))
      if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet) fail('#<' + v.constructor.name + '>')
      out = keep({})
      for (const k of Object.keys(v)) out[k] = clone(v[k])
      return out
    }
    const out = clone(value)
    for (const b of transfer) detach(b)
    return out
  }

  return { DOMException, Event, CustomEvent, EventTarget, AbortSignal, AbortController, structuredClone }
})
