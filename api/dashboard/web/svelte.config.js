import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// A single-page app: every path under /admin answers index.html and
		// the router takes over; the daemon serves the files (api/dashboard).
		adapter: adapter({ pages: '../build', assets: '../build', fallback: 'index.html', strict: true }),
		paths: { base: '/admin', relative: false },
		// A fixed name: the build must give the same bytes every time, and the
		// daemon's version is what changes the files anyway.
		version: { name: 'picloud', pollInterval: 0 },
		output: { bundleStrategy: 'split' },
		// The daemon sends the Content-Security-Policy header, with the hash
		// of this page's one inline script (api/dashboard computes it).
		csp: { mode: 'hash' }
	}
};

export default config;
