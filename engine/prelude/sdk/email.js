// The email part of the "picloud" SDK: it returns emailIn(tx).
(function (base) {
  'use strict'

  const { utf8, fail, isBinary, send, toBase64 } = base

  // Email: email.send({from, to, cc, bcc, replyTo, subject, text, html,
  // attachments})
  // stores the message for the daemon's mailer and resolves to
  // {messageId}; to, cc and bcc take an address or an array of them. The
  // data service parses the addresses and checks the sender and limits.
  const MAX_RECIPIENTS = 50
  const MAX_ATTACHMENTS = 10
  const EMAIL_FIELDS = ['from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'text', 'html', 'attachments']

  // attachmentList checks the files of a message; their content, text
  // (sent as UTF-8) or bytes, travels in base64.
  function attachmentList(v) {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) fail('TypeError', 'email.send: attachments must be an array of {filename, content, contentType}')
    if (v.length > MAX_ATTACHMENTS) fail('TypeError', 'email.send: ' + v.length + ' attachments: at most ' + MAX_ATTACHMENTS)
    return v.map((f, i) => {
      if (f === null || typeof f !== 'object') fail('TypeError', 'email.send: attachment ' + i + ' must be an object such as {filename, content}')
      if (typeof f.filename !== 'string' || f.filename.length === 0) fail('TypeError', 'email.send: attachment ' + i + ': filename must be a non-empty string')
      let bytes
      if (typeof f.content === 'string') bytes = utf8(f.content)
      else if (isBinary(f.content)) bytes = f.content
      else fail('TypeError', 'email.send: attachment "' + f.filename + '": content must be a string, an ArrayBuffer or a typed array')
      const out = { filename: f.filename, content: toBase64(bytes) }
      if (f.contentType !== undefined) {
        if (typeof f.contentType !== 'string') fail('TypeError', 'email.send: attachment "' + f.filename + '": contentType must be a string')
        out.contentType = f.contentType
      }
      return out
    })
  }

  function addressList(what, v) {
    if (v === undefined || v === null) return []
    const list = Array.isArray(v) ? v : [v]
    for (const a of list) {
      if (typeof a !== 'string' || a.length === 0) fail('TypeError', 'email.send: ' + what + ' must be an address or an array of addresses')
    }
    return list
  }

  function optionalText(what, v) {
    if (v === undefined || v === null) return ''
    if (typeof v !== 'string') fail('TypeError', 'email.send: ' + what + ' must be a string, not ' + typeof v)
    return v
  }

  function emailIn(tx) {
    return Object.freeze({
      async send(message) {
        if (message === null || typeof message !== 'object' || Array.isArray(message)) {
          fail('TypeError', 'email.send: give a message such as {from, to, subject, text}')
        }
        for (const k of Object.keys(message)) {
          if (EMAIL_FIELDS.indexOf(k) < 0) fail('TypeError', 'email.send: unknown field "' + k + '" (known: ' + EMAIL_FIELDS.join(', ') + ')')
        }
        if (typeof message.from !== 'string' || message.from.length === 0) fail('TypeError', 'email.send: from must be an address')
        const args = {
          from: message.from,
          to: addressList('to', message.to),
          cc: addressList('cc', message.cc),
          bcc: addressList('bcc', message.bcc),
          replyTo: optionalText('replyTo', message.replyTo),
          subject: optionalText('subject', message.subject),
          text: optionalText('text', message.text),
          html: optionalText('html', message.html),
        }
        const files = attachmentList(message.attachments)
        if (files.length > 0) args.attachments = files
        const n = args.to.length + args.cc.length + args.bcc.length
        if (n === 0) fail('TypeError', 'email.send: give at least one recipient in to, cc or bcc')
        if (n > MAX_RECIPIENTS) fail('TypeError', 'email.send: ' + n + ' recipients: at most ' + MAX_RECIPIENTS + ' in to, cc and bcc together')
        if (args.text === '' && args.html === '') fail('TypeError', 'email.send: give a text or an html body')
        return send('email.send', '', args, tx)
      },
    })
  }

  return emailIn
})
