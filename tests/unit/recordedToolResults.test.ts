import { describe, expect, it } from 'vitest';
import { recordedToolResults, type RecordedToolResult } from '../../main/engine/runs/recordedToolResults.ts';
import type { RetrievedDoc } from '../../main/engine/sandbox/SandboxTypes.ts';
import {
  answerCallKey,
  retrieveCallKey,
  ToolResultCache,
} from '../../main/engine/strategies/ToolResultCache.ts';
import type { TraceEvent, TraceEventBody } from '../../preload/TraceEvent.ts';

const CHUNKS = new Map([
  [10, { text: 'Doctor Strange is a 2016 film directed by Scott Derrickson.' }],
  [2, { text: 'Scott Derrickson is an American director.' }],
]);
const DOCS: RetrievedDoc[] = [
  { id: 10, title: 'Doctor Strange', text: CHUNKS.get(10)!.text, score: 2.5, source: 'hotpot.json' },
  { id: 2, title: 'Scott Derrickson', text: CHUNKS.get(2)!.text, score: 1.5, source: 'hotpot.json' },
];

/** A trace as a run records it, with seq and time filled in. */
function trace(bodies: TraceEventBody[]): TraceEvent[] {
  return bodies.map((body, seq) => ({ runId: 'run-1', seq, at: seq, ...body }) as TraceEvent);
}

function execution(n: number, question: string, options: { fails?: boolean; boostedK?: number } = {}) {
  const bodies: TraceEventBody[] = [
    {
      type: 'execution-started',
      execution: n,
      boosted: options.boostedK ? [{ callIndex: 0, k: options.boostedK }] : [],
    },
    { type: 'tool-call', execution: n, callIndex: 0, tool: 'retrieve', args: ['director'], line: 1 },
    {
      type: 'tool-result',
      execution: n,
      callIndex: 0,
      tool: 'retrieve',
      durationMs: 3,
      summary: '2 passages',
      chunks: DOCS.map(({ id, title, score, source }) => ({ id, title, score, source })),
    },
    { type: 'tool-call', execution: n, callIndex: 1, tool: 'answer', args: [question, DOCS], line: 2 },
    {
      type: 'tool-result',
      execution: n,
      callIndex: 1,
      tool: 'answer',
      durationMs: 9,
      summary: `answer ${n}`,
      answer: `answer ${n}`,
    },
  ];
  if (options.fails) {
    bodies.push({
      type: 'runtime-error',
      execution: n,
      kind: 'RuntimeError',
      errorName: 'TypeError',
      message: 'x is undefined',
      line: 3,
    });
  }
  return bodies;
}

const readChunks = (ids: readonly number[]) =>
  new Map(ids.filter((id) => CHUNKS.has(id)).map((id) => [id, CHUNKS.get(id)!]));

describe('recordedToolResults', () => {
  it('serves unchanged calls from the record and lets changed ones run', () => {
    const recorded = recordedToolResults(trace(execution(1, 'Who directed it?')), { topK: 5, readChunks });
    expect(recorded).toMatchObject({ execution: 1, skipped: 0 });

    const cache = new ToolResultCache<RecordedToolResult>(recorded.results);
    // Unchanged: the same query with the run's k, and the same question over the same documents.
    expect(cache.reuse(retrieveCallKey('director', 5), 0)).toEqual(DOCS);
    expect(cache.reuse(answerCallKey('Who directed it?', DOCS), 1)).toBe('answer 1');
    // Changed: another query, another k, another question, other documents.
    expect(cache.reuse(retrieveCallKey('director', 3), 2)).toBeUndefined();
    expect(cache.reuse(retrieveCallKey('producer', 5), 3)).toBeUndefined();
    expect(cache.reuse(answerCallKey('Who produced it?', DOCS), 4)).toBeUndefined();
    expect(cache.reuse(answerCallKey('Who directed it?', DOCS.slice(0, 1)), 5)).toBeUndefined();
    // Each recorded result serves one call: asking the same again runs it.
    expect(cache.reuse(retrieveCallKey('director', 5), 6)).toBeUndefined();
    expect([...cache.cached]).toEqual([0, 1]);
    expect(cache.isCached(1)).toBe(true);
    expect(cache.isCached(2)).toBe(false);
  });

  it('reads the last execution that succeeded unless told which, keyed by the k it ran with', () => {
    const events = trace([
      ...execution(1, 'first?'),
      ...execution(2, 'second?', { boostedK: 10 }),
      ...execution(3, 'third?', { fails: true }),
    ]);
    const latest = recordedToolResults(events, { topK: 5, readChunks });
    expect(latest.execution).toBe(2);
    // Execution 2's retrieve ran boosted to k = 10: a call with the run's k is not the same call.
    expect(latest.results.has(retrieveCallKey('director', 10))).toBe(true);
    expect(latest.results.has(retrieveCallKey('director', 5))).toBe(false);
    expect(latest.results.get(answerCallKey('second?', DOCS))).toEqual(['answer 2']);

    const chosen = recordedToolResults(events, { execution: 1, topK: 5, readChunks });
    expect(chosen.results.get(answerCallKey('first?', DOCS))).toEqual(['answer 1']);
    expect(chosen.results.has(answerCallKey('second?', DOCS))).toBe(false);
  });

  it('leaves out failed calls and passages no longer in the corpus', () => {
    const events = trace([
      { type: 'execution-started', execution: 1, boosted: [] },
      { type: 'tool-call', execution: 1, callIndex: 0, tool: 'retrieve', args: ['gone'], line: 1 },
      {
        type: 'tool-result',
        execution: 1,
        callIndex: 0,
        tool: 'retrieve',
        durationMs: 1,
        summary: '1 passage',
        chunks: [{ id: 99, title: 'Removed', score: 1, source: 'old.txt' }],
      },
      { type: 'tool-call', execution: 1, callIndex: 1, tool: 'answer', args: ['Why?'], line: 2 },
      {
        type: 'tool-result',
        execution: 1,
        callIndex: 1,
        tool: 'answer',
        durationMs: 1,
        summary: 'failed: 503',
        error: '503',
      },
    ]);
    const recorded = recordedToolResults(events, { topK: 5, readChunks });
    expect(recorded.skipped).toBe(2);
    expect(recorded.results.size).toBe(0);
  });

  it('has nothing to reuse from a run that executed no program', () => {
    expect(recordedToolResults(trace([]), { topK: 5, readChunks })).toEqual({
      execution: null,
      results: new Map(),
      skipped: 0,
    });
  });
});
