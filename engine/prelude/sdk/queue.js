// The queue part of the "picloud" SDK: it returns queueModule(tx).
(function (base) {
  'use strict'

  const { MAX_KEY, fail, checkString, checkOptions, send } = base

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

  return queueModule
})
