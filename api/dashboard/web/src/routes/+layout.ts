// The dashboard is a single-page app: nothing is rendered on a server or
// ahead of time; the daemon answers every path under /admin with index.html.
export const ssr = false;
export const prerender = false;
export const trailingSlash = 'ignore';
