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
  /**
   * What the interceptors before this script passed on (an empty object
   * without any); an interceptor fills it for the scripts after it. It
   * travels as JSON. See docs/app-users.md.
   */
  readonly data: { [key: string]: unknown }
  /**
   * In an interceptor only: passes the request on (or request instead,
   * the route is not matched again); return what it returns.
   */
  next(request?: Request): unknown
}

/** A cron trigger's run, as its scheduled handler sees it. See docs/events.md. */
interface ScheduledController {
  readonly type: "scheduled"
  /** The trigger's schedule, as written: "*\/5 * * * *", "@daily". */
  readonly cron: string
  /** The time this run was due, in milliseconds since the epoch. */
  readonly scheduledTime: number
  /** A failure of this run is not retried. */
  noRetry(): void
}

/** One message of a batch a queue handler gets. See docs/events.md. */
interface Message<Body = unknown> {
  /** The message's id, as the admin API shows it. */
  readonly id: string
  /** The JSON value that was sent. */
  readonly body: Body
  /** How many times it was delivered, this delivery included: 1 the first time. */
  readonly attempts: number
  /** When it was sent. */
  readonly timestamp: Date
  /** It is done: it is not delivered again, even if the handler throws. */
  ack(): void
  /** Deliver it again after delaySeconds (0 to 43200; the trigger's retry_delay_seconds if left out). */
  retry(options?: { delaySeconds?: number }): void
}

/** A batch of messages from one queue. The last ack() or retry() of a message counts. */
interface MessageBatch<Body = unknown> {
  /** The queue's name. */
  readonly queue: string
  readonly messages: readonly Message<Body>[]
  ackAll(): void
  retryAll(options?: { delaySeconds?: number }): void
}

/** A received email, as an email handler sees it. See docs/events.md. */
interface ForwardableEmailMessage {
  /** The envelope sender (MAIL FROM); "" for a bounce. */
  readonly from: string
  /** The envelope recipient: the address the trigger claims, in lower case. */
  readonly to: string
  /** The message's header fields, read only: headers.get("subject"). */
  readonly headers: Headers
  /** The whole message as received, readable once: await new Response(message.raw).text(). */
  readonly raw: ReadableStream
  /** The size of raw, in bytes. */
  readonly rawSize: number
  /**
   * Marks the stored message rejected, with reason. The SMTP server
   * answered 250 before the handler ran: the sender is not told.
   */
  setReject(reason: string): void
  /**
   * Sends the message to address through the SMTP relay, from the address
   * it came to (which PICLOUD_SMTP_SENDERS must allow): as received, after
   * a Received: field of this board's hop. A message with 50 Received:
   * fields already, a routing loop, fails with email.loop.
   */
  forward(address: string): Promise<unknown>
}

/** The default export of a script. */
interface Handler {
  fetch?(request: Request, env: Env, ctx: ExecutionContext): Response | string | object | Promise<Response | string | object>
  /** Called by the script's cron triggers; throwing or rejecting fails the run, which is retried unless noRetry() was called. */
  scheduled?(controller: ScheduledController, env: Env, ctx: ExecutionContext): void | Promise<void>
  /**
   * Run when the script is bound as an interceptor, before the route's
   * script: a Response answers the request; nothing, or ctx.next(), passes
   * it on. See docs/app-users.md.
   */
  intercept?(request: Request, env: Env, ctx: ExecutionContext): Response | string | object | void | Promise<Response | string | object | void>
  /**
   * Called by the script's queue triggers with a batch. Messages it neither
   * acks nor retries are acked when it returns; when it throws or rejects,
   * they are retried, the acked ones are not.
   */
  queue?(batch: MessageBatch, env: Env, ctx: ExecutionContext): void | Promise<void>
  /**
   * Called by the script's email triggers with a received message;
   * throwing or rejecting retries it later, up to 6 attempts in all.
   */
  email?(message: ForwardableEmailMessage, env: Env, ctx: ExecutionContext): void | Promise<void>
}

