// The users part of the "picloud" SDK: the app's own users.
(function (base) {
  'use strict'

  const { fail, checkOptions, send, isPlainObject, checkDoc, checkID } = base

  // The users module: the app's own users. Passwords go to the board and
  // never come back; tokens are opaque strings the board keeps hashed.
  function checkEmail(what, email) {
    if (typeof email !== 'string' || email.length === 0) fail('TypeError', what + ': an email must be a non-empty string')
    return email
  }

  function checkPassword(what, password) {
    if (typeof password !== 'string') fail('TypeError', what + ': a password must be a string')
    return password
  }

  function checkUserData(what, data) {
    if (data === undefined) return undefined
    if (!isPlainObject(data)) fail('TypeError', what + ': data must be an object')
    return data
  }

  function ttlOf(what, opts) {
    opts = checkOptions(what, opts)
    if (opts.ttl === undefined) return {}
    if (typeof opts.ttl !== 'number' || !(opts.ttl >= 1) || !isFinite(opts.ttl)) fail('TypeError', what + ': ttl must be a number of seconds, at least 1')
    return { ttl: opts.ttl }
  }

  // sessionOf is the arguments of users.issueSession: ttl, and sliding
  // and maxTtl for a session renewed when used (the daemon checks that
  // they agree).
  function sessionOf(id, opts) {
    const what = 'users.issueSession'
    const args = Object.assign({ id: checkID(what, id) }, ttlOf(what, opts))
    opts = checkOptions(what, opts)
    if (opts.sliding !== undefined) {
      if (typeof opts.sliding !== 'boolean') fail('TypeError', what + ': sliding must be true or false')
      args.sliding = opts.sliding
    }
    if (opts.maxTtl !== undefined) {
      if (typeof opts.maxTtl !== 'number' || !(opts.maxTtl >= 1) || !isFinite(opts.maxTtl)) fail('TypeError', what + ': maxTtl must be a number of seconds, at least 1')
      args.maxTtl = opts.maxTtl
    }
    return args
  }

  // singleUseTtlOf is the ttl of a verification or reset token, which
  // never slides.
  function singleUseTtlOf(what, opts) {
    const o = checkOptions(what, opts)
    if (o.sliding !== undefined || o.maxTtl !== undefined) fail('TypeError', what + ': only sessions slide: sliding and maxTtl are options of users.issueSession')
    return ttlOf(what, o)
  }

  function userSend(op, args) {
    return send('users.' + op, '', args, undefined)
  }

  // cookieValue is the value of cookie name in a Cookie header, or null.
  function cookieValue(header, name) {
    if (!header) return null
    for (const part of header.split(';')) {
      const i = part.indexOf('=')
      if (i < 0) continue
      if (part.slice(0, i).trim() === name) {
        let v = part.slice(i + 1).trim()
        if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') v = v.slice(1, -1)
        return v
      }
    }
    return null
  }

  // tokenOf is the session token a request carries: a Bearer token, else
  // the cookie named opts.cookie.
  function tokenOf(request, opts) {
    if (request === null || typeof request !== 'object' || !request.headers || typeof request.headers.get !== 'function') {
      fail('TypeError', 'users.fromRequest: give it the request')
    }
    opts = checkOptions('users.fromRequest', opts)
    const auth = request.headers.get('authorization')
    if (auth) {
      const m = /^Bearer[ ]+(\S+)\s*$/i.exec(auth)
      if (m) return m[1]
    }
    if (opts.cookie !== undefined) {
      if (typeof opts.cookie !== 'string' || opts.cookie === '') fail('TypeError', 'users.fromRequest: cookie must be a cookie name')
      return cookieValue(request.headers.get('cookie'), opts.cookie)
    }
    return null
  }

  const users = Object.freeze({
    async create(fields) {
      fields = checkDoc('users.create', fields, 'the user')
      const args = { email: checkEmail('users.create', fields.email) }
      if (fields.password !== undefined) args.password = checkPassword('users.create', fields.password)
      const data = checkUserData('users.create', fields.data)
      if (data !== undefined) args.data = data
      return userSend('create', args)
    },
    async get(id) { return userSend('get', { id: checkID('users.get', id) }) },
    async findByEmail(email) { return userSend('findByEmail', { email: checkEmail('users.findByEmail', email) }) },
    async update(id, fields) {
      checkID('users.update', id)
      fields = checkDoc('users.update', fields, 'the change')
      const args = { id }
      if (fields.email !== undefined) args.email = checkEmail('users.update', fields.email)
      const data = checkUserData('users.update', fields.data)
      if (data !== undefined) args.data = data
      return userSend('update', args)
    },
    async delete(id) { return (await userSend('delete', { id: checkID('users.delete', id) })).deleted },
    async setPassword(id, password) {
      const r = await userSend('setPassword', { id: checkID('users.setPassword', id), password: checkPassword('users.setPassword', password) })
      return r.updated
    },
    async verify(email, password) {
      return userSend('verify', { email: checkEmail('users.verify', email), password: checkPassword('users.verify', password) })
    },
    async issueSession(id, opts) {
      return userSend('issueSession', sessionOf(id, opts))
    },
    async fromToken(token) {
      if (typeof token !== 'string') return null
      return userSend('fromToken', { token })
    },
    async fromRequest(request, opts) {
      const token = tokenOf(request, opts)
      return token === null ? null : userSend('fromToken', { token })
    },
    tokenFromRequest(request, opts) { return tokenOf(request, opts) },
    async revokeSession(token) {
      if (typeof token !== 'string') return false
      return (await userSend('revokeSession', { token })).revoked
    },
    async revokeSessions(id) { return (await userSend('revokeSessions', { id: checkID('users.revokeSessions', id) })).revoked },
    async issueVerificationToken(id, opts) {
      return userSend('issueToken', Object.assign({ id: checkID('users.issueVerificationToken', id), purpose: 'verify' }, singleUseTtlOf('users.issueVerificationToken', opts)))
    },
    async confirmEmail(token) {
      if (typeof token !== 'string') return null
      return userSend('confirmEmail', { token })
    },
    async issueResetToken(id, opts) {
      return userSend('issueToken', Object.assign({ id: checkID('users.issueResetToken', id), purpose: 'reset' }, singleUseTtlOf('users.issueResetToken', opts)))
    },
    async resetPassword(token, password) {
      checkPassword('users.resetPassword', password)
      if (typeof token !== 'string') return null
      return userSend('resetPassword', { token, password })
    },
  })

  return users
})
