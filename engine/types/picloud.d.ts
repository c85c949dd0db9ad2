// Type declarations of the PiCloud script runtime: the handler contract
// and the Web APIs a script can use. Served by the daemon at
// GET /api/v1/picloud.d.ts. Reference it from a script or tsconfig.json:
//
//   /// <reference path="./picloud.d.ts" />
//
// Scripts are ES modules whose default export handles requests:
//
//   export default {
//     async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
//       return Response.json({ hello: ctx.params.name })
//     },
//   } satisfies Handler

/** The app's variables and secrets, by name. */
interface Env {
  readonly [name: string]: string | undefined
}

/** What a handler gets besides the request. */
interface ExecutionContext {
  /** Route and domain parameters: `:id`, `*rest`, `{tenant}`. */
  readonly params: { readonly [name: string]: string }
  /** Keeps the execution alive, within its wall time, until promise settles. */
  waitUntil(promise: Promise<unknown>): void
}

/** The default export of a script. */
interface Handler {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | string | object | Promise<Response | string | object>
}

/**
 * The SDK module (`import { kv } from "picloud"`); it grows with the
 * platform. See docs/sdk.md.
 */
declare module "picloud" {
  /** A value kv stores: text, bytes, or anything JSON can represent. */
  export type KVValue = string | ArrayBuffer | ArrayBufferView | number | boolean | null | object

  /** How get returns a value; none: as it was put. */
  export type KVType = "text" | "json" | "arrayBuffer"

  export interface KVGetOptions {
    type?: KVType
  }

  export interface KVPutOptions {
    /** Seconds until the key expires. */
    ttl?: number
    /** When the key expires: a Date or milliseconds since the epoch. */
    expiresAt?: Date | number
    /** Any JSON value, at most 1 KiB as JSON, returned by getWithMetadata and list. */
    metadata?: unknown
    /** Write only over this version; null: only if the key is absent. A mismatch throws data.version_mismatch. */
    ifVersion?: number | null
  }

  export interface KVEntry<V = unknown> {
    value: V | null
    metadata: unknown
    /** Changes on every write; null when the key is absent. */
    version: number | null
    /** Milliseconds since the epoch, or null if the key never expires. */
    expiresAt: number | null
  }

  export interface KVListOptions {
    /** Only keys starting with it; not with start/end. */
    prefix?: string
    /** First key (inclusive). */
    start?: string
    /** Last key (exclusive). */
    end?: string
    reverse?: boolean
    /** Keys per page, 1 to 1000 (default 1000). */
    limit?: number
    /** The cursor of the previous page. */
    cursor?: string
    /** Return the values too. */
    values?: boolean
    /** How values are returned, with values. */
    type?: KVType
  }

  export interface KVListItem {
    key: string
    metadata: unknown
    version: number
    expiresAt: number | null
    /** With the values option. */
    value?: unknown
  }

  export interface KVListResult {
    items: KVListItem[]
    /** Pass it to the next list call; null when complete. */
    cursor: string | null
    complete: boolean
  }

  /** The error of a failed data call: code says why (data.version_mismatch, data.invalid, data.too_large, …). */
  export interface DataError extends Error {
    code: string
  }

  /** A kv collection of the script's app, created on first write. */
  export interface KVCollection {
    readonly name: string
    get(key: string, options: { type: "text" } | "text"): Promise<string | null>
    get(key: string, options: { type: "arrayBuffer" } | "arrayBuffer"): Promise<ArrayBuffer | null>
    get<T = unknown>(key: string, options: { type: "json" } | "json"): Promise<T | null>
    /** The value as it was put (a string, an ArrayBuffer or a JSON value), or null. */
    get<T = unknown>(key: string, options?: KVGetOptions | KVType): Promise<T | null>
    getWithMetadata<V = unknown>(key: string, options?: KVGetOptions | KVType): Promise<KVEntry<V>>
    /** At most 100 keys; absent ones map to null. */
    getMany(keys: string[], options?: KVGetOptions | KVType): Promise<Map<string, unknown>>
    put(key: string, value: KVValue, options?: KVPutOptions): Promise<{ version: number }>
    /** Whether a key was there; with ifVersion, throws data.version_mismatch unless it was at that version. */
    delete(key: string, options?: { ifVersion?: number }): Promise<boolean>
    /** Adds delta (default 1) to a number, atomically; an absent key counts as 0. */
    incr(key: string, delta?: number): Promise<{ value: number; version: number }>
    list(options?: KVListOptions): Promise<KVListResult>
  }

  export const kv: {
    /** A handle on a collection: a name of 1 to 256 bytes. */
    collection(name: string): KVCollection
  }
}

