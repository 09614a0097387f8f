/**
 * runEvaluation with the real engine, run store and strategies, and a hand-written model: stopping
 * mid-way records only whole questions and a second call finishes without repeating one; N at once
 * gives the same records as one at a time and never more than the model serves in parallel; a
 * dataset's paragraphs become a corpus once, reused, with no answer field in it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type Engine } from '../../main/engine/createEngine.ts';
import { parseFile } from '../../main/engine/corpus/loaders/parseFile.ts';
import { CancelledError } from '../../main/engine/errors.ts';
import type { GenerateOptions, LlmBackend, LlmProvider } from '../../main/engine/models/LlmBackend.ts';
import { RunStore } from '../../main/engine/runs/RunStore.ts';
import { loadEvalDataset } from '../../main/engine/eval/datasets/loadEvalDataset.ts';
import type { EvalDataset } from '../../main/engine/eval/datasets/EvalItem.ts';
import { EVAL_RESULTS_FILE, EvalResultsFile } from '../../main/engine/eval/run/EvalResultsFile.ts';
import type { EvalRecord } from '../../main/engine/eval/run/EvalRecord.ts';
import { prepareEvalCorpus } from '../../main/engine/eval/run/prepareEvalCorpus.ts';
import {
  hashDatasetBytes,
  runEvaluation,
  runEvaluations,
  type RunEvaluationOptions,
} from '../../main/engine/eval/run/runEvaluation.ts';
import { HOTPOT_DEV } from '../fixtures/runReckon.ts';
import { startSumsChatServer } from '../fixtures/sumsChatServer.ts';
import { createOpenAiBackend } from '../../main/engine/models/OpenAiBackend.ts';

let tmp: string;
let engine: Engine;
let store: RunStore;
let datasetFile: string;
let dataset: EvalDataset;

const QUESTIONS = [1, 2, 3, 4, 5, 6].map((n) => ({
  id: `q${n}`,
  question: `What is ${n} plus ${n}?`,
  answer: String(2 * n),
}));

beforeEach(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-eval-runner-'));
  engine = createEngine({
    dataDir: path.join(tmp, 'data'),
    modelsDir: path.join(tmp, 'models'),
    findEmbedders: async () => [],
    createParser: async ({ limits }) => ({
      parse: (file, opts) =>
        parseFile(file, { ...(limits ? { limits } : {}), ...(opts?.signal ? { signal: opts.signal } : {}) }),
      close: async () => {},
    }),
  });
  store = RunStore.open(path.join(tmp, 'data'));
  datasetFile = path.join(tmp, 'sums.jsonl');
  fs.writeFileSync(datasetFile, QUESTIONS.map((q) => JSON.stringify(q)).join('\n'));
  dataset = await loadEvalDataset(datasetFile);
});

afterEach(async () => {
  store.close();
  await engine.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface FakeModel {
  provider: LlmProvider;
  calls: number;
  loads: number;
  releases: number;
  maxInFlight: number;
}

/**
 * A model that answers "What is n plus n?" with 2n — except n = 5, which it gets wrong (11) — after
 * `delayMs(n)`; `block(n)` makes the call wait until it is cancelled.
 */
function fakeModel(options: {
  parallelism: number;
  delayMs?: (n: number) => number;
  block?: (n: number) => boolean;
  onBlocked?: () => void;
}): FakeModel {
  const model: FakeModel = { provider: undefined as never, calls: 0, loads: 0, releases: 0, maxInFlight: 0 };
  let inFlight = 0;
  const generate = async (request: GenerateOptions) => {
    model.calls++;
    inFlight++;
    model.maxInFlight = Math.max(model.maxInFlight, inFlight);
    try {
      const text = request.messages.map((m) => m.content).join('\n');
      const n = Number(/What is (\d+) plus/.exec(text)?.[1]);
      if (options.block?.(n)) {
        options.onBlocked?.();
        await new Promise((_, reject) => {
          if (request.signal?.aborted) reject(new CancelledError());
          request.signal?.addEventListener('abort', () => reject(new CancelledError()));
        });
      }
      await new Promise((resolve) => setTimeout(resolve, options.delayMs?.(n) ?? 0));
      return {
        text: `Adding them.\n<answer>${n === 5 ? 11 : 2 * n}</answer>`,
        promptTokens: 10,
        completionTokens: 3,
      };
    } finally {
      inFlight--;
    }
  };
  const backend: LlmBackend = {
    id: 'fake',
    parallelism: options.parallelism,
    generate,
    dispose: async () => {},
  };
  model.provider = async () => {
    model.loads++;
    return { backend, release: async () => void model.releases++ };
  };
  return model;
}

