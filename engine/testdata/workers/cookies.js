// Read a cookie from the Cookie header, and set two cookies at once.
function getCookie(request, name) {
  const cookies = request.headers.get("Cookie") || ""
  for (const part of cookies.split(";")) {
    const [k, ...v] = part.trim().split("=")
    if (k === name) return decodeURIComponent(v.join("="))
  }
  return null
}

export default {
  async fetch(request) {
    const value = getCookie(request, "session")
    if (value !== null) return new Response("session is " + value)
    const headers = new Headers()
    headers.append("Set-Cookie", "session=abc123; Path=/; HttpOnly; Secure; SameSite=Strict")
    headers.append("Set-Cookie", "theme=dark; Path=/")
    return new Response("cookies set", { headers })
  },
}
