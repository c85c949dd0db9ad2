import { describe, expect, it } from 'vitest';
import { perMinute, sum, type Rollup } from './rollups';

const r = (script_id: string, at: string, count: number, errors = 0): Rollup => ({ app_id: 'a', script_id, at, count, errors });

describe('perMinute', () => {
	const now = new Date('2026-01-01T10:04:30Z');
	it('puts each rollup in its minute, oldest first, per script and in total', () => {
		const m = perMinute([r('s1', '2026-01-01T10:00:00Z', 3, 1), r('s1', '2026-01-01T10:04:00Z', 2), r('s2', '2026-01-01T10:04:00Z', 5)], 5, now);
		expect(m.get('s1')).toEqual({ requests: [3, 0, 0, 0, 2], errors: [1, 0, 0, 0, 0] });
		expect(m.get('s2')?.requests).toEqual([0, 0, 0, 0, 5]);
		expect(m.get('')?.requests).toEqual([3, 0, 0, 0, 7]);
	});
	it('leaves out minutes before the window or after now', () => {
		const m = perMinute([r('s1', '2026-01-01T09:59:00Z', 9), r('s1', '2026-01-01T10:05:00Z', 9)], 5, now);
		expect(m.size).toBe(0);
	});
	it('sums', () => {
		expect(sum([1, 2, 3])).toBe(6);
	});
});
