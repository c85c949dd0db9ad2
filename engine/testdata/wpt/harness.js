// The conformance harness of engine/wpt_test.go: it runs the vectors of one
// data file against the Web APIs of whatever runs it (a PiCloud script, or
// Node.js in the comparison mode) and returns
// { total, failures: [{ id, why }], disagreements: [id] }. An id names a
// vector exactly (its JSON); expected-failures.txt uses the same ids.
//
// The checks follow what WPT's url/*.any.js and *.window.js tests assert
// for each file; the parts that need a document (<a>, <area>, non-UTF-8
// pages) do not apply to scripts and are left out.

function wptRun(file, data) {
  const run = wptFiles[file]
  const vectors = run.vectors ? run.vectors(data) : data.filter((v) => typeof v === "object")
  const out = { total: 0, failures: [], disagreements: [], missing: [] }
  for (const name of ["canParse", "parse"]) if (typeof URL[name] !== "function") out.missing.push("URL." + name)
  for (const v of vectors) {
    const id = run.id(v)
    if (id === undefined) continue
    out.total++
    let why
    try {
      why = run.check(v, out, id)
    } catch (e) {
      why = "threw " + String(e)
    }
    if (why) out.failures.push({ id, why })
  }
  return out
}

function setterVectors(data) {
  const out = []
  for (const setter of Object.keys(data)) {
    if (setter === "comment") continue
    for (const v of data[setter]) out.push({ ...v, setter })
  }
  return out
}

// differ returns "what: got X, want Y" for the first attribute of got
// that is not as in want.
function differ(got, want, names) {
  for (const n of names) {
    if (n in want && got[n] !== want[n]) return n + ": got " + JSON.stringify(got[n]) + ", want " + JSON.stringify(want[n])
  }
  return ""
}

function tryURL(input, base) {
  try {
    return base === undefined ? new URL(input) : new URL(input, base)
  } catch (e) {
    if (!(e instanceof TypeError)) return "not a TypeError: " + String(e)
    return null
  }
}

const urlAttributes = ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"]

const wptFiles = {
  // url-constructor.any.js, url-origin.any.js, url-statics-canparse.any.js
  // and url-statics-parse.any.js.
  "urltestdata.json": {
    id: (v) => JSON.stringify([v.input, v.base]),
    check(v, out, id) {
      const base = v.base === null ? undefined : v.base
      const u = tryURL(v.input, base)
      if (typeof u === "string") return u
      const static_ = (name, fallback) => (typeof URL[name] !== "function" ? fallback : base === undefined ? URL[name](v.input) : URL[name](v.input, base))
      const can = static_("canParse", u !== null)
      const parsed = static_("parse", u)
      if (can !== (u !== null) || (parsed === null) !== (u === null) || parsed !== null && parsed.href !== u.href) {
        out.disagreements.push(id)
      }
      if (v.failure) return u === null ? "" : "parsed as " + u.href + ", want a TypeError"
      if (u === null) return "TypeError, want " + v.href
      const why = differ(u, v, urlAttributes)
      if (why) return why
      if ("searchParams" in v && u.searchParams.toString() !== v.searchParams) {
        return "searchParams: got " + JSON.stringify(u.searchParams.toString()) + ", want " + JSON.stringify(v.searchParams)
      }
      if (!can) return "URL.canParse is false"
      if (parsed === null || parsed.href !== v.href) return "URL.parse: got " + (parsed && parsed.href)
      return ""
    },
  },
  // url-setters.any.js.
  "setters_tests.json": {
    vectors: setterVectors,
    id: (v) => v.setter + " " + JSON.stringify([v.href, v.new_value]),
    check(v) {
      const u = new URL(v.href)
      u[v.setter] = v.new_value
      return differ(u, v.expected, urlAttributes)
    },
  },
  // toascii.window.js: the constructor and the host and hostname setters.
  "toascii.json": {
    id: (v) => JSON.stringify(v.input),
    check(v) {
      const u = tryURL("https://" + v.input + "/x")
      if (typeof u === "string") return u
      if (v.output === null) {
        if (u !== null) return "parsed as " + u.href + ", want a TypeError"
      } else {
        if (u === null) return "TypeError, want " + v.output
        const why = differ(u, { host: v.output, hostname: v.output, pathname: "/x", href: "https://" + v.output + "/x" }, urlAttributes)
        if (why) return why
      }
      for (const setter of ["host", "hostname"]) {
        const s = new URL("https://x/x")
        s[setter] = v.input
        const want = v.output === null ? "x" : v.output
        if (s[setter] !== want) return setter + " setter: got " + JSON.stringify(s[setter]) + ", want " + JSON.stringify(want)
      }
      return ""
    },
  },
  // IdnaTestV2.window.js.
  "IdnaTestV2.json": {
    id: (v) => (v.input === "" ? undefined : JSON.stringify(v.input)),
    check(v) {
      let input = ""
      for (const c of v.input) input += [":", "/", "?", "#", "\\"].includes(c) ? encodeURIComponent(c) : c
      const u = tryURL("https://" + input + "/x")
      if (typeof u === "string") return u
      if (v.output === null) return u === null ? "" : "parsed as " + u.href + ", want a TypeError"
      if (u === null) return "TypeError, want " + v.output
      return differ(u, { host: v.output, hostname: v.output, pathname: "/x", href: "https://" + v.output + "/x" }, urlAttributes)
    },
  },
  // percent-encoding.window.js, UTF-8 only: a URL always encodes its query
  // and fragment as UTF-8 outside a document.
  "percent-encoding.json": {
    id: (v) => JSON.stringify(v.input),
    check(v) {
      const want = v.output["utf-8"]
      const u = new URL("https://doesnotmatter.invalid/?" + v.input + "#" + v.input)
      return differ(u, { search: "?" + want, hash: "#" + want }, ["search", "hash"])
    },
  },
  // textdecoder-labels.any.js, api-replacement-encodings.any.js and
  // api-invalid-label.any.js: every label of the Encoding standard, in
  // upper case and with ASCII whitespace around it, names its encoding;
  // other whitespace makes it no label.
  "encodings.json": {
    vectors: (data) => data.flatMap((s) => s.encodings.flatMap((e) => e.labels.map((label) => ({ label, name: e.name })))),
    id: (v) => v.label,
    check(v) {
      const decoderName = (label) => {
        try {
          return new TextDecoder(label).encoding
        } catch (e) {
          return e.name
        }
      }
      const forms = [v.label, v.label.toUpperCase()]
      for (const ws of [" ", "\t", "\n", "\f", "\r"]) forms.push(ws + v.label, v.label + ws, ws + v.label + ws)
      const want = v.name === "replacement" ? "RangeError" : v.name.toLowerCase()
      for (const form of forms) {
        const got = decoderName(form)
        if (got !== want) return JSON.stringify(form) + ": got " + got + ", want " + want
      }
      for (const bad of ["\u0000", "\u000b", "\u00a0", "\u2028", "\u2029"]) {
        for (const form of [bad + v.label, v.label + bad]) {
          const got = decoderName(form)
          if (got !== "RangeError") return JSON.stringify(form) + ": got " + got + ", want RangeError"
        }
      }
      return ""
    },
  },
  // utf-8-decode.json and text-decode.json (PiCloud's own vectors):
  // TextDecoder in replacement and fatal mode, chunks decoded with
  // stream: true but for the last.
  "utf-8-decode.json": { id: (v) => v.name, check: checkDecode },
  "text-decode.json": { id: (v) => v.name, check: checkDecode },
}

