/**
 * What the program view marks on a program's lines, worked out from the run's trace and kept apart
 * from the editor so that it can be tested without a DOM: the line being executed (or the last
 * call's, once the run has stopped), the error lines with their notes, each binding's value at the
 * end of the line that made it (like a debugger), and the calls that were not run by the sandbox
 * against a live tool: simulated by the model, or served from an earlier record (cached).
 */
import { inline } from '../format.ts';
import type { ExecutionEntry, ProgramAttempt } from './runState.ts';

/** The host tool Chain-of-Code and ICRAG route undefined helper calls to. */
export const SIMULATE_TOOL = 'simulate';
/** Where a cached result came from in most runs (PyRAG's boosted re-run). */
export const DEFAULT_CACHED_FROM = 'the previous execution of this run';
/** Characters of one binding's value shown inline; the whole value is its tooltip. Default 60. */
export const INLINE_VALUE_CHARS = 60;

export interface LineMark {
  /** 1-based. */
  line: number;
  executing: 'true' | 'last' | null;
  error: boolean;
  focus: boolean;
  hasCall: boolean;
}

export interface CallMark {
  line: number;
  /** Offsets within the line's text: the called name and its opening parenthesis, else the whole line. */
  from: number;
  to: number;
  kind: 'cached' | 'simulated';
  title: string;
}

export interface ValuesMark {
  line: number;
  text: string;
  /** Every value in full, one per line. */
  title: string;
}

export interface NoteMark {
  /** null: the error has no line; it is shown under the code. */
  line: number | null;
  text: string;
  /** Column of the caret under the line (1-based), when the error gives one. */
  column: number | null;
}

export interface ProgramDecorations {
  lines: LineMark[];
  calls: CallMark[];
  values: ValuesMark[];
  notes: NoteMark[];
}

export interface ProgramDecorationInput {
  program: ProgramAttempt;
  /** The execution whose bindings, calls and error are shown on the code. */
  execution: ExecutionEntry | null;
  executing: { line: number; inFlight: boolean } | null;
  focusLine: number | null;
  /** Where cached results came from, as the tooltip says it ("an earlier execution", "run …"). */
  cachedFrom: string;
}

/** The marks of one program (see the module comment); lines beyond the program's end are dropped. */
export function programDecorations(input: ProgramDecorationInput): ProgramDecorations {
  const { program, execution, executing, focusLine, cachedFrom } = input;
  const sourceLines = program.code.split('\n');
  const count = sourceLines.length;
  const within = (line: number | null): line is number => line !== null && line >= 1 && line <= count;
  const syntax = program.syntaxError;
  const runtime = execution?.runtimeError ?? null;
  const calls = execution?.toolCalls ?? [];
  const callLines = new Set(calls.flatMap((call) => (within(call.line) ? [call.line] : [])));

  const lines: LineMark[] = [];
  for (let line = 1; line <= count; line++) {
    lines.push({
      line,
      executing: executing?.line === line ? (executing.inFlight ? 'true' : 'last') : null,
      error: syntax?.line === line || runtime?.line === line,
      focus: focusLine === line,
      hasCall: callLines.has(line),
    });
  }

  // Each call's name is found left to right on its line, so two calls on one line mark two places.
  const searchFrom = new Map<number, number>();
  const marks: CallMark[] = [];
  for (const call of calls) {
    if (!within(call.line)) continue;
    const simulated = call.tool === SIMULATE_TOOL;
    const cached = call.result?.cached === true;
    const name = simulated && typeof call.args[0] === 'string' ? call.args[0] : call.tool;
    const text = sourceLines[call.line - 1] ?? '';
    const at = text.indexOf(`${name}(`, searchFrom.get(call.line) ?? 0);
    if (at >= 0) searchFrom.set(call.line, at + name.length + 1);
    if (!simulated && !cached) continue;
    const indent = text.length - text.trimStart().length;
    marks.push({
      line: call.line,
      from: at >= 0 ? at : indent,
      to: at >= 0 ? at + name.length + 1 : text.length,
      kind: simulated ? 'simulated' : 'cached',
      title: simulated
        ? `${name}() is not defined: the model simulated its value`
        : `${call.tool}() was not run again: its result was served from ${cachedFrom}, whose call had the same inputs`,
    });
  }

  const byLine = new Map<number, { name: string; preview: string }[]>();
  for (const binding of execution?.bindings ?? []) {
    if (!within(binding.line)) continue;
    const list = byLine.get(binding.line) ?? [];
    // A loop rebinds a name: keep its latest value.
    const existing = list.findIndex((b) => b.name === binding.name);
    if (existing >= 0) list.splice(existing, 1);
    list.push({ name: binding.name, preview: binding.preview });
    byLine.set(binding.line, list);
  }
  const values = [...byLine.entries()]
    .sort(([a], [b]) => a - b)
    .map(([line, list]) => ({
      line,
      text: list.map((v) => `${v.name} = ${inline(v.preview, INLINE_VALUE_CHARS)}`).join('  ·  '),
      title: list.map((v) => `${v.name} = ${v.preview}`).join('\n'),
    }));

  const notes: NoteMark[] = [];
  if (syntax) {
    notes.push({
      line: within(syntax.line) ? syntax.line : null,
      text: `SyntaxError${syntax.column !== null ? ` (column ${syntax.column})` : ''}: ${syntax.message}`,
      column: within(syntax.line) ? syntax.column : null,
    });
  }
  if (runtime) {
    notes.push({
      line: within(runtime.line) ? runtime.line : null,
      text: `${runtime.kind}${runtime.errorName ? ` (${runtime.errorName})` : ''}: ${runtime.message}`,
      column: null,
    });
  }
  return { lines, calls: marks, values, notes };
}