/**
 * The SDK module (`import { kv, docs, db, users, queue, invoke, email } from "picloud"`); it grows with the
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

  /** The error of a failed data call: code says why (data.version_mismatch, data.duplicate, data.invalid, data.too_large, …). */
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

  /** The kv module: collections of the script's app. */
  export interface KVModule {
    /** A handle on a collection: a name of 1 to 256 bytes. */
    collection(name: string): KVCollection
  }

  export const kv: KVModule

  /** A stored document as get and find return it: its fields, with its id and version. */
  export type Doc<T extends object = Record<string, unknown>> = T & {
    /** The document's id: a UUIDv7, time-ordered. */
    _id: string
    /** Changes on every write of the document. */
    _version: number
  }

  /** A condition on one path's value. */
  export interface DocsOperators {
    $eq?: unknown
    /** Also matches documents without the path. */
    $ne?: unknown
    /** Range operators match only values of the operand's JSON type. */
    $gt?: number | string | boolean
    $gte?: number | string | boolean
    $lt?: number | string | boolean
    $lte?: number | string | boolean
    /** At most 100 values. */
    $in?: unknown[]
    /** Whether the path is there (a null value is there). */
    $exists?: boolean
  }

  /** Dotted paths ("author.id", "tags.0") and a value (equality) or operators; all must hold. At most 32 conditions. */
  export type DocsWhere = Record<string, DocsOperators | string | number | boolean | null | object>

  /** A path, ascending, or [path, direction]; "_id" (only last) is the id, which orders ties anyway. */
  export type DocsOrderBy = Array<string | [string, "asc" | "desc"]>

  export interface DocsFindOptions {
    where?: DocsWhere
    /** Default: by id, which is insertion order. */
    orderBy?: DocsOrderBy
    /** Documents per page, 1 to 1000 (default 1000). */
    limit?: number
    /** The cursor of the previous page of the same query. */
    cursor?: string | null
  }

  export interface DocsFindResult<T extends object> {
    items: Doc<T>[]
    /** Pass it to the next find of the same query; null when complete. */
    cursor: string | null
    complete: boolean
  }

  /** A docs collection of the script's app, created on first insert. */
  export interface DocsCollection<T extends object = Record<string, unknown>> {
    readonly name: string
    /** Stores a new document (an object, at most 1 MiB as JSON; _id and _version are ignored). */
    insert(doc: T): Promise<{ id: string; version: number }>
    /** The document, or null. */
    get(id: string): Promise<Doc<T> | null>
    /** Writes over a document; null if there is none. A failed ifVersion throws data.version_mismatch. */
    replace(id: string, doc: T, options?: { ifVersion?: number }): Promise<{ version: number } | null>
    /** Applies a JSON merge patch (RFC 7396: null removes a field); null if there is no such document. */
    update(id: string, patch: Partial<Record<keyof T, unknown>> & Record<string, unknown>, options?: { ifVersion?: number }): Promise<{ version: number } | null>
    /** Whether the document was there. */
    delete(id: string, options?: { ifVersion?: number }): Promise<boolean>
    find(options?: DocsFindOptions): Promise<DocsFindResult<T>>
    count(where?: DocsWhere): Promise<number>
    /** Makes a PostgreSQL index on the paths' values (at most 8); unique refuses repeats with data.duplicate. */
    ensureIndex(paths: string | string[], options?: { unique?: boolean }): Promise<void>
  }

  export const docs: {
    /** A handle on a collection: a name of 1 to 256 bytes. */
    collection<T extends object = Record<string, unknown>>(name: string): DocsCollection<T>
  }

  /** What one message of sendBatch is. */
  export interface MessageSendRequest<Body = unknown> {
    /** Any JSON value, at most PICLOUD_QUEUE_MAX_MESSAGE_BYTES (128 KiB) as JSON. */
    body: Body
    /** Deliver it no sooner than this many seconds from now (0 to 43200). */
    delaySeconds?: number
    /** While a message with this key waits in the queue, another is not added. */
    dedupeKey?: string
  }

  /** A producer of one of the app's queues. */
  export interface Queue<Body = unknown> {
    /** Sends one message; inside db.transaction it commits or rolls back with the transaction. */
    send(body: Body, options?: { delaySeconds?: number; dedupeKey?: string }): Promise<void>
    /** Sends up to 100 messages at once, all or none. */
    sendBatch(messages: MessageSendRequest<Body>[], options?: { delaySeconds?: number }): Promise<void>
  }

  /** The app's queue of that name: 1 to 63 letters, digits, "-" or "_". */
  export function queue<Body = unknown>(name: string): Queue<Body>

  /**
   * Runs the script of this app called `script` with a request (a Request, or
   * what `new Request(input, init)` takes) and resolves to its Response. The
   * callee runs within the caller's remaining wall time and counts as one of
   * the caller's subrequests. It rejects with an Error whose `code` is
   * `invoke.not_found` (no such script in this app), `invoke.cycle` (the
   * script is already in the chain), `invoke.depth` (more than 8 nested
   * calls), `invoke.deadline` (no time left) or `invoke.failed` (the callee
   * threw or passed a limit). See docs/events.md.
   */
  export function invoke(script: string, input?: RequestInfo | URL, init?: RequestInit): Promise<Response>

  export namespace invoke {
    /**
     * Plans a run of the script of this app called `script`: after
     * `delaySeconds` (0 to 604800, 7 days; default 0) its fetch handler gets
     * `POST http://invoke.local/` with `body` as JSON (any JSON value, at
     * most PICLOUD_QUEUE_MAX_MESSAGE_BYTES, 128 KiB) and the headers
     * `x-picloud-trigger: invoke`, `x-picloud-invoke-id` (the id resolved
     * here) and `x-picloud-attempt` (1, 2, …). A throw, a limit or a 5xx
     * answer is retried with backoff (4 attempts in all, after about 1 s,
     * 16 s and 81 s), then dropped with a warning in the daemon's log. It
     * rejects with `invoke.not_found` when the app has no such script, and
     * a TypeError (`data.invalid`) for a bad delay. As `tx.invoke.later`,
     * the plan commits or rolls back with the transaction. See docs/events.md.
     */
    function later(script: string, body?: unknown, options?: { delaySeconds?: number }): Promise<{ id: string }>
  }

  /** A message for email.send. to, cc and bcc take one address or an array. */
  export interface EmailMessage {
    /** The sender, "Name <a@b.example>" or "a@b.example"; it must be allowed by PICLOUD_SMTP_SENDERS. */
    from: string
    to?: string | string[]
    cc?: string | string[]
    /** Recipients that get the message without appearing in its headers. */
    bcc?: string | string[]
    replyTo?: string
    /** One line of text. */
    subject?: string
    /** A plain-text body; with html too, the message carries both. */
    text?: string
    html?: string
    /** At most 10 files; their size counts in the message's 1 MiB. */
    attachments?: EmailAttachment[]
  }

  /** A file of an email. Text content is sent as UTF-8. */
  export interface EmailAttachment {
    /** The file's name, without line breaks, quotes or slashes. */
    filename: string
    content: string | ArrayBuffer | ArrayBufferView
    /** A media type such as "text/csv"; default application/octet-stream. */
    contentType?: string
  }

  export const email: {
    /**
     * Stores the message for the daemon's mailer, which hands it to the SMTP
     * relay (PICLOUD_SMTP_RELAY) and retries temporary failures; it resolves
     * to the message's Message-ID (without angle brackets) once stored, not
     * once delivered. At most 50 recipients in all and 1 MiB of message. It
     * rejects with a TypeError (`data.invalid`) for a bad address or field,
     * a RangeError (`data.too_large`) past a limit, an Error with code
     * `email.sender_refused` for a `from` not allowed, and
     * `email.not_configured` when the daemon has no relay. As
     * `tx.email.send`, the message is stored in the transaction: a rollback
     * sends nothing. See docs/events.md.
     */
    send(message: EmailMessage): Promise<{ messageId: string }>
  }

  /** The modules bound to one transaction: their calls run in it. */
  export interface Transaction {
    readonly kv: KVModule
    readonly docs: typeof docs
    readonly queue: typeof queue
    /** invoke.later, planned in the transaction. */
    readonly invoke: { readonly later: typeof invoke.later }
    /** email.send, stored in the transaction. */
    readonly email: typeof email
  }

  export const db: {
    /**
     * Runs fn in one SERIALIZABLE transaction over the app's data, through
     * the tx it receives: committed when fn's promise resolves, rolled back
     * when it rejects (its error is rethrown) or when the execution ends.
     * On a conflict with concurrent transactions fn runs again (at most 5
     * times in all), so it must do nothing outside tx; then it throws
     * data.conflict. Transactions do not nest: data.nested_transaction.
     */
    transaction<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T>
  }

  /** A user of the app, as scripts see it: never the password or its hash. */
  export interface User<D extends object = Record<string, unknown>> {
    id: string
    /** Trimmed and lower-cased; unique within the app. */
    email: string
    data: D
    verified: boolean
    disabled: boolean
    /** Milliseconds since the epoch. */
    createdAt: number
    updatedAt: number
  }

  /** A token the board made and keeps hashed; only this copy is ever seen. */
  export interface IssuedToken {
    token: string
    /** Milliseconds since the epoch. */
    expiresAt: number
    /** A sliding session's limit, past which it is never renewed: milliseconds since the epoch. */
    maxExpiresAt?: number
  }

  export interface SessionOptions {
    /** Seconds the session lives (default 7 days, at most a year). */
    ttl?: number
    /**
     * Renew the session to ttl from now when it is used (users.fromToken,
     * users.fromRequest) with less than half of ttl left; default false,
     * a fixed expiry.
     */
    sliding?: boolean
    /** A sliding session's limit: seconds after its issue it is never renewed past (default 30 days, at least ttl, at most a year). */
    maxTtl?: number
  }

  export interface FromRequestOptions {
    /** A cookie holding the session token, read when there is no Authorization: Bearer header. */
    cookie?: string
  }

  /** The app's own users (see docs/app-users.md); no app sees another's. */
  export const users: {
    /** users.email_taken if the email is another user's; a password has 8 characters or more. */
    create<D extends object = Record<string, unknown>>(fields: { email: string; password?: string; data?: D }): Promise<User<D>>
    get(id: string): Promise<User | null>
    findByEmail(email: string): Promise<User | null>
    /** A new email is unverified until confirmed. null if there is no such user. */
    update<D extends object = Record<string, unknown>>(id: string, fields: { email?: string; data?: D }): Promise<User<D> | null>
    /** Deletes the user and its tokens; whether it was there. */
    delete(id: string): Promise<boolean>
    /** Whether there was such a user. Sessions stay: revoke them if needed. */
    setPassword(id: string, password: string): Promise<boolean>
    /**
     * The user if the password is right, else null (unknown email, wrong
     * password, no password, disabled). Throttled per account and client:
     * throws users.throttled when refused.
     */
    verify(email: string, password: string): Promise<User | null>
    /** A session token: a fixed expiry, or with sliding: true renewed when used, up to maxTtl. */
    issueSession(id: string, options?: SessionOptions): Promise<IssuedToken>
    /** The user behind a session token, or null; renews a sliding session when due. */
    fromToken(token: string): Promise<User | null>
    /** The user behind the request's Bearer token or named cookie, or null. */
    fromRequest(request: Request, options?: FromRequestOptions): Promise<User | null>
    /** The session token the request carries, or null. */
    tokenFromRequest(request: Request, options?: FromRequestOptions): string | null
    /** Ends one session (log-out); whether it was live. */
    revokeSession(token: string): Promise<boolean>
    /** Ends every session of a user; how many. */
    revokeSessions(id: string): Promise<number>
    /** A single-use email verification token (default 24 hours) for the script to send. */
    issueVerificationToken(id: string, options?: { ttl?: number }): Promise<IssuedToken>
    /** Spends a verification token and marks the email verified: the user, or null. */
    confirmEmail(token: string): Promise<User | null>
    /** A single-use password reset token (default 1 hour) for the script to send. */
    issueResetToken(id: string, options?: { ttl?: number }): Promise<IssuedToken>
    /** Spends a reset token, sets the password and ends the user's sessions: the user, or null. */
    resetPassword(token: string, password: string): Promise<User | null>
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
  /** Aborted when the signal given to the constructor is. */
  readonly signal: AbortSignal
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
  /** The bytes as a stream; its reader returns them in one chunk. */
  stream(): ReadableStream<Uint8Array>
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
  /** The legacy code of the name (20 for AbortError), or 0. */
  readonly code: number
}

