import { describe, expect, it } from 'vitest';
import { APIError } from './api';
import { bodyText, captureError, headerLines, headerValue, parseMax, parseRedact } from './capture';

describe('capture', () => {
	it('reads header names separated by commas, spaces or lines', () => {
		expect(parseRedact(' X-Api-Key, x-token\nX-Other  ')).toEqual(['X-Api-Key', 'x-token', 'X-Other']);
		expect(parseRedact('  ')).toEqual([]);
	});

	it('takes 1 to 200 requests and says what is wrong otherwise', () => {
		expect(parseMax(' 20 ')).toBe(20);
		expect(parseMax('200')).toBe(200);
		for (const bad of ['', '0', '201', '2.5', 'ten']) {
			expect(() => parseMax(bad)).toThrow('a whole number from 1 to 200');
		}
	});

	it('shows headers as sorted lines and bodies as text', () => {
		expect(headerLines({ 'X-B': ['2'], Accept: ['a', 'b'] })).toBe('Accept: a\nAccept: b\nX-B: 2');
		expect(headerLines(null)).toBe('');
		expect(bodyText('', 'text')).toBe('(empty)');
		expect(bodyText('<b>', 'text')).toBe('<b>');
		expect(bodyText('AAE=', 'base64')).toBe('(binary, base64) AAE=');
		expect(headerValue(null)).toBe('(none)');
		expect(headerValue(['a', 'b'])).toBe('a, b');
	});

	it('says who may change capture on a 403', () => {
		expect(captureError(new APIError(403, 'forbidden', {}))).toContain('Only owners and admins');
		expect(captureError(new APIError(400, 'max_requests must be between 1 and 200', {}))).toBe('max_requests must be between 1 and 200');
	});
});
