import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReckonError } from '../../main/engine/errors.ts';
import type { GenerateOptions, GenerateResult, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { createReplayBackend, replayLineSchema } from '../../main/engine/models/ReplayBackend.ts';
import { ModelCallError, withRetry } from '../../main/engine/models/RetryPolicy.ts';
import {
  failedAttemptRecorder,
  recordingBackend,
  retryEventsTo,
} from '../../main/engine/runs/recordingBackend.ts';
import type { RunMeta } from '../../main/engine/runs/RunStore.ts';
import { RUNS_DB_FILE, RunStore } from '../../main/engine/runs/RunStore.ts';
import type { RunMetrics, TraceEvent, TraceEventBody } from '../../preload/TraceEvent.ts';
import { TraceRecorder } from '../../main/engine/runs/TraceRecorder.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const RUN_STORE_MODULE = pathToFileURL(path.join(REPO_ROOT, 'main/engine/runs/RunStore.ts')).href;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-runs-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const meta = (id: string, overrides: Partial<RunMeta> = {}): RunMeta => ({
  id,
  question: 'Which river flows through the capital of France?',
  corpus: 'geography',
  strategy: 'pyrag',
  model: 'models/qwen2.5-coder-1.5b-q4_k_m.gguf',
  options: { k: 5, maxRepairs: 2 },
  createdAt: 1_790_000_000_000,
  ...overrides,
});

const METRICS: RunMetrics = {
  llmCalls: 3,
  promptTokens: 1_840,
  completionTokens: 212,
  tokensEstimated: false,
  retries: 1,
  phaseMs: { decompose: 410, plan: 1_250, execute: 930, repair: 800, answer: 610 },
  totalMs: 4_000,
  program: {
    programAttempts: 2,
    executions: 2,
    repairs: 1,
    hostCalls: 4,
    cyclomaticComplexity: 2,
    maxStackDepth: 3,
    programLines: 4,
    nodeTypeProfile: { CallExpression: 3, VariableDeclaration: 2 },
    hostCallSites: { retrieve: 1, answer: 1 },
    executable: true,
    exceptionKind: null,
  },
  strategy: { boosts: 1 },
};

const PROGRAM = `const docs = retrieve("capital of France river", 5);\nconst river = answer("Which river?", docs);\nriver;`;

/** A PyRAG-like run: decomposition, a plan that fails once, a repair, a boosted retrieval, an answer. */
const REALISTIC_BODIES: TraceEventBody[] = [
  {
    type: 'run-started',
    question: 'Which river flows through the capital of France?',
    corpus: 'geography',
    strategy: 'pyrag',
    model: 'models/qwen2.5-coder-1.5b-q4_k_m.gguf',
  },
  {
    type: 'decomposition',
    subQuestions: ['What is the capital of France?', 'Which river flows through it?'],
    attempts: 1,
    fallback: false,
  },
  {
    type: 'llm-call',
    callIndex: 0,
    role: 'decompose',
    promptTokens: 420,
    completionTokens: 38,
    durationMs: 410,
  },
  {
    type: 'retry',
    role: 'plan',
    attempt: 1,
    maxAttempts: 4,
    delayMs: 250,
    reason: 'HTTP 503 Service Unavailable',
    outcome: 'retrying',
  },
  { type: 'program-generated', attempt: 1, purpose: 'plan', code: PROGRAM },
  { type: 'execution-started', execution: 1, boosted: [] },
  {
    type: 'tool-call',
    execution: 1,
    callIndex: 0,
    tool: 'retrieve',
    args: ['capital of France river', 5],
    line: 1,
  },
  {
    type: 'tool-result',
    execution: 1,
    callIndex: 0,
    tool: 'retrieve',
    durationMs: 12,
    summary: '2 passages',
    chunks: [
      { id: 17, title: 'Paris', score: 7.25, source: 'geo/paris.md' },
      { id: 3, title: 'Seine', score: 5.5, source: 'geo/seine.md' },
    ],
  },
  { type: 'binding', execution: 1, name: 'docs', preview: '[2 passages]', line: 1 },
  {
    type: 'runtime-error',
    execution: 1,
    kind: 'RuntimeError',
    errorName: 'TypeError',
    message: 'docs.map is not a function',
    line: 2,
  },
  {
    type: 'repair-requested',
    round: 1,
    kind: 'RuntimeError',
    message: 'docs.map is not a function',
    line: 2,
  },
  {
    type: 'retrieval-boosted',
    callIndex: 0,
    fromK: 5,
    toK: 10,
    path: 'sentinel-final',
    sentinel: 'NOT FOUND',
  },
  {
    type: 'final-answer',
    answer: 'The Seine',
    reasoning: 'Paris is the capital; the Seine flows through Paris.',
    citations: [
      { chunkId: 3, title: 'Seine', source: 'geo/seine.md', excerpt: 'The Seine flows through Paris…' },
    ],
  },
  { type: 'metrics', metrics: METRICS },
  { type: 'run-finished', status: 'succeeded', error: null },
];

