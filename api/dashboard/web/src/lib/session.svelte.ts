import { call, type User } from './api';

// The logged-in user, shared by every screen; null before login.
export const session = $state<{ user: User | null; checked: boolean }>({ user: null, checked: false });

// The session token is kept for this tab only: running a script by id
// ("try it") takes it as a bearer token, since the cookie is scoped to the
// admin API and never sent to /api/v1/execute.
const tokenKey = 'picloud.token';

export function rememberToken(token: string) {
	sessionStorage.setItem(tokenKey, token);
}

export function bearerToken(): string | null {
	return sessionStorage.getItem(tokenKey);
}

/** refresh asks the API who is logged in; it leaves user null when nobody is. */
export async function refresh(): Promise<void> {
	try {
		session.user = await call<User>('GET', '/auth/me');
	} catch {
		session.user = null;
	}
	session.checked = true;
}

export async function logout(): Promise<void> {
	try {
		await call('POST', '/auth/logout');
	} finally {
		sessionStorage.removeItem(tokenKey);
		session.user = null;
	}
}
