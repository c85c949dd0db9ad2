// Build a response, then make a copy whose headers can be changed:
// new Response(body, response) copies status and headers.
export default {
  async fetch(request) {
    const original = new Response("body", { status: 201, headers: { "x-remove-me": "1", "x-keep": "a" } })
    const response = new Response(original.body, original)
    response.headers.append("x-hey", "there")
    response.headers.set("x-keep", "b")
    response.headers.delete("x-remove-me")
    return response
  },
}
