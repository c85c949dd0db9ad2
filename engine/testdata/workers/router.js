// A small router over the URL's path, with a JSON 404.
const routes = {
  "GET /": () => new Response("home"),
  "GET /api/time": () => Response.json({ epoch: 0 }),
  "POST /api/echo": async (request) => Response.json(await request.json()),
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url)
    const route = routes[request.method + " " + pathname]
    if (!route) return Response.json({ error: "no route for " + request.method + " " + pathname }, { status: 404 })
    return route(request)
  },
}
