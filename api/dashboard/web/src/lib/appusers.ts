// Helpers of an app's users screen, kept apart from it so that they are
// tested on their own.
import { APIError } from './api';

/** AppUser is a user of an app as the admin API shows it. */
export interface AppUser {
	id: string;
	app_id: string;
	email: string;
	data: unknown;
	verified: boolean;
	disabled: boolean;
	created_at: string;
	updated_at: string;
}

/** usersPage is how many users one page of the screen shows. */
export const usersPage = 20;

/**
 * usersPath is the admin API path of one page of an app's users: those
 * whose email contains search, after the email after (none for the first
 * page), limit of them.
 */
export function usersPath(appID: string, search: string, after: string, limit = usersPage): string {
	const q = new URLSearchParams();
	if (search.trim()) q.set('search', search.trim());
	if (after) q.set('after', after);
	q.set('limit', String(limit));
	return `/apps/${encodeURIComponent(appID)}/users?${q}`;
}

/**
 * usersError says what went wrong with an app's users; a 403 says plainly
 * who may manage them.
 */
export function usersError(e: unknown): string {
	if (e instanceof APIError && e.status === 403) {
		return `Only owners and admins manage an app's users; your account may not (${e.message}).`;
	}
	return e instanceof Error ? e.message : String(e);
}
