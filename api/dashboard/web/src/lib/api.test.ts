import { afterEach, describe, expect, it, vi } from 'vitest';
import { APIError, call } from './api';

afterEach(() => vi.unstubAllGlobals());

function answer(status: number, body: string) {
	const fetch = vi.fn(async () => new Response(status === 204 ? null : body, { status }));
	vi.stubGlobal('fetch', fetch);
	return fetch;
}

describe('call', () => {
	it('sends JSON to the admin API and decodes the answer', async () => {
		const fetch = answer(201, '{"id":"a1"}');
		const r = await call<{ id: string }>('POST', '/apps', { name: 'shop' });
		expect(r.id).toBe('a1');
		expect(fetch).toHaveBeenCalledWith('/api/v1/admin/apps', expect.objectContaining({ method: 'POST', body: '{"name":"shop"}' }));
	});

	it("throws the API's sentence and body on an error", async () => {
		answer(409, '{"error":"another save came first","base_version":2,"latest_version":3}');
		const e = (await call('PUT', '/scripts/s1', { source: 'x' }).catch((e) => e)) as APIError;
		expect(e).toBeInstanceOf(APIError);
		expect(e.status).toBe(409);
		expect(e.message).toBe('another save came first');
		expect(e.body.latest_version).toBe(3);
	});

	it('says what failed when the answer is not JSON', async () => {
		answer(502, 'Bad Gateway');
		await expect(call('GET', '/apps')).rejects.toThrow('Bad Gateway');
	});

	it('takes 204 as no value', async () => {
		answer(204, '');
		await expect(call('DELETE', '/routes/r1')).resolves.toBeUndefined();
	});
});
