import{aQ as e}from"./Bu5mQnf_.js";e();const i="5";typeof window<"u"&&((globalThis.__svelte??={}).v??=new Set).add(i);
