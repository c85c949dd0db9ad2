// HTTP Basic authentication with node:buffer and node:crypto, as the
// Workers docs write it under nodejs_compat: the credentials decoded with
// Buffer, compared with timingSafeEqual.
import { Buffer } from "node:buffer"
import { timingSafeEqual } from "node:crypto"

const encoder = new TextEncoder()

function equal(a, b) {
  const x = encoder.encode(a), y = encoder.encode(b)
  return x.byteLength === y.byteLength && timingSafeEqual(x, y)
}

export default {
  async fetch(request, env) {
    const authorization = request.headers.get("Authorization") || ""
    const [scheme, encoded] = authorization.split(" ")
    if (scheme !== "Basic" || !encoded) {
      return new Response("You need to log in.", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="my scope", charset="UTF-8"' } })
    }
    const credentials = Buffer.from(encoded, "base64").toString()
    const index = credentials.indexOf(":")
    const user = credentials.substring(0, index), pass = credentials.substring(index + 1)
    if (index === -1 || !equal(user, env.USER) || !equal(pass, env.PASSWORD)) {
      return new Response("Wrong user or password.", { status: 401 })
    }
    return new Response(`Welcome, ${user}`)
  },
}
