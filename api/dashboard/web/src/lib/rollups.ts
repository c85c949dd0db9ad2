// Invocation rollups of the admin API (GET /metrics): requests and errors
// of each script per minute, spread over the last minutes for a chart.

/** Rollup is one script's requests in one minute, as the API gives it. */
export interface Rollup {
	app_id: string;
	script_id: string;
	at: string;
	count: number;
	errors: number;
}

/** Series is a chart's requests and errors per minute, oldest first. */
export interface Series {
	requests: number[];
	errors: number[];
}

/**
 * perMinute spreads rollups over the n minutes that end with the one of
 * now, for each script and, under "", for all of them together.
 * Rollups outside those minutes are left out.
 */
export function perMinute(rollups: Rollup[], n: number, now: Date): Map<string, Series> {
	const minute = 60_000;
	const last = Math.floor(now.getTime() / minute) * minute;
	const first = last - (n - 1) * minute;
	const out = new Map<string, Series>();
	const add = (key: string, i: number, r: Rollup) => {
		let s = out.get(key);
		if (!s) {
			s = { requests: new Array(n).fill(0), errors: new Array(n).fill(0) };
			out.set(key, s);
		}
		s.requests[i] += r.count;
		s.errors[i] += r.errors;
	};
	for (const r of rollups) {
		const at = Math.floor(new Date(r.at).getTime() / minute) * minute;
		if (Number.isNaN(at) || at < first || at > last) continue;
		const i = (at - first) / minute;
		add(r.script_id, i, r);
		add('', i, r);
	}
	return out;
}

/** sum adds up a series' values. */
export function sum(values: number[]): number {
	return values.reduce((a, b) => a + b, 0);
}
