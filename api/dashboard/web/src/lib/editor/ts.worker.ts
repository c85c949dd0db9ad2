// The editor's TypeScript language service, in a web worker of its own:
// TypeScript is several megabytes, loaded only when an editor opens and
// kept off the page's thread. The page talks to it through comlink
// (types.ts); the checks are those of tsenv.ts, against the daemon's
// picloud.d.ts.
import * as Comlink from 'comlink';
import ts from 'typescript';
import { createWorker } from '@valtown/codemirror-ts/worker';
import { createEnv } from './tsenv';

let script = { path: '', source: '' };

// typeDefinitions fetches picloud.d.ts from the daemon that serves the
// dashboard: the declarations of the version that runs the scripts.
async function typeDefinitions(): Promise<string> {
	const res = await fetch('/api/v1/picloud.d.ts', { credentials: 'omit' });
	if (!res.ok) throw new Error(`GET /api/v1/picloud.d.ts answered ${res.status}`);
	return res.text();
}

const worker = createWorker(async () => createEnv(ts, await typeDefinitions(), script.path, script.source));

const api = {
	...worker,
	/** start makes the environment of the script at path, with its text. */
	async start(path: string, source: string): Promise<void> {
		script = { path, source };
		await worker.initialize();
	}
};

/** TypesAPI is what the worker answers. */
export type TypesAPI = typeof api;

Comlink.expose(api);
