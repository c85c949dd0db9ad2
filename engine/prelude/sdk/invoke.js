// The invoke part of the "picloud" SDK: invoke(script, input, init), with
// invoke.later.
(function (base, part) {
  'use strict'

  const { MAX_NAME, fail, send, toBase64, fromBase64, countSubrequest } = base


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

  invoke.later = part('later')(undefined)
  return Object.freeze(invoke)
})