function evaluate(results: EvalResultsFile, model: FakeModel, extra: Partial<RunEvaluationOptions> = {}) {
  return runEvaluation(
    {
      dataset,
      datasetHash: hashDatasetBytes(fs.readFileSync(datasetFile)),
      methods: [{ id: 'direct' }, { id: 'cot' }],
      models: ['fake-model'],
      corpus: null,
      results,
      ...extra,
    },
    { engine, llm: model.provider, store },
  );
}

/** A record without what differs between two runs of the same measurement. */
const stable = (record: EvalRecord) => {
  const { runId: _runId, seconds: _seconds, finishedAt: _finishedAt, ...rest } = record;
  return rest;
};

describe('runEvaluation', () => {
  it('stops cleanly when cancelled and finishes on the next call without repeating a question', async () => {
    const out = path.join(tmp, 'out');
    const controller = new AbortController();
    // q1 and q2 (both methods) finish; the first call on q3 waits until the evaluation is stopped.
    const first = fakeModel({
      parallelism: 1,
      block: (n) => n === 3,
      onBlocked: () => setTimeout(() => controller.abort(), 20),
    });
    const stopped = await evaluate(EvalResultsFile.open(out), first, { signal: controller.signal });
    expect(stopped).toMatchObject({ cancelled: true, resumed: 0, completed: 4 });
    expect(stopped.records.map((r) => `${r.config.method}:${r.itemId}`).sort()).toEqual([
      'cot:q1',
      'cot:q2',
      'direct:q1',
      'direct:q2',
    ]);
    expect(first.releases).toBe(first.loads);
    const lines = fs.readFileSync(path.join(out, EVAL_RESULTS_FILE), 'utf8').split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.at(-1)).toBe('');
    // The cancelled run is in the store, marked so, and linked from no record.
    const cancelled = store.listRuns({ status: 'cancelled' });
    expect(cancelled).toHaveLength(1);
    expect(stopped.records.map((r) => r.runId)).not.toContain(cancelled[0]!.id);

    const second = fakeModel({ parallelism: 1 });
    const finished = await evaluate(EvalResultsFile.open(out), second);
    expect(finished).toMatchObject({ cancelled: false, resumed: 4, completed: 8 });
    expect(second.calls).toBe(8);
    expect(finished.records).toHaveLength(12);
    // Plan order: method by method, each in dataset order.
    expect(finished.records.map((r) => `${r.config.method}:${r.itemId}`)).toEqual([
      ...QUESTIONS.map((q) => `direct:${q.id}`),
      ...QUESTIONS.map((q) => `cot:${q.id}`),
    ]);
    expect(fs.readFileSync(path.join(out, EVAL_RESULTS_FILE), 'utf8').trim().split('\n')).toHaveLength(12);
    const direct5 = finished.records.find((r) => r.itemId === 'q5' && r.config.method === 'direct')!;
    expect(direct5).toMatchObject({
      prediction: '11',
      golds: ['10'],
      score: { metrics: { em: 0 } },
      llmCalls: 1,
      tokensEstimated: false,
    });
    expect(finished.records.filter((r) => r.score.metrics.em === 1)).toHaveLength(10);
    for (const record of finished.records) expect(store.getRun(record.runId)?.run.status).toBe('succeeded');

    // A third call has nothing to do and loads no model.
    const third = fakeModel({ parallelism: 1 });
    const again = await evaluate(EvalResultsFile.open(out), third);
    expect(again).toMatchObject({ resumed: 12, completed: 0, cancelled: false });
    expect(third.loads).toBe(0);
  });

  it('runs N at once up to the model’s parallelism, with the same records as one at a time', async () => {
    const delayMs = (n: number) => (7 - n) * 15;
    const sequential = await evaluate(
      EvalResultsFile.open(path.join(tmp, 'one')),
      fakeModel({ parallelism: 4, delayMs }),
    );
    const wide = fakeModel({ parallelism: 4, delayMs });
    const parallel = await evaluate(EvalResultsFile.open(path.join(tmp, 'four')), wide, { concurrency: 4 });
    expect(wide.maxInFlight).toBeGreaterThan(1);
    expect(wide.maxInFlight).toBeLessThanOrEqual(4);
    expect(parallel.records.map(stable)).toEqual(sequential.records.map(stable));

    const narrow = fakeModel({ parallelism: 1, delayMs });
    await evaluate(EvalResultsFile.open(path.join(tmp, 'narrow')), narrow, { concurrency: 4 });
    expect(narrow.maxInFlight).toBe(1);
  });
});

