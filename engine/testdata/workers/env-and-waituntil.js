// Read a variable of the environment; run work after the answer with
// ctx.waitUntil.
export default {
  async fetch(request, env, ctx) {
    ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 1)))
    return new Response(`${env.GREETING}, ${new URL(request.url).searchParams.get("name") || "world"}!`)
  },
}
