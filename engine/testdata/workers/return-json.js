// Answer with JSON built from an object: Response.json sets the content type.
export default {
  async fetch(request) {
    const data = { hello: "world", method: request.method, list: [1, 2, 3] }
    return Response.json(data)
  },
}
