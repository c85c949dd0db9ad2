import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { getAutocompletion, getLints } from '@valtown/codemirror-ts/worker';
import { createEnv, libFiles } from './tsenv';
import { scriptPath } from './paths';
// The declarations the daemon serves at /api/v1/picloud.d.ts.
import types from '../../../../../../engine/types/picloud.d.ts?raw';

function lints(path: string, source: string) {
	return getLints({ env: createEnv(ts, types, path, source), path, diagnosticCodesToIgnore: [] });
}

describe('the editor TypeScript environment', () => {
	it('bundles the ES2022 library and not the DOM', () => {
		expect(Object.keys(libFiles)).toContain('lib.es2022.d.ts');
		expect(Object.keys(libFiles)).toContain('lib.es5.d.ts');
		expect(Object.keys(libFiles).filter((n) => /dom|webworker|full|esnext/.test(n))).toEqual([]);
	});

	it('finds a type error in TypeScript, with its place', () => {
		const src = 'const n: number = "x"\nexport default () => new Response(String(n))\n';
		const found = lints(scriptPath(true), src);
		expect(found).toHaveLength(1);
		expect(found[0].message).toBe("Type 'string' is not assignable to type 'number'.");
		expect(src.slice(found[0].from, found[0].to)).toBe('n');
		expect(found[0].severity).toBe('error');
	});

	it('knows the runtime from picloud.d.ts and the SDK module', () => {
		const src = [
			'import { kv } from "picloud"',
			'export default {',
			'  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {',
			'    const n = await kv.collection("hits").get<number>("n", "json")',
			'    const id = crypto.randomUUID()',
			'    return Response.json({ n, id, at: new URL(req.url).pathname, p: ctx.params, e: env.X })',
			'  },',
			'} satisfies Handler',
			''
		].join('\n');
		expect(lints(scriptPath(true), src)).toEqual([]);
	});

	it('has no DOM: document is unknown to a script', () => {
		const found = lints(scriptPath(true), 'export default () => document.title\n');
		expect(found).toHaveLength(1);
		expect(found[0].message).toMatch(/^Cannot find name 'document'\./);
	});

	it('does not check types in JavaScript, but finds its syntax errors', () => {
		expect(lints(scriptPath(false), 'const n = 1\nn.nope()\nexport default () => new Response("x")\n')).toEqual([]);
		expect(lints(scriptPath(false), 'export default () => new Response("x"\n').map((d) => d.message)).toEqual(["')' expected."]);
	});

	it('completes the SDK after kv. in TypeScript and JavaScript', async () => {
		for (const typescript of [true, false]) {
			const src = 'import { kv } from "picloud"\nkv.';
			const path = scriptPath(typescript);
			const env = createEnv(ts, types, path, src);
			const got = await getAutocompletion({ env, path, context: { pos: src.length, explicit: false } });
			expect(got?.options.map((o) => o.label)).toContain('collection');
		}
	});
});
