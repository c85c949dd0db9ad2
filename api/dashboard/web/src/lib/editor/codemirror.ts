// The script editor: CodeMirror 6 with JavaScript or TypeScript. This
// module is imported dynamically when an editor opens, so that the login
// and list pages do not load it. Once it is up, it starts the TypeScript
// worker (types.ts), which brings completion, hover and, for TypeScript,
// type errors; one linter shows those and the server's compile error.
import { basicSetup } from 'codemirror';
import { EditorState, Compartment, StateEffect, StateField } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { javascript } from '@codemirror/lang-javascript';
import { autocompletion } from '@codemirror/autocomplete';
import { forceLinting, linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { oneDark } from '@codemirror/theme-one-dark';
import { tsAutocompleteWorker, tsFacetWorker, tsHoverWorker } from '@valtown/codemirror-ts';
import type { WorkerShape } from '@valtown/codemirror-ts/worker';
import { startTypes, type Types } from './types';
import { scriptPath } from './paths';

export interface EditorOptions {
	doc: string;
	typescript: boolean;
	/** onSave runs on ctrl+s / cmd+s. */
	onSave: () => void;
	/** onChange runs after each change of the text. */
	onChange: (text: string) => void;
	/** onTypes says whether type checking is on, or why it is off. */
	onTypes?: (state: TypesState) => void;
}

/** TypesState is the TypeScript worker's: starting, on, or off and why. */
export type TypesState = { state: 'starting' } | { state: 'on' } | { state: 'off'; reason: string };

/** ScriptEditor is an editor mounted in a page element. */
export interface ScriptEditor {
	text(): string;
	/** replace sets the whole text, as a load (not an edit) does. */
	replace(text: string): void;
	/** showError marks a compile error at a 1-based line and column; null clears. */
	showError(err: { line: number; column: number; message: string } | null): void;
	focus(): void;
	destroy(): void;
}

/** offsetOf is the document offset of a 1-based line and column, clamped. */
export function offsetOf(state: EditorState, line: number, column: number): number {
	const l = state.doc.line(Math.min(Math.max(line, 1), state.doc.lines));
	return Math.min(l.from + Math.max(column - 1, 0), l.to);
}

// The server's compile error: kept, and moved with the text, until the
// next save sets or clears it.
const setCompileError = StateEffect.define<Diagnostic | null>();
const compileError = StateField.define<Diagnostic | null>({
	create: () => null,
	update(value, tr) {
		for (const e of tr.effects) if (e.is(setCompileError)) return e.value;
		if (!value || !tr.docChanged) return value;
		const from = tr.changes.mapPos(value.from);
		return { ...value, from, to: Math.max(from, tr.changes.mapPos(value.to)) };
	}
});

/**
 * lintSource is the editor's one linter: TypeScript's diagnostics of the
 * script when the worker runs, and the server's compile error.
 */
async function lintSource(view: EditorView): Promise<Diagnostic[]> {
	const out: Diagnostic[] = [];
	// The facet is {} without the worker's extensions, not null.
	const ts = view.state.facet(tsFacetWorker);
	if (ts?.worker) {
		for (const d of await ts.worker.getLints({ path: ts.path, diagnosticCodesToIgnore: [] })) out.push({ ...d, source: 'TypeScript' });
	}
	const compile = view.state.field(compileError);
	if (compile) out.push(compile);
	return out;
}

/** typesOn are the extensions of a running worker. */
function typesOn(worker: WorkerShape, path: string) {
	return [
		tsFacetWorker.of({ worker, path }),
		EditorView.updateListener.of((u) => {
			if (u.docChanged) worker.updateFile({ path, code: u.state.doc.toString() });
		}),
		autocompletion({ override: [tsAutocompleteWorker()] }),
		tsHoverWorker()
	];
}

const layout = EditorView.theme({
	'&': { maxHeight: '70vh', fontSize: '14px' },
	// On the text, not the editor: a click anywhere in the empty space
	// below a short script lands in the text and focuses it.
	'.cm-content, .cm-gutter': { minHeight: '16rem' },
	'.cm-scroller': { fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace" },
	'&.cm-focused': { outline: '3px solid #2f6fde' },
	'.cm-tooltip-hover': { padding: '0.25rem 0.5rem', fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace", whiteSpace: 'pre-wrap', maxWidth: '40rem' }
});

/** createEditor mounts an editor in parent, which is inside root (a shadow root). */
export function createEditor(parent: HTMLElement, root: ShadowRoot, opts: EditorOptions): ScriptEditor {
	const theme = new Compartment();
	const types = new Compartment();
	const dark = window.matchMedia('(prefers-color-scheme: dark)');
	const view = new EditorView({
		parent,
		root,
		state: EditorState.create({
			doc: opts.doc,
			extensions: [
				keymap.of([
					{
						key: 'Mod-s',
						preventDefault: true,
						run: () => {
							opts.onSave();
							return true;
						}
					}
				]),
				basicSetup,
				javascript({ typescript: opts.typescript }),
				compileError,
				types.of([]),
				linter(lintSource, {
					delay: 300,
					// Again when the worker comes up or a save sets the compile error.
					needsRefresh: (u) =>
						u.startState.facet(tsFacetWorker) !== u.state.facet(tsFacetWorker) ||
						u.startState.field(compileError) !== u.state.field(compileError)
				}),
				lintGutter(),
				layout,
				EditorView.lineWrapping,
				theme.of(dark.matches ? oneDark : []),
				EditorView.contentAttributes.of({ 'aria-label': 'Script source' }),
				EditorView.updateListener.of((u) => {
					if (u.docChanged) opts.onChange(u.state.doc.toString());
				})
			]
		})
	});
	const follow = (e: MediaQueryListEvent) => view.dispatch({ effects: theme.reconfigure(e.matches ? oneDark : []) });
	dark.addEventListener('change', follow);
	// The worker starts after the editor is up, which works without it.
	let worker: Types | null = null;
	let gone = false;
	const path = scriptPath(opts.typescript);
	opts.onTypes?.({ state: 'starting' });
	startTypes(path, view.state.doc.toString()).then(
		(w) => {
			if (gone) return w.stop();
			worker = w;
			w.remote.updateFile({ path, code: view.state.doc.toString() });
			view.dispatch({ effects: types.reconfigure(typesOn(w.remote as unknown as WorkerShape, path)) });
			forceLinting(view);
			opts.onTypes?.({ state: 'on' });
		},
		(e) => {
			if (!gone) opts.onTypes?.({ state: 'off', reason: e instanceof Error ? e.message : String(e) });
		}
	);
	return {
		text: () => view.state.doc.toString(),
		replace(text) {
			view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
		},
		showError(err) {
			let d: Diagnostic | null = null;
			if (err) {
				const from = offsetOf(view.state, err.line, err.column);
				const line = view.state.doc.lineAt(from);
				d = { from, to: Math.max(from, line.to), severity: 'error', message: err.message, source: 'compile' };
			}
			view.dispatch({ effects: setCompileError.of(d) });
			forceLinting(view);
		},
		focus: () => view.focus(),
		destroy() {
			gone = true;
			worker?.stop();
			dark.removeEventListener('change', follow);
			view.destroy();
		}
	};
}
