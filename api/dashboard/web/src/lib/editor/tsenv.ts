// The TypeScript environment the editor's language service checks a
// script in: the script, the daemon's picloud.d.ts and the ES2022 library
// declarations, which are part of the bundle (the board may have no
// internet). No DOM library: a script's Web APIs (Request, fetch, crypto,
// …) are declared by picloud.d.ts, as `picloud types` sets a project up.
// It runs in the editor's web worker (ts.worker.ts), and in the tests.
import { createSystem, createVirtualTypeScriptEnvironment, type VirtualTypeScriptEnvironment } from '@typescript/vfs';
import type * as TS from 'typescript';
import { typesPath } from './paths';

/**
 * libFiles are the ES2022 library's declarations by file name
 * (lib.es2022.d.ts and the files it references), read at build time.
 */
export const libFiles: Record<string, string> = Object.fromEntries(
	Object.entries(
		import.meta.glob(
			[
				'/node_modules/typescript/lib/lib.es{5,2015,2016,2017,2018,2019,2020,2021,2022}*.d.ts',
				'/node_modules/typescript/lib/lib.decorators*.d.ts',
				'!**/*.full.d.ts'
			],
			{ query: '?raw', import: 'default', eager: true }
		) as Record<string, string>
	).map(([path, text]) => [path.slice(path.lastIndexOf('/') + 1), text])
);

/**
 * compilerOptions are those of the tsconfig.json `picloud types` writes
 * (cmd/picloud/project), with JavaScript allowed but not checked: a
 * JavaScript script gets completion and hover, and only syntax errors.
 */
export function compilerOptions(ts: typeof TS): TS.CompilerOptions {
	return {
		target: ts.ScriptTarget.ES2022,
		module: ts.ModuleKind.ES2022,
		moduleResolution: ts.ModuleResolutionKind.Bundler,
		lib: ['lib.es2022.d.ts'],
		types: [],
		strict: true,
		noEmit: true,
		skipLibCheck: true,
		isolatedModules: true,
		allowJs: true,
		checkJs: false
	};
}

/**
 * createEnv makes the environment of a script at path with the text
 * source, checked against types (picloud.d.ts).
 */
export function createEnv(ts: typeof TS, types: string, path: string, source: string): VirtualTypeScriptEnvironment {
	const files = new Map<string, string>();
	for (const [name, text] of Object.entries(libFiles)) files.set('/' + name, text);
	files.set(typesPath, types);
	files.set(path, source);
	const system = createSystem(files);
	return createVirtualTypeScriptEnvironment(system, [typesPath, path], ts, compilerOptions(ts));
}