describe('runEvaluation against an OpenAI-compatible server', () => {
  it('sends exactly N questions at once, and the records equal a sequential run’s', async () => {
    // Later questions answer sooner, so at concurrency 4 runs finish out of order.
    const server = await startSumsChatServer((n) => (7 - n) * 15);
    const provider: LlmProvider = async () => ({
      backend: createOpenAiBackend({ baseUrl: server.baseUrl, model: 'm' }),
      release: async () => {},
    });
    try {
      const run = (dir: string, concurrency: number) =>
        runEvaluation(
          {
            dataset,
            datasetHash: hashDatasetBytes(fs.readFileSync(datasetFile)),
            methods: [{ id: 'direct' }, { id: 'cot' }],
            models: [`openai:${server.baseUrl}#m`],
            corpus: null,
            results: EvalResultsFile.open(path.join(tmp, dir)),
            concurrency,
          },
          { engine, llm: provider, store },
        );
      const sequential = await run('one', 1);
      expect(server.stats.maxInFlight).toBe(1);
      server.stats.maxInFlight = 0;
      const parallel = await run('four', 4);
      expect(server.stats.maxInFlight).toBe(4);
      expect(parallel.records).toHaveLength(12);
      expect(parallel.records.every((r) => r.score.metrics.em === 1 && !r.tokensEstimated)).toBe(true);
      expect(parallel.records.map(stable)).toEqual(sequential.records.map(stable));
    } finally {
      await server.close();
    }
  });
});

describe('runEvaluation with two models', () => {
  it('loads each model once, one after another, and keys their records apart', async () => {
    const loads: string[] = [];
    const model = fakeModel({ parallelism: 1 });
    const provider: LlmProvider = async (spec, signal) => {
      loads.push(`load ${spec}`);
      const lease = await model.provider(spec, signal);
      return { backend: lease.backend, release: async () => void loads.push(`release ${spec}`) };
    };
    const outcome = await runEvaluation(
      {
        dataset,
        datasetHash: 'h',
        methods: [{ id: 'direct' }],
        models: ['model-a', 'model-b'],
        corpus: null,
        results: EvalResultsFile.open(path.join(tmp, 'two')),
      },
      { engine, llm: provider, store },
    );
    expect(loads).toEqual(['load model-a', 'release model-a', 'load model-b', 'release model-b']);
    expect(outcome.configs.map((c) => c.config.model)).toEqual(['model-a', 'model-b']);
    expect(new Set(outcome.configs.map((c) => c.configKey)).size).toBe(2);
    expect(outcome.records).toHaveLength(12);
    expect(model.calls).toBe(12);
  });
});

