// The script editor: CodeMirror 6 with JavaScript or TypeScript. This
// module is imported dynamically when an editor opens, so that the login
// and list pages do not load it.
import { basicSetup } from 'codemirror';
import { EditorState, Compartment } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';
import { javascript } from '@codemirror/lang-javascript';
import { setDiagnostics, lintGutter, type Diagnostic } from '@codemirror/lint';
import { oneDark } from '@codemirror/theme-one-dark';

export interface EditorOptions {
	doc: string;
	typescript: boolean;
	/** onSave runs on ctrl+s / cmd+s. */
	onSave: () => void;
	/** onChange runs after each change of the text. */
	onChange: (text: string) => void;
}

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

const layout = EditorView.theme({
	'&': { minHeight: '16rem', maxHeight: '70vh', fontSize: '14px' },
	'.cm-scroller': { fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace" },
	'&.cm-focused': { outline: '3px solid #2f6fde' }
});

/** createEditor mounts an editor in parent, which is inside root (a shadow root). */
export function createEditor(parent: HTMLElement, root: ShadowRoot, opts: EditorOptions): ScriptEditor {
	const theme = new Compartment();
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
	return {
		text: () => view.state.doc.toString(),
		replace(text) {
			view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
		},
		showError(err) {
			const diagnostics: Diagnostic[] = [];
			if (err) {
				const from = offsetOf(view.state, err.line, err.column);
				const line = view.state.doc.lineAt(from);
				diagnostics.push({ from, to: Math.max(from, line.to), severity: 'error', message: err.message, source: 'compile' });
			}
			view.dispatch(setDiagnostics(view.state, diagnostics));
		},
		focus: () => view.focus(),
		destroy() {
			dark.removeEventListener('change', follow);
			view.destroy();
		}
	};
}
