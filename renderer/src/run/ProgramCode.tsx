import { useEffect, useMemo, useRef } from 'react';
import { Compartment, EditorState, StateEffect, StateField, type Range } from '@codemirror/state';
import { Decoration, EditorView, WidgetType, lineNumbers, type DecorationSet } from '@codemirror/view';
import { javascript } from '@codemirror/lang-javascript';
import { minimalSetup } from 'codemirror';
import { DEFAULT_CACHED_FROM, programDecorations, type ProgramDecorations } from './programDecorations.ts';
import type { ExecutionEntry, ProgramAttempt } from './runState.ts';

/**
 * One program in a CodeMirror 6 editor: JavaScript highlighting, line numbers, long lines wrapped,
 * read-only unless `editable`. While read-only, the run's trace is drawn on the code as
 * decorations (programDecorations): the executing line, error lines with their notes, each
 * binding's value at the end of its line, simulated and cached calls. While editing they are left
 * off, since they describe the program as it ran, not as edited.
 *
 * CSP: CodeMirror mounts its theme as a <style> element (style-mod). The app's policy allows inline
 * styles already (`style-src 'self' 'unsafe-inline'`, for React style attributes), so no nonce is
 * needed; a nonce in style-src would make browsers ignore 'unsafe-inline' and break those
 * attributes. Scripts stay `'self'` only: CodeMirror evaluates no code.
 */
