// Small formatting helpers shared by the screens; pure, so unit-tested.

/** statusClass is the class that colours an HTTP status. */
export function statusClass(status: number): string {
	if (status >= 500 || status === 0) return 'error';
	if (status >= 400) return 'warn';
	return 'ok';
}

/** duration says a duration in microseconds for a person. */
export function duration(us: number): string {
	if (us < 1000) return `${us} µs`;
	if (us < 1_000_000) return `${(us / 1000).toFixed(1)} ms`;
	return `${(us / 1_000_000).toFixed(2)} s`;
}

/** pretty indents a JSON text, or returns the text as it is when it is not JSON. */
export function pretty(text: string): { text: string; json: boolean } {
	try {
		return { text: JSON.stringify(JSON.parse(text), null, 2), json: true };
	} catch {
		return { text, json: false };
	}
}

/** parseHeaders reads "Name: value" lines; it throws on a line without a colon. */
export function parseHeaders(text: string): [string, string][] {
	const out: [string, string][] = [];
	text.split('\n').forEach((raw, i) => {
		const line = raw.trim();
		if (!line) return;
		const at = line.indexOf(':');
		if (at <= 0) throw new Error(`header line ${i + 1} has no "Name: value": ${line}`);
		out.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
	});
	return out;
}

/** when says a time stamp in the browser's local time. */
export function when(iso: string): string {
	const d = new Date(iso);
	return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export interface ConsoleLine {
	time?: string;
	level: string;
	message: string;
}

/** consoleLines reads an execution's console record, whatever its shape. */
export function consoleLines(raw: unknown): ConsoleLine[] {
	if (!Array.isArray(raw)) return [];
	return raw.map((l) =>
		l && typeof l === 'object' && 'message' in l
			? { time: String((l as ConsoleLine).time ?? ''), level: String((l as ConsoleLine).level ?? 'info'), message: String((l as ConsoleLine).message) }
			: { level: 'info', message: typeof l === 'string' ? l : JSON.stringify(l) }
	);
}
