import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	plugins: [sveltekit()],
	build: { reportCompressedSize: false },
	// The editor's TypeScript worker is an ES module (a hashed file of its
	// own under _app/immutable/workers).
	worker: { format: 'es' },
	test: { include: ['src/**/*.test.ts'], environment: 'node' }
});
