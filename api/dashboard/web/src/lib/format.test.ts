import { describe, expect, it } from 'vitest';
import { consoleLines, duration, parseHeaders, pretty, statusClass } from './format';

describe('format', () => {
	it('pretty-prints JSON and leaves other text alone', () => {
		expect(pretty('{"a":[1,2]}')).toEqual({ text: '{\n  "a": [\n    1,\n    2\n  ]\n}', json: true });
		expect(pretty('hello {')).toEqual({ text: 'hello {', json: false });
	});

	it('reads header lines and refuses a line without a colon', () => {
		expect(parseHeaders('X-A: 1\n\n Accept : text/plain \n')).toEqual([
			['X-A', '1'],
			['Accept', 'text/plain']
		]);
		expect(() => parseHeaders('X-A: 1\nbroken')).toThrow('header line 2');
	});

	it('says durations and statuses', () => {
		expect(duration(250)).toBe('250 µs');
		expect(duration(12_340)).toBe('12.3 ms');
		expect(duration(2_500_000)).toBe('2.50 s');
		expect([200, 404, 500, 0].map(statusClass)).toEqual(['ok', 'warn', 'error', 'error']);
	});

	it('reads console records', () => {
		expect(consoleLines([{ level: 'warn', message: 'hi', time: 't' }, 'plain'])).toEqual([
			{ level: 'warn', message: 'hi', time: 't' },
			{ level: 'info', message: 'plain' }
		]);
		expect(consoleLines(null)).toEqual([]);
	});
});
