// The editor's side of the TypeScript worker (ts.worker.ts): starts it,
// and says why when it does not start, so that the editor keeps working
// without type checking.
import * as Comlink from 'comlink';
import type { TypesAPI } from './ts.worker';

/** Types is a started worker with the script's environment. */
export interface Types {
	remote: Comlink.Remote<TypesAPI>;
	stop(): void;
}

/** startTypes starts the worker with the script at path. */
export async function startTypes(path: string, source: string): Promise<Types> {
	const worker = new Worker(new URL('./ts.worker.ts', import.meta.url), { type: 'module', name: 'typescript' });
	const failed = new Promise<never>((_, reject) =>
		worker.addEventListener('error', (e) => {
			e.preventDefault();
			reject(new Error(e.message || 'the TypeScript worker did not load'));
		})
	);
	const remote = Comlink.wrap<TypesAPI>(worker);
	try {
		await Promise.race([remote.start(path, source), failed]);
	} catch (e) {
		worker.terminate();
		throw e;
	}
	return { remote, stop: () => worker.terminate() };
}
