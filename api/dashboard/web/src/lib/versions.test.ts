import { describe, expect, it } from 'vitest';
import { activeOf, isDraft } from './versions';

const v = (version: number, active = false) => ({ version, active, created_at: '2026-01-01T00:00:00Z' });

describe('drafts', () => {
	// Versions 1 to 5, 3 active: 4 and 5 are drafts, 1 and 2 are older ones.
	const list = [v(5), v(4), v(3, true), v(2), v(1)];
	it('are the versions after the active one', () => {
		expect(activeOf(list)).toBe(3);
		expect(list.filter((x) => isDraft(x, activeOf(list))).map((x) => x.version)).toEqual([5, 4]);
	});
	it('never include the active version', () => {
		expect(isDraft(v(3, true), 2)).toBe(false);
	});
	it('are none when the latest is active', () => {
		const l = [v(2, true), v(1)];
		expect(l.filter((x) => isDraft(x, activeOf(l)))).toEqual([]);
	});
});
