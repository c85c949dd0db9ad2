// What the dashboard says about a script's versions.
import type { Version } from './api';

/**
 * isDraft tells whether v is a draft of a script whose active version is
 * active: saved after it and not made active (docs/api.md, "Draft
 * versions"). An older version that is not active is one a rollback left
 * behind, not a draft.
 */
export function isDraft(v: Version, active: number): boolean {
	return !v.active && v.version > active;
}

/** activeOf is the number of the active version of the list, or 0. */
export function activeOf(versions: Version[]): number {
	return versions.find((v) => v.active)?.version ?? 0;
}
