import { describe, expect, it } from 'vitest';
import { bytes, span } from './format.bytes';

describe('bytes and span', () => {
	it('says sizes in binary units', () => {
		expect(bytes(512)).toBe('512 B');
		expect(bytes(1536)).toBe('1.5 KiB');
		expect(bytes(3 * 1024 ** 3)).toBe('3.0 GiB');
		expect(bytes(undefined)).toBe('—');
	});
	it('says spans of time', () => {
		expect(span(59)).toBe('0 min 59 s');
		expect(span(3 * 3600 + 120)).toBe('3 h 2 min');
		expect(span(2 * 86400 + 3600)).toBe('2 d 1 h');
	});
});
