// The invoke.later part of the "picloud" SDK: it returns laterIn(tx).
(function (base) {
  'use strict'

  const { MAX_NAME, fail, checkOptions, send } = base


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

  return laterIn
})
