import { describe, expect, it } from 'vitest';
import { EditorState } from '@codemirror/state';
import { offsetOf } from './codemirror';

describe('offsetOf', () => {
	const state = EditorState.create({ doc: 'ab\ncdef\ng' });
	it('finds a 1-based line and column', () => {
		expect(offsetOf(state, 1, 1)).toBe(0);
		expect(offsetOf(state, 2, 3)).toBe(5);
		expect(offsetOf(state, 3, 1)).toBe(8);
	});
	it('clamps places past the text, as a server may report them', () => {
		expect(offsetOf(state, 9, 1)).toBe(8);
		expect(offsetOf(state, 2, 99)).toBe(7);
		expect(offsetOf(state, 0, 0)).toBe(0);
	});
});