function checkDecode(v) {
  const label = v.encoding || "utf-8"
  const decode = (decoder) => {
    let out = ""
    v.chunks.forEach((c, i) => (out += decoder.decode(new Uint8Array(c), { stream: i < v.chunks.length - 1 })))
    return out
  }
  const esc = (s) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"))
  const got = decode(new TextDecoder(label, { ignoreBOM: !!v.ignoreBOM }))
  if (got !== v.output) return "got " + esc(got) + ", want " + esc(v.output)
  let threw = null
  try {
    decode(new TextDecoder(label, { fatal: true, ignoreBOM: !!v.ignoreBOM }))
  } catch (e) {
    threw = e
  }
  if (v.valid && threw) return "fatal mode threw " + String(threw)
  if (!v.valid && !(threw instanceof TypeError)) return "fatal mode: " + (threw ? String(threw) : "no error") + ", want a TypeError"
  return ""
}

// wptRunAPIs runs the groups of webapis.js: for each API, in order,
// { api, total, failures: [{ id, why }] }, a case failing when what it
// returns (or resolves to) is not its expected JSON value. An id is the
// case's name.
async function wptRunAPIs(groups) {
  const out = []
  for (const g of groups) {
    const r = { api: g.api, total: 0, failures: [], disagreements: [], missing: [] }
    for (const [name, fn, want] of g.cases) {
      r.total++
      let why = ""
      try {
        const got = showJSON(await fn())
        if (got !== showJSON(want)) why = "got " + got + ", want " + showJSON(want)
      } catch (e) {
        why = "threw " + String(e)
      }
      if (why) r.failures.push({ id: name, why })
    }
    out.push(r)
  }
  return out
}

function showJSON(v) {
  return JSON.stringify(v, (k, x) => (x === undefined ? "(undefined)" : typeof x === "bigint" ? "(bigint)" : x))
}

// The helpers of webapis.js's cases.

// errorName is the name of what fn throws, or "no error".
function errorName(fn) {
  try {
    fn()
  } catch (e) {
    return e && e.name
  }
  return "no error"
}

// rejection is the name of what the promise fn returns rejects with.
async function rejection(fn) {
  try {
    await fn()
  } catch (e) {
    return e && e.name
  }
  return "no error"
}

function hex(buf) {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("")
}

function utf8(s) {
  return new TextEncoder().encode(s)
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// hmacAll is HMAC-SHA-256, -384 and -512 of data under key, in hex.
async function hmacAll(key, data) {
  const out = []
  for (const hash of ["SHA-256", "SHA-384", "SHA-512"]) {
    const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"])
    out.push(hex(await crypto.subtle.sign("HMAC", k, utf8(data))))
  }
  return out
}
