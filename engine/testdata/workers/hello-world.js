// The smallest module Worker: every request gets the same text answer.
export default {
  async fetch(request, env, ctx) {
    return new Response("Hello World!")
  },
}
