/** bytes says a size in bytes for a person, in binary units. */
export function bytes(n: number | undefined): string {
	if (n === undefined || n === null) return '—';
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let v = n;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** seconds says a span of seconds as days, hours and minutes. */
export function span(s: number | undefined): string {
	if (s === undefined || s === null) return '—';
	const d = Math.floor(s / 86400);
	const h = Math.floor((s % 86400) / 3600);
	const m = Math.floor((s % 3600) / 60);
	if (d > 0) return `${d} d ${h} h`;
	if (h > 0) return `${h} h ${m} min`;
	return `${m} min ${s % 60} s`;
}
