// A client of PiCloud's admin API, like the terminal UI: the browser sends
// the session cookie (HttpOnly, Path=/api/v1/admin) with every call.

/** An error answer of the API: its status and its sentence for a person. */
export class APIError extends Error {
	status: number;
	body: Record<string, unknown>;
	constructor(status: number, message: string, body: Record<string, unknown>) {
		super(message);
		this.status = status;
		this.body = body;
	}
}

export const adminBase = '/api/v1/admin';

/** call sends one request to the admin API and decodes its JSON answer. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
	const init: RequestInit = { method, headers: {}, credentials: 'same-origin' };
	if (body !== undefined) {
		init.body = JSON.stringify(body);
		(init.headers as Record<string, string>)['Content-Type'] = 'application/json';
	}
	let res: Response;
	try {
		res = await fetch(adminBase + path, init);
	} catch (e) {
		throw new APIError(0, `the board does not answer (${method} ${path}): ${String(e)}`, {});
	}
	if (res.status === 204) return undefined as T;
	const text = await res.text();
	let data: Record<string, unknown> = {};
	try {
		data = text ? JSON.parse(text) : {};
	} catch {
		data = { error: text };
	}
	if (!res.ok) {
		const msg = typeof data.error === 'string' ? data.error : `${res.status} ${res.statusText}`;
		throw new APIError(res.status, msg, data);
	}
	return data as T;
}

export interface User {
	id: string;
	username: string;
	role: string;
}

export interface App {
	id: string;
	name: string;
	description: string;
	created_at: string;
}

export interface Script {
	id: string;
	app_id: string;
	name: string;
	language: string;
	active_version: number;
	latest_version: number;
	source?: string;
	updated_at: string;
}

export interface Version {
	version: number;
	source?: string;
	created_by?: string;
	created_at: string;
	active: boolean;
}

export interface Route {
	id: string;
	script_id: string;
	method: string;
	path: string;
}

export interface Execution {
	id: number;
	app_id: string;
	script_id: string;
	script_version: number;
	request_id: string;
	method: string;
	path: string;
	status: number;
	duration_us: number;
	console: unknown;
	error_code?: string;
	error?: string;
	created_at: string;
}

/** message says what went wrong in a sentence, whatever was thrown. */
export function message(e: unknown): string {
	return e instanceof Error ? e.message : String(e);
}
