import { describe, expect, it } from 'vitest';
import { keyPath, parseDoc, parseValue, valueText } from './data';

describe('keyPath', () => {
	it('percent-encodes a key, slashes and all', () => {
		expect(keyPath('users/1 a?#%')).toBe('users%2F1%20a%3F%23%25');
	});
	it('writes dot keys so that they are not folded', () => {
		expect(keyPath('.')).toBe('%2E');
		expect(keyPath('..')).toBe('%2E%2E');
		expect(keyPath('a.b')).toBe('a.b');
	});
});

describe('values', () => {
	it('shows JSON indented and reads it back', () => {
		const text = valueText('json', { a: [1, 2] });
		expect(text).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
		expect(parseValue('json', text)).toEqual({ a: [1, 2] });
	});
	it('keeps text and base64 as they are', () => {
		expect(valueText('text', 'hi')).toBe('hi');
		expect(parseValue('bytes', 'aGk=')).toBe('aGk=');
	});
	it('says when JSON does not parse', () => {
		expect(() => parseValue('json', '{')).toThrow(/not JSON/);
	});
});

describe('parseDoc', () => {
	it('takes an object', () => {
		expect(parseDoc('{"x":1}')).toEqual({ x: 1 });
	});
	it('refuses anything else', () => {
		expect(() => parseDoc('[1]')).toThrow(/JSON object/);
		expect(() => parseDoc('3')).toThrow(/JSON object/);
		expect(() => parseDoc('{')).toThrow(/not JSON/);
	});
});