export function ProgramCode(props: {
  program: ProgramAttempt;
  /** The execution whose bindings, tool calls and error are shown on the code. */
  execution: ExecutionEntry | null;
  executing: { line: number; inFlight: boolean } | null;
  focusLine: number | null;
  /** Where cached results came from, for their tooltips. Default: DEFAULT_CACHED_FROM. */
  cachedFrom?: string;
  /** The code can be edited (the trace's decorations are then hidden). Default: false. */
  editable?: boolean;
  /** Called with the whole text after each edit. */
  onEdit?: (code: string) => void;
}): React.JSX.Element {
  const { program, execution, executing, focusLine, editable = false, onEdit } = props;
  const cachedFrom = props.cachedFrom ?? DEFAULT_CACHED_FROM;
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onEditRef = useRef(onEdit);
  onEditRef.current = onEdit;
  const editing = useRef(new Compartment());
  const label = useRef(new Compartment());
  const ariaLabel = `Program, attempt ${program.attempt} (${program.purpose})${editable ? ', editing' : ''}`;

  const marks = useMemo(
    () => programDecorations({ program, execution, executing, focusLine, cachedFrom }),
    [program, execution, executing, focusLine, cachedFrom],
  );

  // One editor per mounted view; the document and the marks are replaced as props change.
  useEffect(() => {
    const created = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: program.code,
        extensions: [
          minimalSetup,
          lineNumbers(),
          javascript(),
          EditorView.lineWrapping,
          traceMarks,
          editing.current.of(editableExtensions(false)),
          label.current.of(EditorView.contentAttributes.of({ 'aria-label': ariaLabel })),
          EditorView.updateListener.of((update) => {
            // Only the user's edits: resetting the code on leaving edit mode is not one.
            if (update.docChanged && update.state.facet(EditorView.editable))
              onEditRef.current?.(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
    // The editor is created once (with the first props); the effects below keep it in step.
  }, []);

  // A different program (another attempt), or leaving edit mode: show the program as it ran.
  useEffect(() => {
    const current = view.current;
    if (!current) return;
    const effects = [
      editing.current.reconfigure(editableExtensions(editable)),
      label.current.reconfigure(EditorView.contentAttributes.of({ 'aria-label': ariaLabel })),
    ];
    const reset = !editable && current.state.doc.toString() !== program.code;
    current.dispatch({
      ...(reset ? { changes: { from: 0, to: current.state.doc.length, insert: program.code } } : {}),
      effects,
    });
  }, [program.code, editable, ariaLabel]);

  useEffect(() => {
    const current = view.current;
    if (!current) return;
    current.dispatch({
      effects: setTraceMarks.of(editable ? Decoration.none : buildMarks(current.state, marks)),
    });
  }, [marks, editable, program.code]);

  // Keep the focused (or executing) line in sight.
  useEffect(() => {
    const current = view.current;
    const line = focusLine ?? executing?.line ?? null;
    if (!current || line === null || line > current.state.doc.lines) return;
    current.dispatch({
      effects: EditorView.scrollIntoView(current.state.doc.line(line).from, { y: 'nearest' }),
    });
  }, [focusLine, executing?.line]);

  const unplaced = marks.notes.filter((note) => note.line === null);
  return (
    <div
      className={`code${editable ? ' code--editing' : ''}`}
      data-testid="program-view"
      data-editable={editable ? 'true' : 'false'}
      role="group"
      aria-label={ariaLabel}
    >
      <div ref={host} />
      {!editable &&
        unplaced.map((note) => (
          <div key={note.text} className="code__annotation code__annotation--error" role="note">
            {note.text}
          </div>
        ))}
    </div>
  );
}

/** Read-only or editable: both the state (no changes) and the DOM (contenteditable) follow it. */
function editableExtensions(editable: boolean) {
  return [EditorState.readOnly.of(!editable), EditorView.editable.of(editable)];
}

const setTraceMarks = StateEffect.define<DecorationSet>();

/** The trace's decorations; a block widget (an error note) must come from a state field. */
const traceMarks = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, transaction) {
    let next = value.map(transaction.changes);
    for (const effect of transaction.effects) if (effect.is(setTraceMarks)) next = effect.value;
    return next;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/** The CodeMirror decorations of `marks` on `state`'s document (lines it does not have are skipped). */
function buildMarks(state: EditorState, marks: ProgramDecorations): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  const lineCount = state.doc.lines;
  for (const mark of marks.lines) {
    if (mark.line > lineCount) continue;
    const classes = ['code__line'];
    if (mark.executing === 'true') classes.push('is-executing');
    if (mark.executing === 'last') classes.push('is-last-call');
    if (mark.error) classes.push('is-error');
    if (mark.focus) classes.push('is-focus');
    if (mark.hasCall) classes.push('has-call');
    const line = state.doc.line(mark.line);
    ranges.push(
      Decoration.line({
        class: classes.join(' '),
        attributes: {
          'data-testid': `program-line-${mark.line}`,
          'data-line': String(mark.line),
          ...(mark.executing ? { 'data-executing': mark.executing } : {}),
        },
      }).range(line.from),
    );
    if (mark.executing) {
      ranges.push(
        Decoration.widget({
          widget: new TextWidget(
            mark.executing === 'true' ? 'executing' : 'last call',
            `code__badge${mark.executing === 'true' ? ' code__badge--live' : ''}`,
            null,
          ),
          side: 2,
        }).range(line.to),
      );
    }
  }
  for (const call of marks.calls) {
    if (call.line > lineCount) continue;
    const line = state.doc.line(call.line);
    const from = Math.min(line.from + call.from, line.to);
    const to = Math.min(line.from + call.to, line.to);
    if (to <= from) continue;
    ranges.push(
      Decoration.mark({
        class: `code__call code__call--${call.kind}`,
        attributes: { title: call.title, 'data-call': call.kind, 'data-testid': `program-call-${call.kind}` },
      }).range(from, to),
    );
  }
  for (const values of marks.values) {
    if (values.line > lineCount) continue;
    ranges.push(
      Decoration.widget({
        widget: new TextWidget(values.text, 'code__values', values.title),
        side: 1,
      }).range(state.doc.line(values.line).to),
    );
  }
  for (const note of marks.notes) {
    if (note.line === null || note.line > lineCount) continue;
    ranges.push(
      Decoration.widget({ widget: new NoteWidget(note.text, note.column), block: true, side: 1 }).range(
        state.doc.line(note.line).to,
      ),
    );
  }
  return Decoration.set(ranges, true);
}

/** Inline text after a line: a binding's values (whole values on hover) or the executing badge. */
class TextWidget extends WidgetType {
  constructor(
    readonly text: string,
    readonly className: string,
    readonly title: string | null,
  ) {
    super();
  }

  override eq(other: TextWidget): boolean {
    return other.text === this.text && other.className === this.className && other.title === this.title;
  }

  toDOM(): HTMLElement {
    const span = document.createElement('span');
    span.className = this.className;
    span.textContent = this.text;
    if (this.title !== null) span.title = this.title;
    return span;
  }
}

/** An error's note under its line, with a caret under the column when there is one. */
class NoteWidget extends WidgetType {
  constructor(
    readonly text: string,
    readonly column: number | null,
  ) {
    super();
  }

  override eq(other: NoteWidget): boolean {
    return other.text === this.text && other.column === this.column;
  }

  toDOM(): HTMLElement {
    const note = document.createElement('div');
    note.className = 'code__annotation code__annotation--error';
    note.setAttribute('role', 'note');
    if (this.column !== null) {
      const caret = document.createElement('span');
      caret.className = 'code__caret';
      caret.setAttribute('aria-hidden', 'true');
      caret.textContent = `${' '.repeat(Math.max(0, this.column - 1))}^`;
      note.append(caret);
    }
    note.append(this.text);
    return note;
  }
}