type BufferSource = ArrayBuffer | ArrayBufferView
type HeadersInit = Headers | [string, string][] | Record<string, string>
type BodyInit = string | BufferSource | Blob | FormData | URLSearchParams | ReadableStream<Uint8Array> | null
type RequestInfo = Request | string | URL

interface ReadableStreamReadResult<T> { done: boolean; value?: T }
interface ReadableStreamDefaultReader<T> {
  read(): Promise<ReadableStreamReadResult<T>>
  releaseLock(): void
  cancel(reason?: unknown): Promise<void>
}
interface ReadableStream<T> {
  readonly locked: boolean
  getReader(): ReadableStreamDefaultReader<T>
}

declare class Headers implements Iterable<[string, string]> {
  constructor(init?: HeadersInit)
  append(name: string, value: string): void
  delete(name: string): void
  get(name: string): string | null
  getSetCookie(): string[]
  has(name: string): boolean
  set(name: string, value: string): void
  forEach(fn: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void
  entries(): IterableIterator<[string, string]>
  keys(): IterableIterator<string>
  values(): IterableIterator<string>
  [Symbol.iterator](): IterableIterator<[string, string]>
}

interface Body {
  readonly body: ReadableStream<Uint8Array> | null
  readonly bodyUsed: boolean
  arrayBuffer(): Promise<ArrayBuffer>
  bytes(): Promise<Uint8Array>
  blob(): Promise<Blob>
  formData(): Promise<FormData>
  json<T = any>(): Promise<T>
  text(): Promise<string>
}

interface RequestInit {
  method?: string
  headers?: HeadersInit
  body?: BodyInit
  redirect?: "follow" | "error" | "manual"
  /** Cancels a fetch. */
  signal?: AbortSignal | null
}

declare class Request {
  constructor(input: RequestInfo, init?: RequestInit)
  readonly method: string
  readonly url: string
  readonly headers: Headers
  readonly redirect: "follow" | "error" | "manual"
  clone(): Request
}
interface Request extends Body {}

interface ResponseInit {
  status?: number
  statusText?: string
  headers?: HeadersInit
}

declare class Response {
  constructor(body?: BodyInit, init?: ResponseInit)
  static json(data: unknown, init?: ResponseInit): Response
  static redirect(url: string | URL, status?: 301 | 302 | 303 | 307 | 308): Response
  static error(): Response
  readonly status: number
  readonly statusText: string
  readonly ok: boolean
  readonly headers: Headers
  readonly redirected: boolean
  readonly url: string
  readonly type: "default" | "basic" | "error"
  clone(): Response
}
interface Response extends Body {}

/**
 * Outbound HTTP. What it may reach is the administrator's policy (never this
 * board's own services unless allowed, never PiCloud itself); each call
 * counts against the execution's subrequest limit, and a response body
 * larger than the policy's cap rejects with a TypeError.
 */
declare function fetch(input: RequestInfo, init?: RequestInit): Promise<Response>

declare class URLSearchParams implements Iterable<[string, string]> {
  constructor(init?: string | [string, string][] | Record<string, string> | URLSearchParams)
  readonly size: number
  append(name: string, value: string): void
  delete(name: string, value?: string): void
  get(name: string): string | null
  getAll(name: string): string[]
  has(name: string, value?: string): boolean
  set(name: string, value: string): void
  sort(): void
  toString(): string
  forEach(fn: (value: string, name: string, params: URLSearchParams) => void, thisArg?: unknown): void
  entries(): IterableIterator<[string, string]>
  keys(): IterableIterator<string>
  values(): IterableIterator<string>
  [Symbol.iterator](): IterableIterator<[string, string]>
}

declare class URL {
  constructor(url: string | URL, base?: string | URL)
  static canParse(url: string, base?: string): boolean
  static parse(url: string, base?: string): URL | null
  hash: string
  host: string
  hostname: string
  href: string
  readonly origin: string
  password: string
  pathname: string
  port: string
  protocol: string
  search: string
  readonly searchParams: URLSearchParams
  username: string
  toString(): string
  toJSON(): string
}

declare class Blob {
  constructor(parts?: (BufferSource | Blob | string)[], options?: { type?: string })
  readonly size: number
  readonly type: string
  arrayBuffer(): Promise<ArrayBuffer>
  bytes(): Promise<Uint8Array>
  slice(start?: number, end?: number, contentType?: string): Blob
  text(): Promise<string>
}

declare class File extends Blob {
  constructor(parts: (BufferSource | Blob | string)[], name: string, options?: { type?: string; lastModified?: number })
  readonly name: string
  readonly lastModified: number
}

declare class FormData implements Iterable<[string, string | File]> {
  constructor()
  append(name: string, value: string | Blob, filename?: string): void
  delete(name: string): void
  get(name: string): string | File | null
  getAll(name: string): (string | File)[]
  has(name: string): boolean
  set(name: string, value: string | Blob, filename?: string): void
  forEach(fn: (value: string | File, name: string, form: FormData) => void, thisArg?: unknown): void
  entries(): IterableIterator<[string, string | File]>
  keys(): IterableIterator<string>
  values(): IterableIterator<string | File>
  [Symbol.iterator](): IterableIterator<[string, string | File]>
}

declare class TextEncoder {
  readonly encoding: "utf-8"
  encode(input?: string): Uint8Array
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number }
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean })
  readonly encoding: string
  readonly fatal: boolean
  readonly ignoreBOM: boolean
  decode(input?: BufferSource, options?: { stream?: boolean }): string
}

