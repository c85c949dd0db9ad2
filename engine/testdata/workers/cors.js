// Answer a CORS preflight, and add the CORS headers to other answers.
const corsHeaders = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET,HEAD,POST,OPTIONS",
  "Access-Control-Max-Age": "86400",
}

function handleOptions(request) {
  const headers = request.headers
  if (headers.get("Origin") !== null && headers.get("Access-Control-Request-Method") !== null &&
      headers.get("Access-Control-Request-Headers") !== null) {
    return new Response(null, {
      headers: { ...corsHeaders, "Access-Control-Allow-Headers": headers.get("Access-Control-Request-Headers") },
    })
  }
  return new Response(null, { headers: { Allow: "GET, HEAD, POST, OPTIONS" } })
}

export default {
  async fetch(request) {
    if (request.method === "OPTIONS") return handleOptions(request)
    const response = Response.json({ ok: true })
    const out = new Response(response.body, response)
    out.headers.set("Access-Control-Allow-Origin", request.headers.get("Origin") || "*")
    out.headers.append("Vary", "Origin")
    return out
  },
}
