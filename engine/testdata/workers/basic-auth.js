// HTTP Basic authentication: the credentials compared in constant time
// (crypto.subtle.timingSafeEqual, a Workers extension), a 401 with a
// challenge otherwise.
const USER = "admin"

function equal(a, b) {
  const enc = new TextEncoder()
  const x = enc.encode(a), y = enc.encode(b)
  if (x.byteLength !== y.byteLength) return false
  return crypto.subtle.timingSafeEqual(x, y)
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url)
    if (pathname === "/") return new Response("Anyone can see this")
    const authorization = request.headers.get("Authorization")
    if (!authorization) {
      return new Response("You need to log in.", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="my scope", charset="UTF-8"' } })
    }
    const [scheme, encoded] = authorization.split(" ")
    if (!encoded || scheme !== "Basic") return new Response("Malformed authorization header.", { status: 400 })
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0))).normalize()
    const index = decoded.indexOf(":")
    if (index === -1 || /[\0-\x1F\x7F]/.test(decoded)) return new Response("Invalid authorization value.", { status: 400 })
    const user = decoded.substring(0, index), pass = decoded.substring(index + 1)
    if (!equal(user, USER) || !equal(pass, env.PASSWORD)) {
      return new Response("You need to log in.", { status: 401, headers: { "WWW-Authenticate": 'Basic realm="my scope", charset="UTF-8"' } })
    }
    return new Response("🎉 You have private access!", { headers: { "Cache-Control": "no-store" } })
  },
}