declare function atob(data: string): string
declare function btoa(data: string): string

declare class DOMException extends Error {
  constructor(message?: string, name?: string)
}

declare class Event {
  constructor(type: string, init?: { bubbles?: boolean; cancelable?: boolean })
  readonly type: string
  readonly defaultPrevented: boolean
  readonly target: EventTarget | null
  readonly currentTarget: EventTarget | null
  readonly timeStamp: number
  preventDefault(): void
  stopImmediatePropagation(): void
  stopPropagation(): void
}

type EventListenerOrObject = ((event: Event) => void) | { handleEvent(event: Event): void }

declare class EventTarget {
  addEventListener(type: string, listener: EventListenerOrObject | null, options?: { once?: boolean; signal?: AbortSignal }): void
  removeEventListener(type: string, listener: EventListenerOrObject | null): void
  dispatchEvent(event: Event): boolean
}

declare class AbortSignal extends EventTarget {
  private constructor()
  static abort(reason?: unknown): AbortSignal
  static timeout(milliseconds: number): AbortSignal
  static any(signals: AbortSignal[]): AbortSignal
  readonly aborted: boolean
  readonly reason: unknown
  onabort: ((event: Event) => void) | null
  throwIfAborted(): void
}

declare class AbortController {
  readonly signal: AbortSignal
  abort(reason?: unknown): void
}

/** A deep copy of plain data: objects, arrays, Date, RegExp, Map, Set, buffers, errors; cycles kept. */
declare function structuredClone<T>(value: T): T

interface CryptoKey {
  readonly type: "secret"
  readonly extractable: boolean
  readonly algorithm: { name: "HMAC"; hash: { name: string }; length: number }
  readonly usages: ("sign" | "verify")[]
}

type HashAlgorithm = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512" | { name: "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512" }
type HmacParams = { name: "HMAC"; hash: HashAlgorithm; length?: number }

interface SubtleCrypto {
  digest(algorithm: HashAlgorithm, data: BufferSource): Promise<ArrayBuffer>
  importKey(format: "raw", keyData: BufferSource, algorithm: HmacParams, extractable: boolean, usages: ("sign" | "verify")[]): Promise<CryptoKey>
  generateKey(algorithm: HmacParams, extractable: boolean, usages: ("sign" | "verify")[]): Promise<CryptoKey>
  exportKey(format: "raw", key: CryptoKey): Promise<ArrayBuffer>
  sign(algorithm: "HMAC" | { name: "HMAC" }, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>
  verify(algorithm: "HMAC" | { name: "HMAC" }, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>
  /** Compares two buffers of equal length in constant time. */
  timingSafeEqual(a: BufferSource, b: BufferSource): boolean
}

declare const crypto: {
  readonly subtle: SubtleCrypto
  getRandomValues<T extends ArrayBufferView>(array: T): T
  randomUUID(): string
}

interface Console {
  debug(...data: unknown[]): void
  error(...data: unknown[]): void
  info(...data: unknown[]): void
  log(...data: unknown[]): void
  trace(...data: unknown[]): void
  warn(...data: unknown[]): void
  assert(condition?: boolean, ...data: unknown[]): void
  count(label?: string): void
  countReset(label?: string): void
  dir(item?: unknown): void
  table(data: unknown): void
  time(label?: string): void
  timeEnd(label?: string): void
  timeLog(label?: string, ...data: unknown[]): void
}
declare const console: Console

/** Timers live as long as the execution; pending ones count against its timers limit. */
declare function setTimeout<A extends unknown[]>(fn: (...args: A) => void, delay?: number, ...args: A): number
declare function setInterval<A extends unknown[]>(fn: (...args: A) => void, delay?: number, ...args: A): number
declare function clearTimeout(id?: number): void
declare function clearInterval(id?: number): void
declare function queueMicrotask(fn: () => void): void
declare const self: typeof globalThis
