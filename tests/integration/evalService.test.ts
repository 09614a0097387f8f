/**
 * The app's evaluation commands over the real engine: three HotpotQA dev questions, Vanilla RAG and
 * Direct with a scripted replay model, the questions' paragraphs as the corpus (BM25). Every
 * command goes through dispatchCommand with output validation on; every event is checked against
 * the contract. The results read back are checked against scores worked out from the script; a
 * cancelled evaluation resumes without running a question twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  events as eventSchemas,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type ErrorPayload,
  type EventPayload,
} from '../../preload/contract.ts';
import { createAppService, type AppService } from '../../main/engine/app/AppService.ts';
import { dispatchCommand } from '../../main/engine/app/dispatchCommand.ts';
import { EVALUATIONS_DIR } from '../../main/engine/app/evalHandlers.ts';
import { HOTPOT_DEV } from '../fixtures/runReckon.ts';

const answer = (text: string, delayMs = 0) => ({
  role: 'answer',
  output: `From the passages.\n<answer>${text}</answer>`,
  ...(delayMs ? { delayMs } : {}),
});
/** Golds of the first three dev questions: yes, Chief of Protocol, Animorphs. Question by question, vanilla then direct. */
const SCRIPT = [
  answer('yes'), // q1 vanilla: EM 1
  answer('no'), // q1 direct: 0
  answer('Chief of Protocol'), // q2 vanilla: 1
  answer('nobody'), // q2 direct: 0
  answer('Animorphs'), // q3 vanilla: 1
  answer('Animorphs'), // q3 direct: 1
];

let tmp: string;
let service: AppService;
const progress: EventPayload<'onDidChangeEvalProgress'>[] = [];
const finished: EventPayload<'onDidFinishEvaluation'>[] = [];

async function dispatch(name: CommandName, input: unknown) {
  return dispatchCommand(service, name, input, {
    validateOutput: true,
    onUnexpectedError: (error) => {
      throw error;
    },
  });
}

async function invoke<N extends CommandName>(name: N, input: CommandInput<N>): Promise<CommandOutput<N>> {
  const result = await dispatch(name, input);
  if (!result.ok) throw new Error(`${name} failed: ${result.error.code}: ${result.error.message}`);
  return result.value as CommandOutput<N>;
}

async function invokeError(name: CommandName, input: unknown): Promise<ErrorPayload> {
  const result = await dispatch(name, input);
  if (result.ok) throw new Error(`${name} succeeded but was expected to fail`);
  return result.error;
}

async function finishOf(evaluationId: string, count = 1): Promise<EventPayload<'onDidFinishEvaluation'>> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const mine = finished.filter((event) => event.evaluationId === evaluationId);
    if (mine.length >= count) return mine[count - 1]!;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`evaluation ${evaluationId} did not finish`);
}

function request(model: string): CommandInput<'startEvaluation'> {
  return {
    datasets: [HOTPOT_DEV],
    methods: [{ id: 'vanilla' }, { id: 'direct' }],
    models: [`replay:${model}`],
    limit: 3,
    mode: 'bm25',
  };
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-eval-service-'));
  fs.mkdirSync(path.join(tmp, 'models'));
  service = createAppService({
    dataDir: path.join(tmp, 'data'),
    modelsDir: path.join(tmp, 'models'),
    host: 'browser',
    progressIntervalMs: 0,
    onWarning: () => {},
  });
  service.on('onDidChangeEvalProgress', (payload) => {
    expect(eventSchemas.onDidChangeEvalProgress.safeParse(payload).success).toBe(true);
    progress.push(payload);
  });
  service.on('onDidFinishEvaluation', (payload) => {
    expect(eventSchemas.onDidFinishEvaluation.safeParse(payload).success).toBe(true);
    finished.push(payload);
  });
});

