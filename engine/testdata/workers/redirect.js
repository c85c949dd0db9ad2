// Send every request elsewhere, keeping the path and the query.
const base = "https://example.com"
const statusCode = 301

export default {
  async fetch(request) {
    const url = new URL(request.url)
    return Response.redirect(base + url.pathname + url.search, statusCode)
  },
}
