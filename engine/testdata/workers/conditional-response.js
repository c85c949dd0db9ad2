// Answer differently by method, by path and by a request header.
export default {
  async fetch(request) {
    const url = new URL(request.url)
    if (request.method === "POST") {
      return new Response("Posted", { status: 201 })
    }
    if (url.pathname.startsWith("/admin")) {
      return new Response("Forbidden", { status: 403 })
    }
    if ((request.headers.get("user-agent") || "").includes("curl")) {
      return new Response("Hello, curl")
    }
    return new Response("Hello, browser")
  },
}