afterAll(async () => {
  await service.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('evaluations in the app service', () => {
  it('refuses bad requests with a typed error before anything runs', async () => {
    expect(
      await invokeError('startEvaluation', { ...request('/x.jsonl'), datasets: ['data.json'] }),
    ).toMatchObject({
      code: 'BAD_PATH',
    });
    expect(
      await invokeError('startEvaluation', {
        ...request('/x.jsonl'),
        datasets: [path.join(tmp, 'none.json')],
      }),
    ).toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(
      await invokeError('startEvaluation', { ...request('/x.jsonl'), methods: [{ id: 'no-such-method' }] }),
    ).toMatchObject({ code: 'UNKNOWN_STRATEGY' });
    expect(
      await invokeError('startEvaluation', { ...request('/x.jsonl'), models: ['nonsense:1'] }),
    ).toMatchObject({
      code: 'BAD_MODEL_SPEC',
    });
    expect(await invokeError('getEvaluation', { evaluationId: '../../etc' })).toMatchObject({
      code: 'EVALUATION_NOT_FOUND',
    });
    expect(await invokeError('cancelEvaluation', { evaluationId: 'eval-nope' })).toMatchObject({
      code: 'EVALUATION_NOT_FOUND',
    });
  });

  it('lists the sample dataset and says why a named file cannot be used', async () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{"not": "a dataset"}');
    const { datasets } = await invoke('listEvalDatasets', { paths: [HOTPOT_DEV, bad, 'relative.json'] });
    expect(datasets.find((d) => d.path === HOTPOT_DEV)).toMatchObject({
      source: 'named',
      name: 'hotpotqa',
      questions: 200,
      hasContexts: true,
      error: null,
    });
    expect(datasets.find((d) => d.path === bad)?.error?.code).toMatch(/DATASET/);
    expect(datasets.find((d) => d.path === 'relative.json')?.error?.code).toBe('BAD_PATH');
    expect(datasets.find((d) => d.source === 'sample')).toMatchObject({ name: 'hotpotqa', error: null });
  });

  it('runs an evaluation with progress, then reports its table, charts and questions', async () => {
    const model = path.join(tmp, 'model.jsonl');
    fs.writeFileSync(model, SCRIPT.map((line) => JSON.stringify(line)).join('\n'));
    const { evaluationId } = await invoke('startEvaluation', request(model));
    expect(await finishOf(evaluationId)).toEqual({ evaluationId, status: 'done', error: null });

    const mine = progress.filter((event) => event.evaluationId === evaluationId);
    expect(mine.map((event) => event.phase)).toEqual(expect.arrayContaining(['load', 'corpus', 'run']));
    const runs = mine.filter((event) => event.phase === 'run');
    expect(runs.map((event) => event.done)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(runs.at(-1)).toMatchObject({ total: 6, etaSeconds: 0, last: { method: 'direct', score: 1 } });

    const { evaluation, datasets } = await invoke('getEvaluation', { evaluationId });
    expect(evaluation).toMatchObject({ status: 'done', datasetNames: ['hotpotqa'] });
    expect(datasets).toHaveLength(1);
    const [result] = datasets;
    expect(result).toMatchObject({ name: 'hotpotqa', questions: 3, missing: 0, primaryLabel: 'EM' });
    expect(result!.rows.map((row) => [row.method, row.primary])).toEqual([
      ['vanilla', 1],
      ['direct', 1 / 3],
    ]);
    const em = result!.columns.findIndex((column) => column.id === 'em');
    expect(result!.rows.map((row) => row.cells[em])).toEqual([
      { text: '100.0', best: true },
      { text: '33.3', best: false },
    ]);
    expect(result!.charts.cells.map((cell) => [cell.label, cell.primary])).toEqual([
      ['vanilla', 1],
      ['direct', 1 / 3],
    ]);
    expect(result!.questionRows).toHaveLength(6);
    const failedDirect = result!.questionRows.find((row) => row.method === 'direct' && row.score === 0);
    expect(failedDirect).toMatchObject({ prediction: 'no', golds: ['yes'], repaired: null, boosted: null });
    // Every question opens its saved run.
    const opened = await invoke('getRun', { runId: failedDirect!.runId });
    expect(opened.run).toMatchObject({ strategy: 'direct', answer: 'no' });
    expect(fs.existsSync(result!.reportPath!)).toBe(true);
    expect(result!.reportPath!.startsWith(path.join(tmp, 'data', EVALUATIONS_DIR, evaluationId))).toBe(true);

    const { evaluations } = await invoke('listEvaluations', {});
    expect(evaluations.map((e) => [e.id, e.status])).toContainEqual([evaluationId, 'done']);
  }, 120_000);

  it('cancels an evaluation and resumes it without running a question twice', async () => {
    const model = path.join(tmp, 'slow.jsonl');
    // The second question's first call waits 20 s: the evaluation is cancelled while it waits.
    const slow = SCRIPT.map((line, index) => (index === 2 ? { ...line, delayMs: 20_000 } : line));
    fs.writeFileSync(model, slow.map((line) => JSON.stringify(line)).join('\n'));
    const { evaluationId } = await invoke('startEvaluation', request(model));
    const deadline = Date.now() + 60_000;
    while (!progress.some((e) => e.evaluationId === evaluationId && e.done === 2) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await invoke('cancelEvaluation', { evaluationId });
    expect(await finishOf(evaluationId)).toMatchObject({ status: 'cancelled' });
    const stopped = await invoke('getEvaluation', { evaluationId });
    expect(stopped.evaluation.status).toBe('cancelled');
    expect(stopped.datasets[0]!.missing).toBe(4);

    // The replay file starts over on a new run: script the four that are left.
    fs.writeFileSync(
      model,
      SCRIPT.slice(2)
        .map((line) => JSON.stringify(line))
        .join('\n'),
    );
    await invoke('resumeEvaluation', { evaluationId });
    expect(await finishOf(evaluationId, 2)).toMatchObject({ status: 'done' });
    const resumedRuns = progress
      .filter((e) => e.evaluationId === evaluationId && e.phase === 'run')
      .slice(-5);
    expect(resumedRuns[0]).toMatchObject({ resumed: 2, done: 2, total: 6 });
    const { datasets } = await invoke('getEvaluation', { evaluationId });
    expect(datasets[0]!.missing).toBe(0);
    expect(datasets[0]!.rows.map((row) => row.primary)).toEqual([1, 1 / 3]);
    expect(new Set(datasets[0]!.questionRows.map((row) => row.runId)).size).toBe(6);
  }, 150_000);
});
