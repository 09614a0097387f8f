/**
 * The tool results a saved run recorded, keyed as ToolResultCache keys its calls, so that an edited
 * program re-run from it (rerunProgram) reuses every call whose inputs did not change. The trace
 * keeps each call's arguments and, for retrieve(), the chunks found (ids, titles, scores, sources,
 * not the text): their text is read back from the corpus, and a call whose chunks are no longer
 * there is left out (it runs again). Failed calls are never reused.
 */
import type { TraceEvent, TraceEventOf } from '../../../preload/TraceEvent.ts';
import type { JsonValue, RetrievedDoc } from '../sandbox/SandboxTypes.ts';
import { answerTool, retrieveTool } from '../strategies/retrievalTools.ts';
import { answerCallKey, retrieveCallKey, type ToolResultsByKey } from '../strategies/ToolResultCache.ts';

/** What a reused call returns to the program: retrieve()'s documents or answer()'s answer text. */
export type RecordedToolResult = RetrievedDoc[] | string;

export interface RecordedToolResultsOptions {
  /** The execution whose calls are reused. Default: the last one that ended without a runtime error, else the last one. */
  execution?: number;
  /** The k a retrieve() without one ran with (the run's topK). */
  topK: number;
  /** The chunks of the run's corpus by id (those still there); a run without a corpus gets an empty map. */
  readChunks(ids: readonly number[]): ReadonlyMap<number, { text: string }>;
}

export interface RecordedToolResults {
  /** The execution whose calls these are; null when the run executed no program. */
  execution: number | null;
  results: ToolResultsByKey<RecordedToolResult>;
  /** Recorded calls that cannot be reused: failed, or their chunks are gone from the corpus. */
  skipped: number;
}

// The tools' own argument checks, so that a recorded call is keyed exactly as a live one is.
const retrieveArgs = retrieveTool(() => Promise.resolve([]));
const answerArgs = answerTool(() => Promise.resolve(''));

/** Reads the reusable tool results of one execution of a run's trace (see the module comment). */
export function recordedToolResults(
  events: readonly TraceEvent[],
  options: RecordedToolResultsOptions,
): RecordedToolResults {
  const execution = options.execution ?? defaultExecution(events);
  const results = new Map<string, RecordedToolResult[]>();
  if (execution === null) return { execution, results, skipped: 0 };
  const started = events.find(
    (e): e is TraceEvent & TraceEventOf<'execution-started'> =>
      e.type === 'execution-started' && e.execution === execution,
  );
  const boostedK = new Map((started?.boosted ?? []).map((b) => [b.callIndex, b.k]));
  const calls = new Map<number, TraceEventOf<'tool-call'>>();
  const finished: TraceEventOf<'tool-result'>[] = [];
  for (const event of events) {
    if (event.type === 'tool-call' && event.execution === execution) calls.set(event.callIndex, event);
    if (event.type === 'tool-result' && event.execution === execution) finished.push(event);
  }
  const chunkIds = finished.flatMap((result) => (result.chunks ?? []).map((chunk) => chunk.id));
  const texts = chunkIds.length > 0 ? options.readChunks(chunkIds) : new Map<number, { text: string }>();
  let skipped = 0;
  // In call order: a key asked twice is served its results in the order they came.
  finished.sort((a, b) => a.callIndex - b.callIndex);
  for (const result of finished) {
    const call = calls.get(result.callIndex);
    const entry = call && result.error === undefined ? reusable(call, result) : undefined;
    if (!entry) {
      skipped++;
      continue;
    }
    const list = results.get(entry.key) ?? [];
    list.push(entry.value);
    results.set(entry.key, list);
  }
  return { execution, results, skipped };

  function reusable(
    call: TraceEventOf<'tool-call'>,
    result: TraceEventOf<'tool-result'>,
  ): { key: string; value: RecordedToolResult } | undefined {
    const args = call.args as JsonValue[];
    try {
      if (call.tool === 'retrieve' && result.chunks) {
        const { query, k } = retrieveArgs.validate(args);
        const effective = Math.max(boostedK.get(call.callIndex) ?? 0, k ?? options.topK);
        const docs: RetrievedDoc[] = [];
        for (const chunk of result.chunks) {
          const text = texts.get(chunk.id)?.text;
          if (text === undefined) return undefined;
          docs.push({ id: chunk.id, title: chunk.title, text, score: chunk.score, source: chunk.source });
        }
        return { key: retrieveCallKey(query, effective), value: docs };
      }
      if (call.tool === 'answer' && result.answer !== undefined) {
        const { question, docs } = answerArgs.validate(args);
        return { key: answerCallKey(question, docs ?? []), value: result.answer };
      }
    } catch {
      // Arguments the tool refused then (the call failed): nothing to reuse.
      return undefined;
    }
    return undefined;
  }
}

/** The last execution that ended without a runtime error, else the last one; null when there was none. */
function defaultExecution(events: readonly TraceEvent[]): number | null {
  const started: number[] = [];
  const failed = new Set<number>();
  for (const event of events) {
    if (event.type === 'execution-started') started.push(event.execution);
    if (event.type === 'runtime-error') failed.add(event.execution);
  }
  return [...started].reverse().find((n) => !failed.has(n)) ?? started.at(-1) ?? null;
}
