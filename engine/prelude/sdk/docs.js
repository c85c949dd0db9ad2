// The docs part of the "picloud" SDK: it returns docsModule(tx).
(function (base) {
  'use strict'

  const { MAX_NAME, fail, checkString, checkOptions, send, isPlainObject, checkDoc, checkID } = base

  const MAX_FIND = 1000

  function docIfVersion(what, opts, out) {
    opts = checkOptions(what, opts)
    if (opts.ifVersion === undefined) return out
    if (!Number.isSafeInteger(opts.ifVersion) || opts.ifVersion < 1) fail('TypeError', what + ': ifVersion must be a version number')
    out.ifVersion = opts.ifVersion
    out.checkVersion = true
    return out
  }

  // checkWhere refuses what JSON would silently drop: a condition whose
  // value is undefined would otherwise match every document.
  function checkWhere(what, where) {
    if (where === undefined || where === null) return undefined
    if (!isPlainObject(where)) fail('TypeError', what + ': where must be an object of paths and conditions')
    for (const path of Object.keys(where)) {
      const c = where[path]
      if (c === undefined || typeof c === 'function' || typeof c === 'symbol' || typeof c === 'bigint') fail('TypeError', what + ': the condition on "' + path + '" is ' + typeof c)
      if (isPlainObject(c)) {
        for (const op of Object.keys(c)) {
          if (c[op] === undefined) fail('TypeError', what + ': ' + op + ' of "' + path + '" is undefined')
        }
      }
    }
    return where
  }

  class DocsCollection {
    constructor(name, tx) {
      this.name = checkString('a collection name', name, MAX_NAME)
      this.tx = tx
      Object.freeze(this)
    }

    async insert(doc) {
      checkDoc('insert', doc, 'a document')
      return send('docs.insert', this.name, { doc }, this.tx)
    }

    async get(id) {
      checkID('get', id)
      return send('docs.get', this.name, { id }, this.tx)
    }

    async replace(id, doc, opts) {
      const what = 'replace(' + JSON.stringify(checkID('replace', id)) + ')'
      checkDoc(what, doc, 'a document')
      return send('docs.replace', this.name, docIfVersion(what, opts, { id, doc }), this.tx)
    }

    async update(id, patch, opts) {
      const what = 'update(' + JSON.stringify(checkID('update', id)) + ')'
      checkDoc(what, patch, 'a patch')
      return send('docs.update', this.name, docIfVersion(what, opts, { id, patch }), this.tx)
    }

    async delete(id, opts) {
      const what = 'delete(' + JSON.stringify(checkID('delete', id)) + ')'
      const r = await send('docs.delete', this.name, docIfVersion(what, opts, { id }), this.tx)
      return r.deleted
    }

    async find(opts) {
      opts = checkOptions('find', opts)
      const args = {}
      const where = checkWhere('find', opts.where)
      if (where !== undefined) args.where = where
      if (opts.orderBy !== undefined) {
        if (!Array.isArray(opts.orderBy)) fail('TypeError', 'find: orderBy must be a list of [path, "asc" | "desc"]')
        args.orderBy = opts.orderBy
      }
      if (opts.limit !== undefined) {
        if (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_FIND) {
          fail('TypeError', 'find: limit must be an integer from 1 to ' + MAX_FIND)
        }
        args.limit = opts.limit
      }
      if (opts.cursor !== undefined && opts.cursor !== null) {
        if (typeof opts.cursor !== 'string') fail('TypeError', 'find: cursor must be a string')
        args.cursor = opts.cursor
      }
      const r = await send('docs.find', this.name, args, this.tx)
      return { items: r.items, cursor: r.cursor === undefined ? null : r.cursor, complete: r.complete }
    }

    async count(where) {
      const args = {}
      where = checkWhere('count', where)
      if (where !== undefined) args.where = where
      const r = await send('docs.count', this.name, args, this.tx)
      return r.count
    }

    async ensureIndex(paths, opts) {
      if (typeof paths === 'string') paths = [paths]
      if (!Array.isArray(paths) || paths.length === 0 || paths.some(p => typeof p !== 'string')) {
        fail('TypeError', 'ensureIndex: paths must be a path or a list of paths')
      }
      opts = checkOptions('ensureIndex', opts)
      const args = { paths }
      if (opts.unique !== undefined) {
        if (typeof opts.unique !== 'boolean') fail('TypeError', 'ensureIndex: unique must be true or false')
        args.unique = opts.unique
      }
      await send('docs.ensureIndex', this.name, args, this.tx)
    }
  }

  // docsModule is the docs module bound to a transaction (undefined:
  // none), so that a transaction can hand out its own.
  function docsModule(tx) {
    return Object.freeze({
      collection(name) { return new DocsCollection(name, tx) },
    })
  }

  return docsModule
})
