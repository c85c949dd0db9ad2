import{aQ as e}from"./BSwMWb6e.js";e();const i="5";typeof window<"u"&&((globalThis.__svelte??={}).v??=new Set).add(i);
