// Helpers of the data browser (kv and docs), kept apart from the screens so
// that they are tested on their own.

/**
 * keyPath writes a kv key as the path segment(s) the admin API reads after
 * `/keys/`: percent-encoded UTF-8, with a key of only `.` or `..` written
 * `%2E` or `%2E%2E`, since clients fold dot segments.
 */
export function keyPath(key: string): string {
	if (key === '.' || key === '..') return key.replaceAll('.', '%2E');
	return encodeURIComponent(key);
}

/** KVType is the type of a kv value, as the API names it. */
export type KVType = 'json' | 'text' | 'bytes';

/**
 * valueText shows a kv value for editing: JSON indented, text as it is,
 * bytes as the base64 the API gives.
 */
export function valueText(type: string, value: unknown): string {
	if (type === 'json') return JSON.stringify(value, null, 2);
	return typeof value === 'string' ? value : String(value ?? '');
}

/**
 * parseValue reads an edited kv value back into the shape the API takes;
 * JSON that does not parse is an error naming where.
 */
export function parseValue(type: string, text: string): unknown {
	if (type !== 'json') return text;
	try {
		return JSON.parse(text);
	} catch (e) {
		throw new Error(`the value is not JSON: ${e instanceof Error ? e.message : String(e)}`);
	}
}

/** parseDoc reads an edited document: a JSON object, or an error saying why not. */
export function parseDoc(text: string): Record<string, unknown> {
	let doc: unknown;
	try {
		doc = JSON.parse(text);
	} catch (e) {
		throw new Error(`the document is not JSON: ${e instanceof Error ? e.message : String(e)}`);
	}
	if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
		throw new Error('a document is a JSON object, {…}');
	}
	return doc as Record<string, unknown>;
}
