// Signed URLs: /generate/<path> answers a link signed with HMAC-SHA-256
// over the path and an expiry; /verify/<path>?expiry=..&mac=.. checks it.
// The secret comes from the environment, the clock from the query (now=)
// so that the answers do not depend on when they run.
const encoder = new TextEncoder()

async function key(secret) {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])
}

function base64url(buf) {
  return btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

function fromBase64url(s) {
  return Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const now = Number(url.searchParams.get("now"))
    const k = await key(env.SECRET)
    if (url.pathname.startsWith("/generate/")) {
      const path = url.pathname.replace("/generate/", "/")
      const expiry = now + 60
      const mac = await crypto.subtle.sign("HMAC", k, encoder.encode(path + expiry))
      return new Response(`${path}?expiry=${expiry}&mac=${base64url(mac)}`)
    }
    if (url.pathname.startsWith("/verify/")) {
      const path = url.pathname.replace("/verify/", "/")
      const expiry = url.searchParams.get("expiry"), mac = url.searchParams.get("mac")
      if (!expiry || !mac) return new Response("Missing query parameter", { status: 403 })
      const ok = await crypto.subtle.verify("HMAC", k, fromBase64url(mac), encoder.encode(path + expiry))
      if (!ok) return new Response("Invalid MAC", { status: 403 })
      if (now > Number(expiry)) return new Response(`URL expired at ${new Date(Number(expiry) * 1000).toISOString()}`, { status: 403 })
      return new Response("Fine, " + path)
    }
    return new Response("Not found", { status: 404 })
  },
}
