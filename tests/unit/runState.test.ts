import { describe, expect, it } from 'vitest';
import type { TraceEvent, TraceEventBody } from '../../preload/TraceEvent.ts';
import {
  MAX_PENDING_EVENTS,
  executingLine,
  liveCounts,
  reduceRun,
  reduceRunEvents,
  retrievedChunks,
  runStatusText,
  type RunState,
} from '../../renderer/src/run/runState.ts';

const RUN = 'run-1';

/** Events of one PyRAG run: a syntax error, a runtime error and repair, a boost, a retry, the answer. */
function scriptedRun(): TraceEvent[] {
  const bodies: TraceEventBody[] = [
    {
      type: 'run-started',
      question: 'Same nationality?',
      corpus: 'sample',
      strategy: 'pyrag',
      model: 'replay:x.jsonl',
    },
    {
      type: 'llm-call',
      callIndex: 0,
      role: 'decompose',
      promptTokens: 100,
      completionTokens: 10,
      durationMs: 5,
    },
    { type: 'decomposition', subQuestions: ['A?', 'B?'], attempts: 1, fallback: false },
    { type: 'program-generated', attempt: 1, purpose: 'plan', code: 'const x = retrieve("a";' },
    { type: 'syntax-error', attempt: 1, message: 'Unexpected token', line: 1, column: 22 },
    {
      type: 'program-generated',
      attempt: 2,
      purpose: 'plan',
      code: 'const d = await retrieve("a");\nreturn d.x.y;',
    },
    { type: 'execution-started', execution: 1, boosted: [] },
    { type: 'tool-call', execution: 1, callIndex: 0, tool: 'retrieve', args: ['a', null], line: 1 },
    {
      type: 'tool-result',
      execution: 1,
      callIndex: 0,
      tool: 'retrieve',
      durationMs: 2,
      summary: '1 passage',
      chunks: [{ id: 7, title: 'Ed Wood', score: 1.5, source: '/c/ed.txt' }],
    },
    { type: 'binding', execution: 1, name: 'd', preview: '[{"id":7}]', line: 1 },
    {
      type: 'runtime-error',
      execution: 1,
      kind: 'RuntimeError',
      errorName: 'TypeError',
      message: 'no y',
      line: 2,
    },
    { type: 'repair-requested', round: 1, kind: 'RuntimeError', message: 'no y', line: 2 },
    {
      type: 'program-generated',
      attempt: 3,
      purpose: 'repair',
      code: 'const d = await retrieve("a");\nreturn await answer("q", d);',
    },
    { type: 'execution-started', execution: 2, boosted: [] },
    { type: 'tool-call', execution: 2, callIndex: 0, tool: 'retrieve', args: ['a', null], line: 1 },
    {
      type: 'tool-result',
      execution: 2,
      callIndex: 0,
      tool: 'retrieve',
      durationMs: 1,
      summary: '0 passages',
      chunks: [],
    },
    {
      type: 'retrieval-boosted',
      callIndex: 0,
      fromK: 5,
      toK: 10,
      path: 'sentinel-final',
      sentinel: 'unknown',
    },
    { type: 'execution-started', execution: 3, boosted: [{ callIndex: 0, k: 10 }] },
    { type: 'tool-call', execution: 3, callIndex: 1, tool: 'answer', args: ['q', []], line: 2 },
    {
      type: 'retry',
      role: 'answer',
      attempt: 1,
      maxAttempts: 4,
      delayMs: 250,
      reason: 'HTTP 503',
      outcome: 'retrying',
    },
    { type: 'llm-call', callIndex: 1, role: 'answer', promptTokens: 300, completionTokens: 4, durationMs: 9 },
    {
      type: 'tool-result',
      execution: 3,
      callIndex: 1,
      tool: 'answer',
      durationMs: 260,
      summary: 'yes',
      answer: 'yes',
    },
    { type: 'warning', message: 'search fell back to BM25' },
    {
      type: 'final-answer',
      answer: 'yes',
      reasoning: 'Both are American.',
      citations: [{ chunkId: 7, title: 'Ed Wood', source: '/c/ed.txt', excerpt: 'Ed Wood was…' }],
    },
    {
      type: 'metrics',
      metrics: {
        llmCalls: 2,
        promptTokens: 400,
        completionTokens: 14,
        tokensEstimated: true,
        retries: 1,
        phaseMs: { decompose: 5, plan: 10, execute: 300 },
        totalMs: 320,
        program: {
          programAttempts: 3,
          executions: 3,
          repairs: 1,
          hostCalls: 3,
          cyclomaticComplexity: 1,
          maxStackDepth: 0,
          programLines: 2,
          nodeTypeProfile: { Program: 1, AwaitExpression: 2 },
          hostCallSites: { retrieve: 1, answer: 1 },
          executable: true,
          exceptionKind: null,
        },
        strategy: { boosts: 1, boostPath: 'sentinel-final', cachedCalls: 0 },
      },
    },
    { type: 'run-finished', status: 'succeeded', error: null },
  ];
  return bodies.map((body, seq) => ({ runId: RUN, seq, at: 1_000 + seq * 10, ...body }) as TraceEvent);
}

