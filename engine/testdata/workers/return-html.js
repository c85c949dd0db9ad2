// A small HTML page, with the content type set by hand.
const page = `<!DOCTYPE html>
<html>
  <body>
    <h1>Hello from a Worker</h1>
  </body>
</html>`

export default {
  async fetch() {
    return new Response(page, { headers: { "content-type": "text/html;charset=UTF-8" } })
  },
}
