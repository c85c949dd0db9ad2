// The db part of the "picloud" SDK: db.transaction, whose callback gets the
// other parts bound to its transaction (part(name) builds one).
(function (base, part) {
  'use strict'

  const { fail, send } = base

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
    return Object.freeze({ kv: part('kv')(tx), docs: part('docs')(tx), queue: part('queue')(tx), invoke: Object.freeze({ later: part('later')(tx) }), email: part('email')(tx) })
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

  return Object.freeze({ transaction })
})
