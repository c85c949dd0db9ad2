// Runs the examples of cases.json in Node.js the way a Workers runtime
// calls a module Worker: the default export's fetch(request, env, ctx).
// Usage: node run-node.mjs DIR, where DIR holds cases.json and each
// example copied as NAME.mjs; prints one answer per request, in order,
// as JSON: [{ example, status, headers, setCookie, body, logs } | { example, error }],
// logs being what console.log printed while the request was handled.
import { readFileSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { format } from "node:util"

const dir = process.argv[2]
const cases = JSON.parse(readFileSync(dir + "/cases.json", "utf8"))
const out = []
let logs = []
console.log = (...args) => logs.push(format(...args))
for (const c of cases) {
  if (c.node) continue
  const worker = (await import(pathToFileURL(dir + "/" + c.example.replace(/\.js$/, ".mjs")))).default
  for (const r of c.requests) {
    try {
      logs = []
      const waits = []
      const ctx = { waitUntil: (p) => waits.push(p), passThroughOnException() {} }
      const request = new Request(r.url, { method: r.method, headers: r.headers || {}, body: r.body === undefined ? undefined : r.body })
      const response = await worker.fetch(request, c.env || {}, ctx)
      await Promise.all(waits)
      const headers = {}
      for (const [k, v] of response.headers) if (k !== "set-cookie") headers[k] = v
      out.push({ example: c.example, status: response.status, headers, setCookie: response.headers.getSetCookie(), body: await response.text(), logs })
    } catch (e) {
      out.push({ example: c.example, error: String(e) })
    }
  }
}
process.stdout.write(JSON.stringify(out))
