// A webhook receiver that checks an HMAC-SHA256 signature of the body
// (the X-Hub-Signature-256 header's form) with node:crypto, and answers
// with an ETag made from a SHA-1 of what it returns.
import { createHash, createHmac } from "node:crypto"
import { Buffer } from "node:buffer"

export default {
  async fetch(request, env) {
    const body = await request.text()
    const expected = "sha256=" + createHmac("sha256", env.WEBHOOK_SECRET).update(body).digest("hex")
    const given = request.headers.get("x-hub-signature-256") || ""
    if (given !== expected) return new Response("bad signature", { status: 401 })
    const event = JSON.parse(body)
    const answer = JSON.stringify({ received: event.action, bytes: Buffer.byteLength(body) })
    const etag = '"' + createHash("sha1").update(answer).digest("base64url") + '"'
    return new Response(answer, { headers: { "content-type": "application/json", etag } })
  },
}