/** Numbers event bodies as one run's events (seq 0, 1, …; `at` 10 ms apart from 1 000). */
function asEvents(bodies: readonly TraceEventBody[]): TraceEvent[] {
  return bodies.map((body, seq) => ({ runId: RUN, seq, at: 1_000 + seq * 10, ...body }) as TraceEvent);
}

function reduceAll(events: readonly TraceEvent[]): RunState {
  const state = reduceRunEvents(undefined, events);
  if (!state) throw new Error('no state');
  return state;
}

describe('reduceRun', () => {
  it('builds the whole run view from the event stream', () => {
    const state = reduceAll(scriptedRun());

    expect(state).toMatchObject({
      runId: RUN,
      question: 'Same nationality?',
      corpus: 'sample',
      model: 'replay:x.jsonl',
      status: 'succeeded',
      error: null,
      startedAt: 1_000,
      finishedAt: 1_250,
      nextSeq: 26,
      pending: [],
      decomposition: { subQuestions: ['A?', 'B?'], fallback: false },
      answer: { answer: 'yes', reasoning: 'Both are American.' },
      warnings: ['search fell back to BM25'],
    });
    expect(state.programs.map((p) => [p.attempt, p.purpose, p.syntaxError?.line ?? null])).toEqual([
      [1, 'plan', 1],
      [2, 'plan', null],
      [3, 'repair', null],
    ]);
    // Each execution knows which program it ran: never the attempt that did not parse.
    expect(state.executions.map((e) => [e.execution, e.programAttempt, e.boosted])).toEqual([
      [1, 2, []],
      [2, 3, []],
      [3, 3, [{ callIndex: 0, k: 10 }]],
    ]);
    const first = state.executions[0]!;
    expect(first.bindings).toEqual([{ name: 'd', preview: '[{"id":7}]', line: 1, seq: 9 }]);
    expect(first.runtimeError).toEqual({
      kind: 'RuntimeError',
      errorName: 'TypeError',
      message: 'no y',
      line: 2,
    });
    expect(first.toolCalls[0]).toMatchObject({
      tool: 'retrieve',
      args: ['a', null],
      line: 1,
      result: { summary: '1 passage', chunks: [{ id: 7 }], error: null },
    });
    expect(state.retries).toEqual([
      expect.objectContaining({
        attempt: 1,
        maxAttempts: 4,
        delayMs: 250,
        reason: 'HTTP 503',
        outcome: 'retrying',
      }),
    ]);
    expect(state.timeline.map((e) => e.type)).toEqual([
      'run-started',
      'llm-call',
      'decomposition',
      'program-generated',
      'syntax-error',
      'program-generated',
      'execution-started',
      'runtime-error',
      'repair-requested',
      'program-generated',
      'execution-started',
      'retrieval-boosted',
      'execution-started',
      'retry',
      'llm-call',
      'warning',
      'final-answer',
      'run-finished',
    ]);
    expect(state.metrics?.program?.cyclomaticComplexity).toBe(1);
    expect(state.metrics?.strategy).toEqual({ boosts: 1, boostPath: 'sentinel-final', cachedCalls: 0 });
    expect(state.metrics?.tokensEstimated).toBe(true);
    expect(state.boosts).toEqual([
      {
        seq: 16,
        at: 1_160,
        callIndex: 0,
        fromK: 5,
        toK: 10,
        path: 'sentinel-final',
        sentinel: 'unknown',
      },
    ]);
    expect(state.steps).toEqual([]);
    // Nothing in this run was served from an earlier execution.
    expect(state.executions.flatMap((e) => e.toolCalls.map((c) => c.result?.cached))).toEqual([
      false,
      false,
      false,
    ]);
    expect(retrievedChunks(state).get(7)?.title).toBe('Ed Wood');
  });

  it('does not change the state it is given', () => {
    const events = scriptedRun();
    const before = reduceAll(events.slice(0, 8));
    const snapshot = JSON.stringify(before);
    const after = reduceRun(before, events[8]!);
    expect(JSON.stringify(before)).toBe(snapshot);
    expect(after).not.toBe(before);
    expect(after.executions[0]!.toolCalls[0]!.result).not.toBeNull();
  });

  it('marks the line of the tool call in flight as executing, and stops once it returns', () => {
    const events = scriptedRun();
    const calling = reduceAll(events.slice(0, 19));
    expect(executingLine(calling)).toEqual({ execution: 3, line: 2, inFlight: true });
    const returned = reduceAll(events.slice(0, 22));
    expect(executingLine(returned)).toEqual({ execution: 3, line: 2, inFlight: false });
  });

  it('counts LLM calls, tokens and retries live, before the metrics event', () => {
    const live = reduceAll(scriptedRun().slice(0, 21));
    expect(live.metrics).toBeNull();
    expect(liveCounts(live)).toEqual({
      llmCalls: 2,
      promptTokens: 400,
      completionTokens: 14,
      retries: 1,
      toolCalls: 3,
      cachedToolCalls: 0,
      executions: 3,
      programAttempts: 3,
      repairs: 1,
      boosts: 1,
    });
  });

  it('drops duplicates and ignores events of other runs', () => {
    const events = scriptedRun();
    const once = reduceAll(events);
    const twice = reduceRunEvents(once, events)!;
    expect(twice).toBe(once);
    const other = { ...events[1]!, runId: 'run-2' } as TraceEvent;
    expect(reduceRun(once, other)).toBe(once);
  });

  it('holds events that arrive ahead of a gap until it fills (live events before a saved run loads)', () => {
    const events = scriptedRun();
    // Live events 10.. arrive first, then the saved events 0..12 (overlapping).
    let state = reduceRunEvents(undefined, events.slice(10))!;
    expect(state.nextSeq).toBe(0);
    expect(state.pending).toHaveLength(16);
    expect(state.status).toBe('running');
    state = reduceRunEvents(state, events.slice(0, 13))!;
    expect(state.pending).toEqual([]);
    expect(state).toEqual(reduceAll(events));
  });

  it('gives up on a gap that never fills, so a lost event cannot freeze the view', () => {
    const events = scriptedRun();
    const state = reduceRun(undefined, events[0]!);
    let next = state;
    // seq 1 is lost; flood with later events.
    const flood = Array.from(
      { length: MAX_PENDING_EVENTS + 1 },
      (_, i) => ({ runId: RUN, seq: i + 2, at: 5_000 + i, type: 'warning', message: `w${i}` }) as TraceEvent,
    );
    for (const event of flood) next = reduceRun(next, event);
    expect(next.pending).toEqual([]);
    expect(next.nextSeq).toBe(MAX_PENDING_EVENTS + 3);
    expect(next.warnings).toHaveLength(MAX_PENDING_EVENTS + 1);
  });

  it('records a failed run with its error', () => {
    const events: TraceEvent[] = [
      {
        runId: RUN,
        seq: 0,
        at: 1,
        type: 'run-started',
        question: 'q',
        corpus: null,
        strategy: 'pyrag',
        model: 'm',
      },
      {
        runId: RUN,
        seq: 1,
        at: 2,
        type: 'run-finished',
        status: 'failed',
        error: { name: 'ModelNotFoundError', code: 'MODEL_NOT_FOUND', message: 'Choose a model in Models.' },
      },
    ];
    const state = reduceAll(events);
    expect(state.status).toBe('failed');
    expect(state.error?.message).toBe('Choose a model in Models.');
    expect(state.finishedAt).toBe(2);
  });

  it('says in one line what the run is doing, for the aria-live status', () => {
    const events = scriptedRun();
    const at = (n: number) => runStatusText(reduceAll(events.slice(0, n)));
    expect(at(1)).toBe('Running: started; waiting for the first step…');
    expect(at(5)).toBe('Running: writing the program (attempt 2)…');
    expect(at(12)).toBe('Running: repairing the program (round 1)…');
    expect(at(17)).toBe('Running: re-running with boosted retrieval (1 call boosted)…');
    expect(at(19)).toBe('Running: execution 3, answer() on line 2…');
    expect(at(20)).toBe('Running: answer call failed (attempt 1/4); retrying…');
    expect(at(26)).toBe('Succeeded: yes');
  });

  it('keeps the steps of a strategy without events of its own, in order, with their data', () => {
    const events = asEvents([
      { type: 'run-started', question: 'Who?', corpus: 'sample', strategy: 'self-ask', model: 'm' },
      {
        type: 'step',
        kind: 'follow-up',
        title: 'Follow up: Who directed Ed Wood?',
        detail: null,
        data: { question: 'Who directed Ed Wood?', round: 1 },
      },
      {
        type: 'tool-call',
        execution: 1,
        callIndex: 0,
        tool: 'search',
        args: ['Ed Wood director'],
        line: null,
      },
      {
        type: 'tool-result',
        execution: 1,
        callIndex: 0,
        tool: 'search',
        durationMs: 3,
        summary: '{"hits":2}',
      },
      { type: 'step', kind: 'intermediate-answer', title: 'Intermediate answer', detail: 'Tim Burton' },
      { type: 'final-answer', answer: 'Tim Burton', reasoning: null, citations: [] },
      { type: 'run-finished', status: 'succeeded', error: null },
    ]);

    const midway = reduceAll(events.slice(0, 2));
    expect(runStatusText(midway)).toBe('Running: Follow up: Who directed Ed Wood?…');

    const state = reduceAll(events);
    expect(state.strategy).toBe('self-ask');
    expect(state.steps).toEqual([
      {
        seq: 1,
        at: 1_010,
        kind: 'follow-up',
        title: 'Follow up: Who directed Ed Wood?',
        detail: null,
        data: { question: 'Who directed Ed Wood?', round: 1 },
      },
      {
        seq: 4,
        at: 1_040,
        kind: 'intermediate-answer',
        title: 'Intermediate answer',
        detail: 'Tim Burton',
        data: null,
      },
    ]);
    // Steps are in the timeline among the other events; tool calls are not.
    expect(state.timeline.map((e) => (e.type === 'step' ? `step:${e.kind}` : e.type))).toEqual([
      'run-started',
      'step:follow-up',
      'step:intermediate-answer',
      'final-answer',
      'run-finished',
    ]);
    // Any tool name is kept as it came, with its one-line result.
    expect(state.executions).toHaveLength(1);
    expect(state.executions[0]!.toolCalls).toEqual([
      {
        execution: 1,
        callIndex: 0,
        tool: 'search',
        args: ['Ed Wood director'],
        line: null,
        at: 1_020,
        result: {
          durationMs: 3,
          summary: '{"hits":2}',
          cached: false,
          chunks: null,
          answer: null,
          error: null,
        },
      },
    ]);
    expect(state.programs).toEqual([]);
    expect(liveCounts(state)).toMatchObject({
      toolCalls: 1,
      cachedToolCalls: 0,
      programAttempts: 0,
      boosts: 0,
    });
  });

  it('marks tool results served from the previous execution as cached', () => {
    const retrieveResult = (execution: number, cached: boolean): TraceEventBody => ({
      type: 'tool-result',
      execution,
      callIndex: 0,
      tool: 'retrieve',
      durationMs: cached ? 0 : 4,
      summary: '1 passage',
      chunks: [{ id: 7, title: 'Ed Wood', score: 1.5, source: '/c/ed.txt' }],
      ...(cached ? { cached: true } : {}),
    });
    const events = asEvents([
      { type: 'run-started', question: 'q', corpus: 'sample', strategy: 'pyrag', model: 'm' },
      { type: 'execution-started', execution: 1, boosted: [] },
      { type: 'tool-call', execution: 1, callIndex: 0, tool: 'retrieve', args: ['a'], line: 1 },
      retrieveResult(1, false),
      { type: 'tool-call', execution: 1, callIndex: 1, tool: 'answer', args: ['q', []], line: 2 },
      {
        type: 'tool-result',
        execution: 1,
        callIndex: 1,
        tool: 'answer',
        durationMs: 5,
        summary: 'unknown',
        answer: 'unknown',
      },
      {
        type: 'retrieval-boosted',
        callIndex: 0,
        fromK: 5,
        toK: 10,
        path: 'sentinel-final',
        sentinel: 'unknown',
      },
      { type: 'execution-started', execution: 2, boosted: [{ callIndex: 0, k: 10 }] },
      { type: 'tool-call', execution: 2, callIndex: 0, tool: 'retrieve', args: ['a'], line: 1 },
      retrieveResult(2, true),
      // A cached result whose tool-call was never seen still lands, marked cached.
      {
        type: 'tool-result',
        execution: 2,
        callIndex: 1,
        tool: 'answer',
        durationMs: 0,
        summary: 'American',
        answer: 'American',
        cached: true,
      },
    ]);
    const state = reduceAll(events);
    const [first, second] = state.executions;
    expect(first!.toolCalls.map((c) => [c.tool, c.result?.cached])).toEqual([
      ['retrieve', false],
      ['answer', false],
    ]);
    expect(second!.toolCalls.map((c) => [c.callIndex, c.tool, c.result?.cached, c.result?.summary])).toEqual([
      [0, 'retrieve', true, '1 passage'],
      [1, 'answer', true, 'American'],
    ]);
    expect(second!.toolCalls[0]!.result?.chunks).toEqual([
      { id: 7, title: 'Ed Wood', score: 1.5, source: '/c/ed.txt' },
    ]);
    expect(liveCounts(state)).toMatchObject({ toolCalls: 4, cachedToolCalls: 2, executions: 2, boosts: 1 });
  });

  it('keeps every boost of a run that boosts several retrieve calls before its re-run', () => {
    const events = asEvents([
      { type: 'run-started', question: 'q', corpus: 'sample', strategy: 'pyrag', model: 'm' },
      { type: 'execution-started', execution: 1, boosted: [] },
      { type: 'tool-call', execution: 1, callIndex: 0, tool: 'retrieve', args: ['a'], line: 1 },
      {
        type: 'tool-result',
        execution: 1,
        callIndex: 0,
        tool: 'retrieve',
        durationMs: 1,
        summary: '5 passages',
        chunks: [],
      },
      { type: 'tool-call', execution: 1, callIndex: 2, tool: 'retrieve', args: ['b'], line: 3 },
      {
        type: 'tool-result',
        execution: 1,
        callIndex: 2,
        tool: 'retrieve',
        durationMs: 1,
        summary: '5 passages',
        chunks: [],
      },
      {
        type: 'retrieval-boosted',
        callIndex: 0,
        fromK: 5,
        toK: 10,
        path: 'sentinel-answer',
        sentinel: 'unknown',
      },
      {
        type: 'retrieval-boosted',
        callIndex: 2,
        fromK: 3,
        toK: 10,
        path: 'sentinel-final',
        sentinel: 'not enough information',
      },
      {
        type: 'execution-started',
        execution: 2,
        boosted: [
          { callIndex: 0, k: 10 },
          { callIndex: 2, k: 10 },
        ],
      },
    ]);
    const boosted = reduceAll(events.slice(0, 8));
    expect(runStatusText(boosted)).toBe('Running: re-running with boosted retrieval (2 calls boosted)…');

    const state = reduceAll(events);
    expect(state.boosts).toEqual([
      { seq: 6, at: 1_060, callIndex: 0, fromK: 5, toK: 10, path: 'sentinel-answer', sentinel: 'unknown' },
      {
        seq: 7,
        at: 1_070,
        callIndex: 2,
        fromK: 3,
        toK: 10,
        path: 'sentinel-final',
        sentinel: 'not enough information',
      },
    ]);
    expect(state.timeline.filter((e) => e.type === 'retrieval-boosted').map((e) => e.seq)).toEqual([6, 7]);
    expect(state.executions.map((e) => e.boosted)).toEqual([
      [],
      [
        { callIndex: 0, k: 10 },
        { callIndex: 2, k: 10 },
      ],
    ]);
    expect(liveCounts(state).boosts).toBe(2);
  });
});
