import { describe, expect, it } from 'vitest';
import { APIError } from './api';
import { usersError, usersPath } from './appusers';

describe('usersPath', () => {
	it('writes the first page without after', () => {
		expect(usersPath('a1', '', '')).toBe('/apps/a1/users?limit=20');
	});
	it('encodes the search and the email to start after', () => {
		expect(usersPath('a1', ' ann+x@shop ', 'bob&co@shop.test', 5)).toBe(
			'/apps/a1/users?search=ann%2Bx%40shop&after=bob%26co%40shop.test&limit=5'
		);
	});
});

describe('usersError', () => {
	it('says plainly who may manage users on a 403', () => {
		expect(usersError(new APIError(403, 'forbidden', {}))).toContain('Only owners and admins');
	});
	it('passes other errors on', () => {
		expect(usersError(new APIError(404, 'no such app', {}))).toBe('no such app');
	});
});
