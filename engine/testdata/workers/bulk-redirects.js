// Redirect the paths a table names; answer 404 for the rest.
const redirects = new Map([
  ["/old", "https://example.com/new"],
  ["/docs", "https://developers.example.com/"],
  ["/bulk1", "https://example.com/bulk1-target"],
])

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url)
    const location = redirects.get(pathname)
    if (location) return Response.redirect(location, 301)
    return new Response("Not found", { status: 404 })
  },
}
