// Read a POST body according to its content type, and say what was sent.
async function readRequestBody(request) {
  const contentType = request.headers.get("content-type") || ""
  if (contentType.includes("application/json")) {
    return JSON.stringify(await request.json())
  } else if (contentType.includes("application/text") || contentType.includes("text/")) {
    return request.text()
  } else if (contentType.includes("form")) {
    const formData = await request.formData()
    const body = {}
    for (const entry of formData.entries()) body[entry[0]] = entry[1]
    return JSON.stringify(body)
  }
  return "a file was sent"
}

export default {
  async fetch(request) {
    if (request.method === "POST") {
      return new Response(await readRequestBody(request))
    }
    return new Response("The request was a GET", { status: 405, headers: { allow: "POST" } })
  },
}
