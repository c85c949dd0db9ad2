// The files of the editor's TypeScript environment (tsenv.ts), in a
// module of their own: the editor needs the names, not the environment.

/** typesPath is where picloud.d.ts is in the environment. */
export const typesPath = '/picloud.d.ts';

/** scriptPath is the file the editor's script is, by its language. */
export function scriptPath(typescript: boolean): string {
	return typescript ? '/script.ts' : '/script.js';
}