function toEvents(runId: string, bodies: readonly TraceEventBody[], start = 1_790_000_000_100): TraceEvent[] {
  return bodies.map((body, seq) => ({ runId, seq, at: start + seq * 10, ...body }));
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof ReckonError) return error.code;
    throw error;
  }
  return undefined;
}

describe('RunStore', () => {
  it('keeps a whole trace, syncs the run row and gives it back in order after a reopen', () => {
    let store = RunStore.open(dir);
    expect(fs.existsSync(path.join(dir, RUNS_DB_FILE))).toBe(true);
    const created = store.createRun(meta('run-a'));
    expect(created).toMatchObject({
      id: 'run-a',
      status: 'running',
      answer: null,
      finishedAt: null,
      metrics: null,
    });

    const events = toEvents('run-a', REALISTIC_BODIES);
    for (const event of events.slice(0, 12)) store.appendEvent(event);
    expect(store.getRun('run-a')?.run).toMatchObject({ status: 'running', answer: null });
    for (const event of events.slice(12)) store.appendEvent(event);
    store.close();

    store = RunStore.open(dir);
    const found = store.getRun('run-a');
    expect(found?.events).toEqual(events);
    expect(found?.events.map((event) => event.seq)).toEqual(events.map((_, seq) => seq));
    expect(found?.run).toEqual({
      id: 'run-a',
      createdAt: 1_790_000_000_000,
      finishedAt: events.at(-1)?.at,
      question: 'Which river flows through the capital of France?',
      corpus: 'geography',
      strategy: 'pyrag',
      model: 'models/qwen2.5-coder-1.5b-q4_k_m.gguf',
      status: 'succeeded',
      answer: 'The Seine',
      error: null,
      metrics: METRICS,
      options: { k: 5, maxRepairs: 2 },
      recordedCalls: 0,
      parentRunId: null,
    });
    expect(store.getRun('run-missing')).toBeUndefined();
    store.close();
  });

  it('records failures: the run-finished error lands on the row', () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-f', { corpus: null, options: undefined }));
    const error = {
      name: 'ModelError',
      code: 'MODEL_UNAVAILABLE',
      message: 'The model backend failed 4 times.',
    };
    for (const event of toEvents('run-f', [
      REALISTIC_BODIES[0]!,
      { type: 'run-finished', status: 'failed', error },
    ])) {
      store.appendEvent(event);
    }
    expect(store.getRun('run-f')?.run).toMatchObject({
      corpus: null,
      options: null,
      status: 'failed',
      error,
      answer: null,
    });
    store.close();
  });

  it('writes model outputs with a batch of events, in the same transaction', () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-mo'));
    const events = toEvents('run-mo', REALISTIC_BODIES);
    const record = { role: 'answer', output: 'Paris', promptTokens: 5, completionTokens: 1 };
    // A refused event takes its step's outputs with it.
    expect(codeOf(() => store.appendEvents([events[0]!, events[0]!], [{ runId: 'run-mo', record }]))).toBe(
      'DUPLICATE_TRACE_EVENT',
    );
    expect(store.exportRun('run-mo').modelOutputs).toEqual([]);
    expect(
      codeOf(() => store.appendEvents([events[0]!], [{ runId: 'run-mo', record: { ...record, role: '' } }])),
    ).toBe('INVALID_ARGUMENT');
    store.appendEvents(events.slice(0, 2), [
      { runId: 'run-mo', record },
      { runId: 'run-mo', record: { ...record, output: 'France' } },
    ]);
    expect(store.getRun('run-mo')?.events).toEqual(events.slice(0, 2));
    expect(store.exportRun('run-mo').modelOutputs).toEqual([
      { callIndex: 0, ...record },
      { callIndex: 1, ...record, output: 'France' },
    ]);
    store.close();
  });

  it('appends a batch of events in one transaction: all of them, or none when one is refused', () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-b'));
    const events = toEvents('run-b', REALISTIC_BODIES);
    const bad = { ...events[2]!, type: 'final-answer', answer: 42 } as unknown as TraceEvent;
    expect(codeOf(() => store.appendEvents([events[0]!, events[1]!, bad]))).toBe('INVALID_TRACE_EVENT');
    expect(codeOf(() => store.appendEvents([events[0]!, events[0]!]))).toBe('DUPLICATE_TRACE_EVENT');
    expect(store.getRun('run-b')?.events).toEqual([]);

    // A batch that finishes the run and then goes on is refused whole.
    const finishedEarly = { ...events.at(-1)!, seq: 1 };
    expect(codeOf(() => store.appendEvents([events[0]!, finishedEarly, { ...events[1]!, seq: 2 }]))).toBe(
      'RUN_FINISHED',
    );
    expect(store.getRun('run-b')?.run.status).toBe('running');

    store.appendEvents(events.slice(0, 5));
    store.appendEvents(events.slice(5));
    const found = store.getRun('run-b');
    expect(found?.events).toEqual(events);
    expect(found?.run.status).toBe('succeeded');
    store.close();
  });

  it('rejects invalid events and events for unknown, finished or already-recorded positions', () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-v'));
    const [started] = toEvents('run-v', REALISTIC_BODIES);

    const invalid = { ...started, seq: 0, type: 'final-answer', answer: 42 } as unknown as TraceEvent;
    expect(codeOf(() => store.appendEvent(invalid))).toBe('INVALID_TRACE_EVENT');
    expect(codeOf(() => store.appendEvent({ ...started!, seq: 0.5 }))).toBe('INVALID_TRACE_EVENT');
    expect(store.getRun('run-v')?.events).toEqual([]);

    expect(codeOf(() => store.appendEvent({ ...started!, runId: 'run-nope' }))).toBe('RUN_NOT_FOUND');
    store.appendEvent(started!);
    expect(codeOf(() => store.appendEvent(started!))).toBe('DUPLICATE_TRACE_EVENT');
    store.appendEvent({
      runId: 'run-v',
      seq: 1,
      at: 2,
      type: 'run-finished',
      status: 'cancelled',
      error: null,
    });
    expect(codeOf(() => store.appendEvent({ ...started!, seq: 2 }))).toBe('RUN_FINISHED');
    expect(
      codeOf(() =>
        store.recordModelOutput('run-v', { role: 'plan', output: 'x', promptTokens: 1, completionTokens: 1 }),
      ),
    ).toBe('RUN_FINISHED');
    expect(store.getRun('run-v')?.events.map((event) => event.type)).toEqual(['run-started', 'run-finished']);
    store.close();
  });

  it('validates run metadata and refuses duplicate ids', () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-1'));
    expect(codeOf(() => store.createRun(meta('run-1')))).toBe('RUN_EXISTS');
    expect(codeOf(() => store.createRun(meta('')))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => store.createRun(meta('run-2', { createdAt: Number.NaN })))).toBe('INVALID_ARGUMENT');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => store.createRun(meta('run-3', { options: cyclic })))).toBe('INVALID_ARGUMENT');
    expect(store.listRuns().map((run) => run.id)).toEqual(['run-1']);
    store.close();
  });

  it('lists newest first with paging, status filter and case-insensitive search of question and answer', () => {
    const store = RunStore.open(dir);
    const add = (id: string, createdAt: number, question: string, answer?: string, status = 'succeeded') => {
      store.createRun(meta(id, { createdAt, question }));
      const bodies: TraceEventBody[] = [];
      if (answer !== undefined) bodies.push({ type: 'final-answer', answer, reasoning: null, citations: [] });
      if (status !== 'running') {
        bodies.push({ type: 'run-finished', status: status as 'succeeded' | 'failed', error: null });
      }
      for (const event of toEvents(id, bodies, createdAt + 1)) store.appendEvent(event);
    };
    add('run-1', 1_000, 'Where is the École Polytechnique?', 'In Palaiseau');
    add('run-2', 2_000, 'Who painted the Mona Lisa?', 'Leonardo da Vinci');
    add('run-3', 3_000, 'How many moons does Mars have?', undefined, 'failed');
    add('run-4', 4_000, 'What is 100% of 3?', '3', 'running');
    add('run-5', 3_000, 'Who wrote Les Misérables?', 'VICTOR HUGO');

    const ids = (options?: Parameters<RunStore['listRuns']>[0]) =>
      store.listRuns(options).map((run) => run.id);
    expect(ids()).toEqual(['run-4', 'run-5', 'run-3', 'run-2', 'run-1']);
    expect(ids({ limit: 2 })).toEqual(['run-4', 'run-5']);
    expect(ids({ limit: 2, offset: 2 })).toEqual(['run-3', 'run-2']);
    expect(ids({ status: 'running' })).toEqual(['run-4']);
    expect(ids({ status: 'failed' })).toEqual(['run-3']);
    // Question, answer, Unicode case folding, and LIKE wildcards taken literally.
    expect(ids({ search: 'mona' })).toEqual(['run-2']);
    expect(ids({ search: 'victor hugo' })).toEqual(['run-5']);
    expect(ids({ search: 'ÉCOLE' })).toEqual(['run-1']);
    expect(ids({ search: 'who' })).toEqual(['run-5', 'run-2']);
    expect(ids({ search: '100%' })).toEqual(['run-4']);
    expect(ids({ search: '%' })).toEqual(['run-4']);
    expect(ids({ search: '_' })).toEqual([]);
    expect(ids({ search: '   ' })).toHaveLength(5);
    expect(ids({ search: 'who', status: 'running' })).toEqual([]);

    expect(codeOf(() => store.listRuns({ limit: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => store.listRuns({ offset: -1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => store.listRuns({ status: 'interrupted' as 'failed' }))).toBe('INVALID_ARGUMENT');
    store.close();
  });

  it('exports a run as JSON and its model outputs as a replay file', async () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-x'));
    const outputs = [
      {
        role: 'decompose',
        output: '["What is the capital of France?"]',
        promptTokens: 420,
        completionTokens: 38,
      },
      {
        role: 'plan',
        output: '```js\nconst d = retrieve("x");\n```',
        promptTokens: 900,
        completionTokens: 120,
      },
      { role: 'answer', output: 'The "Seine"\n— a river', promptTokens: 520, completionTokens: 54 },
    ];
    expect(outputs.map((output) => store.recordModelOutput('run-x', output))).toEqual([0, 1, 2]);
    const events = toEvents('run-x', REALISTIC_BODIES);
    for (const event of events) store.appendEvent(event);

    const exported = store.exportRun('run-x');
    expect(exported).toEqual({
      format: 'reckon-run',
      version: 1,
      run: store.getRun('run-x')?.run,
      events,
      modelOutputs: outputs.map((output, callIndex) => ({ callIndex, ...output })),
    });
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);

    const replay = store.exportReplay('run-x');
    const [headerLine, ...rest] = replay.split('\n');
    expect(JSON.parse(headerLine!)).toMatchObject({
      format: 'reckon-replay',
      version: 1,
      question: 'Which river flows through the capital of France?',
      strategy: 'pyrag',
      calls: 3,
    });
    expect(rest.join('\n')).toBe(
      '{"output":"[\\"What is the capital of France?\\"]","role":"decompose"}\n' +
        '{"output":"```js\\nconst d = retrieve(\\"x\\");\\n```","role":"plan"}\n' +
        '{"output":"The \\"Seine\\"\\n— a river","role":"answer"}\n',
    );
    const lines = rest;
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => replayLineSchema.parse(JSON.parse(line)))).toEqual(
      outputs.map(({ output, role }) => ({ output, role })),
    );

    // The file drives the replay backend to the same outputs, role by role.
    const file = path.join(dir, 'run-x.jsonl');
    fs.writeFileSync(file, replay);
    const backend = await createReplayBackend({ file });
    for (const { role, output } of outputs) {
      expect((await backend.generate({ role, messages: [{ role: 'user', content: 'q' }] })).text).toBe(
        output,
      );
    }

    expect(codeOf(() => store.exportRun('run-nope'))).toBe('RUN_NOT_FOUND');
    expect(codeOf(() => store.exportReplay('run-nope'))).toBe('RUN_NOT_FOUND');
    store.createRun(meta('run-empty'));
    expect(store.exportReplay('run-empty').split('\n')).toHaveLength(2);
    expect(store.getRun('run-empty')?.run.recordedCalls).toBe(0);
    expect(store.getRun('run-x')?.run.recordedCalls).toBe(3);
    store.close();
  });

  it('keeps the token probabilities of an output and writes them into the replay file', async () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-p'));
    const tokens = [
      { text: 'Paris', probability: 0.9 },
      { text: ' is', probability: 0.2 },
    ];
    store.recordModelOutput('run-p', {
      role: 'sentence',
      output: 'Paris is',
      promptTokens: 3,
      completionTokens: 2,
      tokens,
    });
    store.recordModelOutput('run-p', {
      role: 'answer',
      output: 'Paris',
      promptTokens: 3,
      completionTokens: 1,
    });
    expect(store.exportRun('run-p').modelOutputs.map((record) => record.tokens)).toEqual([tokens, undefined]);
    const file = path.join(dir, 'run-p.jsonl');
    fs.writeFileSync(file, store.exportReplay('run-p'));
    const backend = await createReplayBackend({ file });
    const messages = [{ role: 'user' as const, content: 'q' }];
    expect(await backend.generate({ role: 'sentence', messages, tokenProbabilities: true })).toMatchObject({
      text: 'Paris is',
      tokens,
    });
    expect((await backend.generate({ role: 'answer', messages })).text).toBe('Paris');
    store.close();
  });

  it('refuses to export a replay with a missing model output rather than shifting later outputs', () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-gap'));
    const record = { role: 'answer', output: 'x', promptTokens: 1, completionTokens: 1 };
    store.recordModelOutput('run-gap', { ...record, callIndex: 0 });
    store.recordModelOutput('run-gap', { ...record, callIndex: 2 });
    expect(codeOf(() => store.recordModelOutput('run-gap', { ...record, callIndex: 2 }))).toBe(
      'DUPLICATE_MODEL_OUTPUT',
    );
    expect(codeOf(() => store.recordModelOutput('run-gap', { ...record, role: '' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => store.recordModelOutput('run-nope', record))).toBe('RUN_NOT_FOUND');
    expect(() => store.exportReplay('run-gap')).toThrow(/no recorded output for model call 1/);
    store.recordModelOutput('run-gap', { ...record, callIndex: 1 });
    // The header, three outputs and the final newline.
    expect(store.exportReplay('run-gap').split('\n')).toHaveLength(5);
    // Without an index, the next output goes after the highest one.
    expect(store.recordModelOutput('run-gap', record)).toBe(3);
    store.close();
  });

  it('deletes finished runs with their events and outputs, but not running ones', () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-d'));
    store.recordModelOutput('run-d', { role: 'plan', output: 'x', promptTokens: 1, completionTokens: 1 });
    expect(codeOf(() => store.deleteRun('run-d'))).toBe('RUN_ACTIVE');
    for (const event of toEvents('run-d', REALISTIC_BODIES)) store.appendEvent(event);
    expect(store.deleteRun('run-d')).toBe(true);
    expect(store.deleteRun('run-d')).toBe(false);
    expect(store.getRun('run-d')).toBeUndefined();
    store.close();

    const db = new Database(path.join(dir, RUNS_DB_FILE), { readonly: true });
    const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
    expect([count('runs'), count('run_events'), count('model_outputs')]).toEqual([0, 0, 0]);
    db.close();
  });

  it('refuses a history written by a newer schema', () => {
    RunStore.open(dir).close();
    const db = new Database(path.join(dir, RUNS_DB_FILE));
    db.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`).run();
    db.close();
    expect(codeOf(() => RunStore.open(dir))).toBe('STORE_TOO_NEW');
  });

  it('records a run end to end through TraceRecorder, retry and recordingBackend, and replays it exactly', async () => {
    const store = RunStore.open(dir);
    store.createRun(meta('run-e2e', { createdAt: 0 }));
    let clock = 0;
    const recorder = new TraceRecorder({ runId: 'run-e2e', store, now: () => ++clock });

    // The raw model: fails once with a 503, then answers; the two "answer" calls finish in reverse order.
    const outputs: Record<string, string[]> = {
      decompose: ['["Capital of France?", "River there?"]'],
      answer: ['Paris', 'The Seine'],
    };
    let first = true;
    const raw: LlmBackend = {
      id: 'fake-model',
      parallelism: 2,
      async generate(request: GenerateOptions): Promise<GenerateResult> {
        if (first) {
          first = false;
          throw new ModelCallError('busy', { status: 503, retryable: true, reason: 'HTTP 503' });
        }
        const role = request.role ?? 'generate';
        const text = outputs[role]?.shift() ?? 'unexpected';
        const question = request.messages[0]?.content ?? '';
        if (question.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 30));
        return { text, promptTokens: 10, completionTokens: 2 };
      },
      async dispose() {},
    };
    const backend = recordingBackend(
      withRetry(failedAttemptRecorder(raw), {
        random: () => 0,
        sleep: async () => {},
        onRetry: retryEventsTo(recorder),
      }),
      recorder,
      { now: () => 0 },
    );

    const run = async (model: LlmBackend): Promise<string[]> => {
      const ask = (role: string, content: string) =>
        model.generate({ role, messages: [{ role: 'user', content }] }).then((result) => result.text);
      const plan = await ask('decompose', 'split the question');
      const answers = await Promise.all([ask('answer', 'slow: capital?'), ask('answer', 'fast: river?')]);
      return [plan, ...answers];
    };

    recorder.emit(REALISTIC_BODIES[0]!);
    const original = await run(backend);
    recorder.emit({ type: 'final-answer', answer: original[2]!, reasoning: null, citations: [] });
    recorder.emit({ type: 'run-finished', status: 'succeeded', error: null });
    expect(original).toEqual(['["Capital of France?", "River there?"]', 'Paris', 'The Seine']);
    store.close();

    const reopened = RunStore.open(dir);
    const saved = reopened.getRun('run-e2e');
    expect(saved?.events).toEqual(recorder.events());
    expect(saved?.events.map((event) => event.type)).toEqual([
      'run-started',
      'retry',
      'llm-call',
      'llm-call',
      'llm-call',
      'final-answer',
      'run-finished',
    ]);
    // The slow first answer call finished last, but keeps call index 1.
    expect(saved?.events.flatMap((event) => (event.type === 'llm-call' ? [event.callIndex] : []))).toEqual([
      0, 2, 1,
    ]);
    expect(saved?.run).toMatchObject({ status: 'succeeded', answer: 'The Seine' });

    const file = path.join(dir, 'run-e2e.jsonl');
    const replay = reopened.exportReplay('run-e2e');
    fs.writeFileSync(file, replay);
    // The recorded 503 is in the file, so the replay's retry policy retries it again.
    expect(replay.split('\n')[1]).toContain('"status":503');
    const replayRetries: string[] = [];
    const replayed = withRetry(await createReplayBackend({ file }), {
      random: () => 0,
      sleep: async () => {},
      onRetry: (event) => replayRetries.push(`${event.role} ${event.reason} ${event.outcome}`),
    });
    expect(await run(replayed)).toEqual(original);
    expect(replayRetries).toEqual(['decompose HTTP 503 Service Unavailable retrying']);

    // Other prompts than the recorded ones: a clear error naming the call, or with 'warn' a warning.
    const changed = await createReplayBackend({ file });
    const mismatch = await changed
      .generate({ role: 'decompose', messages: [{ role: 'user', content: 'another question' }] })
      .catch((error: unknown) => error);
    expect(mismatch).toMatchObject({ code: 'REPLAY_MISMATCH' });
    expect((mismatch as Error).message).toMatch(/Call 1 \(role "decompose"\) was asked a different prompt/);
    expect((mismatch as Error).message).toContain('Which river flows through the capital of France?');
    const forced = await createReplayBackend({ file, onMismatch: 'warn' });
    const other = { role: 'decompose', messages: [{ role: 'user' as const, content: 'another question' }] };
    // The recorded 503 still fails its attempt; the warning comes with the first output.
    await expect(forced.generate(other)).rejects.toMatchObject({ status: 503 });
    const played = await forced.generate(other);
    expect(played.text).toBe(original[0]);
    expect(played.warning).toMatch(/^Replayed anyway: Call 2 \(role "decompose"\)/);
    const later = await forced.generate({ role: 'answer', messages: [{ role: 'user', content: 'x' }] });
    expect(later.warning).toBeUndefined();

    // A header that no longer matches its lines (a line removed by hand) is refused.
    const truncated = path.join(dir, 'run-e2e-truncated.jsonl');
    fs.writeFileSync(truncated, replay.split('\n').slice(0, -2).join('\n'));
    await expect(createReplayBackend({ file: truncated })).rejects.toMatchObject({ code: 'BAD_REPLAY_FILE' });
    reopened.close();
  });
});

describe('RunStore run links', () => {
  it('links a run to the run it was made from, also in a store written before links existed', () => {
    let store = RunStore.open(dir);
    store.createRun(meta('run-old'));
    store.close();
    // A store from before the link: no parent_run_id column.
    const db = new Database(path.join(dir, RUNS_DB_FILE));
    db.exec('DROP INDEX runs_by_parent; ALTER TABLE runs DROP COLUMN parent_run_id');
    db.close();

    store = RunStore.open(dir);
    expect(store.getRun('run-old')?.run.parentRunId).toBeNull();
    store.createRun(meta('run-child-2', { parentRunId: 'run-old', createdAt: 1_790_000_000_002 }));
    store.createRun(meta('run-child-1', { parentRunId: 'run-old', createdAt: 1_790_000_000_001 }));
    expect(store.getRun('run-child-1')?.run.parentRunId).toBe('run-old');
    expect(store.childRunIds('run-old')).toEqual(['run-child-1', 'run-child-2']);
    expect(store.childRunIds('run-child-1')).toEqual([]);
    store.close();
  });
});

describe('RunStore interrupted runs', () => {
  /** Starts a process that creates a run with two events, prints "ready", then dies or waits. */
  async function runInChild(runId: string, mode: 'crash' | 'stay') {
    const code = `
      import { RunStore } from ${JSON.stringify(RUN_STORE_MODULE)};
      const [dataDir, runId, mode] = process.argv.slice(1);
      const store = RunStore.open(dataDir);
      store.createRun({ id: runId, question: 'Asked by another process', corpus: null, strategy: 'direct',
        model: 'fake', createdAt: 5000 });
      store.appendEvent({ runId, seq: 0, at: 5001, type: 'run-started', question: 'Asked by another process',
        corpus: null, strategy: 'direct', model: 'fake' });
      store.appendEvent({ runId, seq: 1, at: 5002, type: 'decomposition', subQuestions: [], attempts: 1,
        fallback: true });
      process.stdout.write('ready\\n', () => {
        if (mode === 'crash') process.kill(process.pid, 'SIGKILL');
        else setInterval(() => {}, 1000);
      });
    `;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code, dir, runId, mode],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      void exited.then(() => reject(new Error(`the child exited before it was ready: ${stderr}`)));
    });
    return { child, exited };
  }

  it('marks a run whose process died as failed/INTERRUPTED on reopen, keeping its trace as recorded', async () => {
    const { exited } = await runInChild('run-crashed', 'crash');
    await exited;

    const store = RunStore.open(dir);
    const found = store.getRun('run-crashed');
    expect(found?.run).toMatchObject({
      status: 'failed',
      error: { code: 'INTERRUPTED' },
      finishedAt: 5002,
    });
    expect(found?.events.map((event) => event.type)).toEqual(['run-started', 'decomposition']);
    expect(store.listRuns({ status: 'running' })).toEqual([]);
    expect(store.markInterruptedRuns()).toEqual([]);
    store.close();
  });

  it("leaves a live process's run alone and marks it once that process is gone", async () => {
    const { child, exited } = await runInChild('run-live', 'stay');
    const store = RunStore.open(dir);
    try {
      expect(store.getRun('run-live')?.run.status).toBe('running');
      expect(store.markInterruptedRuns()).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(store.listRuns().map((run) => [run.id, run.status, run.error?.code])).toEqual([
      ['run-live', 'failed', 'INTERRUPTED'],
    ]);
    store.close();
  });

  it("does not mark this process's own running runs when the store is opened again", () => {
    const first = RunStore.open(dir);
    first.createRun(meta('run-mine'));
    const second = RunStore.open(dir);
    expect(second.getRun('run-mine')?.run.status).toBe('running');
    // Both connections keep writing the same history.
    second.appendEvent(toEvents('run-mine', REALISTIC_BODIES)[0]!);
    first.appendEvent({
      runId: 'run-mine',
      seq: 1,
      at: 9,
      type: 'run-finished',
      status: 'succeeded',
      error: null,
    });
    expect(second.getRun('run-mine')?.run.status).toBe('succeeded');
    first.close();
    second.close();
  });
});
