import{aQ as e}from"./9hpG81zs.js";e();const i="5";typeof window<"u"&&((globalThis.__svelte??={}).v??=new Set).add(i);
