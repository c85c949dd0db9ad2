// Web APIs that are plain JavaScript: run once in an execution's runtime,
// the first time a script names one of them. The function receives the
// execution's setTimeout and returns the globals it defines.
(function (setTimeout) {
  'use strict'

  class DOMException extends Error {
    constructor(message, name) {
      super(message === undefined ? '' : String(message))
      Object.defineProperty(this, 'name', { value: name === undefined ? 'Error' : String(name), writable: true, configurable: true })
    }
  }

  class Event {
    constructor(type, init) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required")
      this.type = String(type)
      this.bubbles = !!(init && init.bubbles)
      this.cancelable = !!(init && init.cancelable)
      this.defaultPrevented = false
      this.target = null
      this.currentTarget = null
      this.timeStamp = Date.now()
    }
    preventDefault() { if (this.cancelable) this.defaultPrevented = true }
    stopImmediatePropagation() { this._stop = true }
    stopPropagation() {}
  }

  const listeners = new WeakMap()

  class EventTarget {
    addEventListener(type, fn, options) {
      if (fn === null || fn === undefined) return
      if (typeof fn !== 'function' && typeof fn.handleEvent !== 'function') {
        throw new TypeError('The listener must be a function or have a handleEvent method')
      }
      let byType = listeners.get(this)
      if (!byType) listeners.set(this, byType = new Map())
      let list = byType.get(String(type))
      if (!list) byType.set(String(type), list = [])
      if (list.some(l => l.fn === fn)) return
      const once = typeof options === 'object' && options !== null && !!options.once
      list.push({ fn, once })
      const signal = typeof options === 'object' && options !== null ? options.signal : undefined
      if (signal) signal.addEventListener('abort', () => this.removeEventListener(type, fn), { once: true })
    }
    removeEventListener(type, fn) {
      const byType = listeners.get(this)
      const list = byType && byType.get(String(type))
      if (!list) return
      const i = list.findIndex(l => l.fn === fn)
      if (i >= 0) list.splice(i, 1)
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError('dispatchEvent: the argument is not an Event')
      event.target = event.currentTarget = this
      const handler = this['on' + event.type]
      if (typeof handler === 'function') handler.call(this, event)
      const byType = listeners.get(this)
      const list = byType && byType.get(event.type)
      if (list) {
        for (const l of list.slice()) {
          if (event._stop) break
          if (l.once) this.removeEventListener(event.type, l.fn)
          if (typeof l.fn === 'function') l.fn.call(this, event)
          else l.fn.handleEvent(event)
        }
      }
      return !event.defaultPrevented
    }
  }

  const token = Symbol('AbortSignal')
  const signals = new WeakMap()

  function abortSignal(signal, reason) {
    const st = signals.get(signal)
    if (st.aborted) return
    st.aborted = true
    st.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason
    signal.dispatchEvent(new Event('abort'))
  }

  function newSignal() { return new AbortSignal(token) }

  class AbortSignal extends EventTarget {
    constructor(key) {
      if (key !== token) throw new TypeError('Illegal constructor')
      super()
      signals.set(this, { aborted: false, reason: undefined })
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
      const s = newSignal()
      for (const x of list) if (x.aborted) { abortSignal(s, x.reason); return s }
      for (const x of list) x.addEventListener('abort', () => abortSignal(s, x.reason), { once: true })
      return s
    }
  }

  class AbortController {
    constructor() { Object.defineProperty(this, 'signal', { value: newSignal(), enumerable: true }) }
    abort(reason) { abortSignal(this.signal, reason) }
  }

  const errorTypes = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError }

  function structuredClone(value) {
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
    return clone(value)
  }

  return { DOMException, Event, EventTarget, AbortSignal, AbortController, structuredClone }
})
