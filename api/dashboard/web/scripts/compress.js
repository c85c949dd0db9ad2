// compress writes .gz and .br next to each hashed asset of the build, so
// that the daemon serves them without compressing on every request. Fixed
// settings and no timestamps: the same input gives the same bytes.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const root = new URL('../../build/_app/immutable/', import.meta.url).pathname;

function walk(dir) {
	for (const name of readdirSync(dir).sort()) {
		const p = join(dir, name);
		if (statSync(p).isDirectory()) walk(p);
		else if (/\.(js|css)$/.test(name)) compress(p);
	}
}

function compress(p) {
	const data = readFileSync(p);
	if (data.length < 1024) return;
	writeFileSync(p + '.gz', gzipSync(data, { level: 9 }));
	writeFileSync(
		p + '.br',
		brotliCompressSync(data, {
			params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length }
		})
	);
}

walk(root);