describe('runEvaluations over two datasets', () => {
  it('loads the model once for both, keeps each dataset’s records apart, and resumes each on its own', async () => {
    const otherFile = path.join(tmp, 'more-sums.jsonl');
    fs.writeFileSync(
      otherFile,
      [7, 8]
        .map((n) =>
          JSON.stringify({ id: `q${n - 6}`, question: `What is ${n} plus ${n}?`, answer: String(2 * n) }),
        )
        .join('\n'),
    );
    const other = await loadEvalDataset(otherFile);
    const results = EvalResultsFile.open(path.join(tmp, 'two-datasets'));
    const part = (d: EvalDataset, file: string) => ({
      dataset: d,
      datasetHash: hashDatasetBytes(fs.readFileSync(file)),
      corpus: null,
    });
    // The first dataset alone, then both: only the second one's questions run.
    await runEvaluation(
      { ...part(dataset, datasetFile), methods: [{ id: 'direct' }], models: ['fake'], results },
      { engine, llm: fakeModel({ parallelism: 1 }).provider, store },
    );
    const model = fakeModel({ parallelism: 1 });
    const outcome = await runEvaluations(
      {
        datasets: [part(dataset, datasetFile), part(other, otherFile)],
        methods: [{ id: 'direct' }],
        models: ['fake'],
        results,
      },
      { engine, llm: model.provider, store },
    );
    expect(model.loads).toBe(1);
    expect(model.calls).toBe(2);
    expect(outcome).toMatchObject({ resumed: 6, completed: 2, cancelled: false });
    expect(outcome.parts.map((p) => [p.dataset.name, p.records.map((r) => r.itemId)])).toEqual([
      ['sums', QUESTIONS.map((q) => q.id)],
      ['more-sums', ['q1', 'q2']],
    ]);
    // q1 and q2 are ids in both files, yet separate measurements: the dataset's hash is in the key.
    expect(outcome.parts[1]!.records.map((r) => r.prediction)).toEqual(['14', '16']);
    expect(outcome.parts[0]!.configs[0]!.configKey).not.toBe(outcome.parts[1]!.configs[0]!.configKey);
  });
});

describe('prepareEvalCorpus', () => {
  it('builds the corpus of a HotpotQA sample once, from titles and texts only, and reuses it', async () => {
    const hotpot = await loadEvalDataset(HOTPOT_DEV, { limit: 3 });
    const options = {
      dataset: hotpot,
      corpusFilesDir: path.join(tmp, 'data/eval-corpora'),
      embedder: 'none' as const,
    };
    const first = await prepareEvalCorpus(engine, options);
    expect(first).toMatchObject({ paragraphs: 30, ingested: true });
    expect(first.name).toMatch(/^eval-hotpotqa-[0-9a-f]{12}$/);
    const lines = fs
      .readFileSync(first.file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as object);
    expect(lines).toHaveLength(30);
    for (const line of lines) expect(Object.keys(line).sort()).toEqual(['text', 'title']);
    const second = await prepareEvalCorpus(engine, options);
    expect(second).toEqual({ ...first, ingested: false });
    const other = await prepareEvalCorpus(engine, {
      ...options,
      dataset: await loadEvalDataset(HOTPOT_DEV, { limit: 2 }),
    });
    expect(other.name).not.toBe(first.name);

    // vanilla over it: retrieved titles come from the trace, recall is scored against the gold titles.
    const results = EvalResultsFile.open(path.join(tmp, 'hotpot-out'));
    const model = fakeModel({ parallelism: 1 });
    const outcome = await runEvaluation(
      {
        dataset: hotpot,
        datasetHash: 'h',
        methods: [{ id: 'vanilla' }],
        models: ['fake'],
        corpus: first.name,
        results,
        searchMode: 'bm25',
      },
      { engine, llm: model.provider, store },
    );
    expect(outcome.records).toHaveLength(3);
    for (const record of outcome.records) {
      expect(record.retrievedTitles.length).toBeGreaterThan(0);
      expect(record.score.metrics.paragraph_recall).toBeGreaterThanOrEqual(0);
      expect(record.config.corpus).toBe(first.name);
    }
    expect(outcome.records[0]!.retrievedTitles).toEqual(
      expect.arrayContaining(['Scott Derrickson', 'Ed Wood']),
    );
    expect(outcome.records[0]!.score.metrics.paragraph_recall).toBe(1);
  });
});
