// Log what a request carries, as the logging examples do: its headers
// as a Map, the names of its query parameters as a Set.
export default {
  async fetch(request) {
    console.log(new Map(request.headers))
    console.log(new Set(new URL(request.url).searchParams.keys()))
    console.log("bytes:", new TextEncoder().encode("hi"))
    return new Response("logged")
  },
}
