/**
 * Edit & re-run over the real engine: a PyRAG run with a scripted replay model, then its program
 * edited and run again through the app service (rerunProgram) and the CLI (`run-program
 * --from-run`): unchanged calls come from the run's record (marked cached), new ones go to the
 * retriever and the model, and the new run links back to the one it came from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  ErrorPayload,
  EventPayload,
} from '../../preload/contract.ts';
import { createAppService, type AppService } from '../../main/engine/app/AppService.ts';
import { dispatchCommand } from '../../main/engine/app/dispatchCommand.ts';
import type { RunResult } from '../../main/engine/runs/startRun.ts';
import { ofType, runReckon } from '../fixtures/runReckon.ts';
import type { TraceEvent } from '../../preload/TraceEvent.ts';

const QUESTION = 'What is the capital of France?';
const SOURCE_PROGRAM = [
  'const docs = await retrieve("capital of France");',
  `const capital = await answer(${JSON.stringify(QUESTION)}, docs);`,
  'return capital;',
].join('\n');
const SOURCE_SCRIPT = [
  { role: 'decompose', output: JSON.stringify([QUESTION]) },
  { role: 'plan', output: `\`\`\`javascript\n${SOURCE_PROGRAM}\n\`\`\`` },
  { role: 'answer', output: 'Document [1] says so.\n<answer>Paris</answer>' },
];
/** The edit: the first two calls unchanged, then a new search and a new question. */
const EDITED_PROGRAM = [
  'const docs = await retrieve("capital of France");',
  `const capital = await answer(${JSON.stringify(QUESTION)}, docs);`,
  'const more = await retrieve("capital of Germany");',
  'const other = await answer("What is the capital of Germany?", more);',
  'return `${capital} and ${other}`;',
].join('\n');

let tmp: string;
let dataDir: string;
let service: AppService;
let sourceRunId: string;
let editedReplay: string;
const trace: EventPayload<'onDidRecordTraceStep'>[] = [];
const unexpected: unknown[] = [];

async function call<N extends CommandName>(
  name: N,
  input: CommandInput<N>,
): Promise<{ ok: true; value: CommandOutput<N> } | { ok: false; error: ErrorPayload }> {
  const result = await dispatchCommand(service, name, input, {
    validateOutput: true,
    onUnexpectedError: (error) => unexpected.push(error),
  });
  return result.ok ? { ok: true, value: result.value as CommandOutput<N> } : result;
}