interface EventInit {
  bubbles?: boolean
  cancelable?: boolean
  composed?: boolean
}

declare class Event {
  constructor(type: string, init?: EventInit)
  static readonly NONE: 0
  static readonly CAPTURING_PHASE: 1
  static readonly AT_TARGET: 2
  static readonly BUBBLING_PHASE: 3
  readonly type: string
  readonly bubbles: boolean
  readonly cancelable: boolean
  readonly composed: boolean
  readonly defaultPrevented: boolean
  readonly isTrusted: boolean
  readonly eventPhase: number
  readonly target: EventTarget | null
  readonly currentTarget: EventTarget | null
  readonly timeStamp: number
  composedPath(): EventTarget[]
  preventDefault(): void
  stopImmediatePropagation(): void
  stopPropagation(): void
}

declare class CustomEvent<T = any> extends Event {
  constructor(type: string, init?: EventInit & { detail?: T })
  readonly detail: T
}

type EventListenerOrObject = ((event: Event) => void) | { handleEvent(event: Event): void }

declare class EventTarget {
  addEventListener(type: string, listener: EventListenerOrObject | null, options?: boolean | { capture?: boolean; once?: boolean; signal?: AbortSignal }): void
  removeEventListener(type: string, listener: EventListenerOrObject | null, options?: boolean | { capture?: boolean }): void
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

/** A deep copy of plain data: objects, arrays, Date, RegExp, Map, Set, buffers, errors, DOMException, Blob and File; cycles kept. The ArrayBuffers in transfer are moved: the originals are detached. */
declare function structuredClone<T>(value: T, options?: { transfer?: ArrayBuffer[] }): T

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

/** node:buffer, as Workers offers it under nodejs_compat (docs/scripts.md). */
declare module "node:buffer" {
  type BufferEncoding = "utf8" | "utf-8" | "hex" | "base64" | "base64url" | "latin1" | "binary" | "ascii" | "utf16le" | "ucs2"
  class Buffer extends Uint8Array {
    static from(value: string, encoding?: BufferEncoding): Buffer
    static from(value: ArrayBuffer, byteOffset?: number, length?: number): Buffer
    static from(value: ArrayLike<number> | Uint8Array | { type: "Buffer"; data: number[] }): Buffer
    static alloc(size: number, fill?: string | number, encoding?: BufferEncoding): Buffer
    static allocUnsafe(size: number): Buffer
    static byteLength(value: string | ArrayBuffer | ArrayBufferView, encoding?: BufferEncoding): number
    static concat(list: Uint8Array[], totalLength?: number): Buffer
    static compare(a: Uint8Array, b: Uint8Array): -1 | 0 | 1
    static isBuffer(value: unknown): value is Buffer
    static isEncoding(encoding: string): boolean
    toString(encoding?: BufferEncoding, start?: number, end?: number): string
    toJSON(): { type: "Buffer"; data: number[] }
    equals(other: Uint8Array): boolean
    compare(other: Uint8Array): -1 | 0 | 1
    slice(start?: number, end?: number): Buffer
    subarray(start?: number, end?: number): Buffer
    write(string: string, offset?: number, length?: number, encoding?: BufferEncoding): number
    fill(value: string | number, offset?: number, end?: number, encoding?: BufferEncoding): this
    indexOf(value: string | number | Uint8Array, byteOffset?: number, encoding?: BufferEncoding): number
    includes(value: string | number | Uint8Array, byteOffset?: number, encoding?: BufferEncoding): boolean
    readUInt8(offset?: number): number
    readUInt16LE(offset?: number): number
    readUInt16BE(offset?: number): number
    readUInt32LE(offset?: number): number
    readUInt32BE(offset?: number): number
    readInt32LE(offset?: number): number
    readInt32BE(offset?: number): number
    writeUInt8(value: number, offset?: number): number
    writeUInt16LE(value: number, offset?: number): number
    writeUInt16BE(value: number, offset?: number): number
    writeUInt32LE(value: number, offset?: number): number
    writeUInt32BE(value: number, offset?: number): number
  }
  const kMaxLength: number
  function atob(data: string): string
  function btoa(data: string): string
}
declare module "buffer" {
  export * from "node:buffer"
}

/** node:crypto's hashing, HMAC and random values, as Workers offers them. */
declare module "node:crypto" {
  import { Buffer } from "node:buffer"
  interface Hash {
    update(data: string | ArrayBuffer | ArrayBufferView, encoding?: "utf8" | "hex" | "base64" | "latin1"): Hash
    digest(): Buffer
    digest(encoding: "hex" | "base64" | "base64url" | "latin1"): string
  }
  function createHash(algorithm: "md5" | "sha1" | "sha256" | "sha384" | "sha512" | string): Hash
  function createHmac(algorithm: "md5" | "sha1" | "sha256" | "sha384" | "sha512" | string, key: string | ArrayBuffer | ArrayBufferView): Hash
  function getHashes(): string[]
  function randomBytes(size: number): Buffer
  function randomUUID(): string
  function getRandomValues<T extends ArrayBufferView>(array: T): T
  function timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean
  const webcrypto: typeof crypto
  const subtle: SubtleCrypto
}
declare module "crypto" {
  export * from "node:crypto"
}

/** node:util's format and inspect, as console.log formats. */
declare module "node:util" {
  function format(format?: unknown, ...args: unknown[]): string
  function inspect(value: unknown): string
  const types: {
    isDate(v: unknown): v is Date
    isRegExp(v: unknown): v is RegExp
    isMap(v: unknown): v is Map<unknown, unknown>
    isSet(v: unknown): v is Set<unknown>
    isPromise(v: unknown): v is Promise<unknown>
    isUint8Array(v: unknown): v is Uint8Array
    isArrayBuffer(v: unknown): v is ArrayBuffer
  }
}
declare module "util" {
  export * from "node:util"
}
