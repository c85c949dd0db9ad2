// Request capture and replay of a script's versions (docs/workflow.md,
// "Capture and replay"): the API's shapes and small pure helpers.
import { APIError, message } from './api';

/** The most requests a script's capture keeps (model.MaxCaptureRequests). */
export const maxCaptureRequests = 200;

/** A script's capture setting, as GET/PUT .../capture answer it. */
export interface CaptureSetting {
	script_id: string;
	enabled: boolean;
	max_requests: number;
	redact_headers: string[] | null;
	updated_at?: string;
	captured: number;
	always_redacted: string[];
}

/** One request the capture kept, with the answer the active version gave. */
export interface CapturedRequest {
	id: number;
	version: number;
	method: string;
	url: string;
	request_headers: Record<string, string[]> | null;
	request_body: string;
	request_body_encoding: string;
	status: number;
	response_headers: Record<string, string[]> | null;
	response_body: string;
	response_body_encoding: string;
	created_at: string;
}

/** How one captured request's replay compares with its captured answer. */
export interface ReplayResult {
	id: number;
	method: string;
	url: string;
	same: boolean;
	status?: { captured: number; replayed: number };
	headers?: { name: string; captured: string[] | null; replayed: string[] | null }[];
	body?: { kind: string; changes?: string[]; diff?: string; captured_bytes: number; replayed_bytes: number };
	error?: { code: string; message: string };
}

/** A version's replay against the script's captured requests. */
export interface ReplayReport {
	script_id: string;
	version: number;
	capture_enabled: boolean;
	summary: { total: number; same: number; different: number; failed: number };
	requests: ReplayResult[];
}

/**
 * parseRedact reads header names separated by commas, spaces or new lines;
 * the API checks that each is a header name.
 */
export function parseRedact(text: string): string[] {
	return text
		.split(/[\s,]+/)
		.map((s) => s.trim())
		.filter((s) => s !== '');
}

/**
 * parseMax reads how many requests to keep; it throws with what is wrong
 * unless the text is a whole number from 1 to maxCaptureRequests.
 */
export function parseMax(text: string): number {
	const n = Number(text.trim());
	if (text.trim() === '' || !Number.isInteger(n) || n < 1 || n > maxCaptureRequests) {
		throw new Error(`Requests kept: a whole number from 1 to ${maxCaptureRequests}, not "${text.trim()}"`);
	}
	return n;
}

/** headerLines is headers as "Name: value" lines, names sorted. */
export function headerLines(h: Record<string, string[]> | null | undefined): string {
	if (!h) return '';
	return Object.keys(h)
		.sort()
		.flatMap((name) => (h[name] ?? []).map((v) => `${name}: ${v}`))
		.join('\n');
}

/** bodyText is a captured body for reading: text as it is, else said to be base64. */
export function bodyText(body: string, encoding: string): string {
	if (body === '') return '(empty)';
	return encoding === 'base64' ? `(binary, base64) ${body}` : body;
}

/** headerValue says one side of a header change; a side without the header is "(none)". */
export function headerValue(v: string[] | null | undefined): string {
	return v && v.length > 0 ? v.join(', ') : '(none)';
}

/** captureError says what went wrong; a 403 says plainly who may change capture. */
export function captureError(e: unknown): string {
	if (e instanceof APIError && e.status === 403) {
		return 'Only owners and admins turn capture on, off or change it; this is read-only for you.';
	}
	return message(e);
}