async function invoke<N extends CommandName>(name: N, input: CommandInput<N>): Promise<CommandOutput<N>> {
  const result = await call(name, input);
  if (!result.ok) throw new Error(`${name} failed: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function finished(runId: string): Promise<TraceEvent[]> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const events = trace.filter((e) => e.runId === runId);
    if (events.some((e) => e.type === 'run-finished')) return events;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`run ${runId} did not finish`);
}

function writeReplay(name: string, lines: object[]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  return file;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-rerun-'));
  dataDir = path.join(tmp, 'data');
  const docsDir = path.join(tmp, 'docs');
  fs.mkdirSync(docsDir, { recursive: true });
  fs.writeFileSync(path.join(docsDir, 'paris.txt'), 'Paris is the capital of France.\n');
  fs.writeFileSync(path.join(docsDir, 'berlin.txt'), 'Berlin is the capital of Germany.\n');
  service = createAppService({ dataDir, modelsDir: path.join(tmp, 'models'), host: 'browser' });
  service.on('onDidRecordTraceStep', (event) => trace.push(event));
  const { jobId } = await invoke('ingestPaths', { corpus: 'capitals', paths: [docsDir], embedder: 'none' });
  const ingestDone = new Promise<void>((resolve) =>
    service.on('onDidChangeIngestProgress', (event) => {
      if (event.jobId === jobId && (event.result !== null || event.error !== null)) resolve();
    }),
  );
  await ingestDone;
  const { runId } = await invoke('startRun', {
    question: QUESTION,
    corpus: 'capitals',
    strategy: 'pyrag',
    options: { adaptiveRetrieval: false },
    model: `replay:${writeReplay('source.jsonl', SOURCE_SCRIPT)}`,
    mode: 'bm25',
  });
  sourceRunId = runId;
  expect((await finished(runId)).at(-1)).toMatchObject({ type: 'run-finished', status: 'succeeded' });
  editedReplay = writeReplay('edited.jsonl', [
    { role: 'answer', output: 'Document [1] says so.\n<answer>Berlin</answer>' },
  ]);
});

afterAll(async () => {
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('rerunProgram', () => {
  it('reuses the recorded results of unchanged calls and runs the new ones', async () => {
    const { runId } = await invoke('rerunProgram', {
      fromRunId: sourceRunId,
      program: EDITED_PROGRAM,
      model: `replay:${editedReplay}`,
    });
    const events = await finished(runId);
    expect(events[0]).toMatchObject({
      type: 'run-started',
      parentRunId: sourceRunId,
      strategy: 'program-edit',
      question: QUESTION,
      corpus: 'capitals',
    });
    expect(ofType(events, 'program-generated')).toEqual([
      expect.objectContaining({ purpose: 'user', code: EDITED_PROGRAM }),
    ]);
    const results = ofType(events, 'tool-result');
    expect(results.map((r) => [r.tool, r.cached === true])).toEqual([
      ['retrieve', true],
      ['answer', true],
      ['retrieve', false],
      ['answer', false],
    ]);
    expect(results[0]!.chunks![0]!.source).toMatch(/paris\.txt$/);
    expect(ofType(events, 'final-answer')[0]!.answer).toBe('Paris and Berlin');
    // Only the new answer() went to the model.
    expect(ofType(events, 'metrics')[0]!.metrics).toMatchObject({
      llmCalls: 1,
      strategy: { cachedCalls: 2 },
    });

    const edited = await invoke('getRun', { runId });
    expect(edited.run).toMatchObject({ parentRunId: sourceRunId, strategy: 'program-edit' });
    expect((await invoke('getRun', { runId: sourceRunId })).childRunIds).toEqual([runId]);
    expect(unexpected).toEqual([]);
  });

  it('refuses what it cannot run, with the reason', async () => {
    const refused = async (input: CommandInput<'rerunProgram'>): Promise<string | undefined> => {
      const result = await call('rerunProgram', input);
      return result.ok ? undefined : result.error.code;
    };
    expect(await refused({ fromRunId: 'run-20200101-000000-zzzz', program: 'return 1;' })).toBe(
      'RUN_NOT_FOUND',
    );
    expect(await refused({ fromRunId: sourceRunId, program: '  \n' })).toBe('EMPTY_PROGRAM');
    expect(await refused({ fromRunId: sourceRunId, program: 'return 1;', execution: 9 })).toBe(
      'EXECUTION_NOT_FOUND',
    );
  });

  it('is what `reckon run-program --from-run` does too', async () => {
    const env = { ...process.env, RECKON_HOME: dataDir, RECKON_MODELS_DIR: path.join(tmp, 'models') };
    const file = path.join(tmp, 'edited.js');
    fs.writeFileSync(file, EDITED_PROGRAM);
    const run = await runReckon(
      ['run-program', file, '--from-run', sourceRunId, '--model', `replay:${editedReplay}`, '--json'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(result.status).toBe('succeeded');
    expect(ofType(result.events, 'run-started')[0]).toMatchObject({ parentRunId: sourceRunId });
    expect(ofType(result.events, 'tool-result').map((r) => r.cached === true)).toEqual([
      true,
      true,
      false,
      false,
    ]);

    const unknown = await runReckon(['run-program', file, '--from-run', 'run-nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no run with id run-nope/);
    const both = await runReckon(['run-program', file, '--from-run', sourceRunId, '--corpus', 'x'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/leave out --corpus/);
  });
});
