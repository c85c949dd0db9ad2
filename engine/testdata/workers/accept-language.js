// Pick a greeting from the Accept-Language header, by quality.
const greetings = { en: "Hello", fr: "Bonjour", de: "Hallo", ja: "こんにちは" }

function languages(header) {
  return header.split(",").map((part) => {
    const [tag, ...params] = part.trim().split(";")
    const q = params.find((p) => p.trim().startsWith("q="))
    return { lang: tag.split("-")[0].toLowerCase(), q: q ? Number(q.trim().slice(2)) : 1 }
  }).sort((a, b) => b.q - a.q)
}

export default {
  async fetch(request) {
    for (const { lang } of languages(request.headers.get("accept-language") || "en")) {
      if (greetings[lang]) {
        return new Response(greetings[lang], { headers: { "content-language": lang, "content-type": "text/plain;charset=UTF-8" } })
      }
    }
    return new Response(greetings.en, { headers: { "content-language": "en" } })
  },
}
