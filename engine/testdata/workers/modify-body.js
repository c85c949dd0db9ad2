// Transform a text body: replace words in what was posted, keep the
// content type.
export default {
  async fetch(request) {
    const text = await request.text()
    const out = text.replaceAll("cat", "dog").toUpperCase()
    return new Response(out, { headers: { "content-type": request.headers.get("content-type") || "text/plain" } })
  },
}
