// A/B testing by cookie: a visitor in a group keeps it; a new one is put
// in one by a hash of a header, and told so with a cookie.
const NAME = "myExampleWorkersABTest"

async function groupOf(id) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id))
  return new Uint8Array(digest)[0] % 2 === 0 ? "control" : "test"
}

export default {
  async fetch(request) {
    const cookie = request.headers.get("cookie") || ""
    if (cookie.includes(`${NAME}=control`)) return new Response("control page")
    if (cookie.includes(`${NAME}=test`)) return new Response("test page")
    const group = await groupOf(request.headers.get("x-visitor") || "")
    const response = new Response(group + " page")
    response.headers.append("Set-Cookie", `${NAME}=${group}; path=/`)
    return response
  },
}
