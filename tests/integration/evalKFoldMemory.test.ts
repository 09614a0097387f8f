/**
 * ICRAG's R2 built k-fold by the evaluation itself, on a GSM8K slice with replay models and the real
 * engine, run store, memory and strategy: the memory is built once from the evaluated questions
 * (a re-run calls no model for it), every question's ICRAG run leaves out its own fold and never
 * retrieves an example of it, Ctrl-C during the build keeps what was built and the next run
 * continues it; and `reckon eval --methods icrag --k-fold` says in its report that it built the
 * memory k-fold with that k.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type Engine } from '../../main/engine/createEngine.ts';
import type { LlmProvider } from '../../main/engine/models/LlmBackend.ts';
import { createReplayBackend } from '../../main/engine/models/ReplayBackend.ts';
import { RunStore } from '../../main/engine/runs/RunStore.ts';
import { loadEvalDataset } from '../../main/engine/eval/datasets/loadEvalDataset.ts';
import type { EvalDataset } from '../../main/engine/eval/datasets/EvalItem.ts';
import { EvalResultsFile } from '../../main/engine/eval/run/EvalResultsFile.ts';
import {
  hashDatasetBytes,
  runEvaluation,
  type RunEvaluationOptions,
} from '../../main/engine/eval/run/runEvaluation.ts';
import { evalMemoryName, type EvalMemoryBuild } from '../../main/engine/eval/run/buildEvalMemory.ts';
import { REPO_ROOT, runReckon } from '../fixtures/runReckon.ts';

const GSM8K = path.resolve(REPO_ROOT, '../shared/data/gsm8k/test_300.jsonl');
const QUESTIONS = 6;
const K = 3;

let tmp: string;
let engine: Engine;
let store: RunStore;
let dataset: EvalDataset;
let datasetHash: string;

beforeEach(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-eval-kfold-'));
  engine = createEngine({
    dataDir: path.join(tmp, 'data'),
    modelsDir: path.join(tmp, 'models'),
    findEmbedders: async () => [],
  });
  store = RunStore.open(path.join(tmp, 'data'));
  dataset = await loadEvalDataset(GSM8K, { limit: QUESTIONS });
  datasetHash = hashDatasetBytes(fs.readFileSync(GSM8K));
});

afterEach(async () => {
  store.close();
  await engine.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Line = { role: string; output: string };
const memoryProgram = (n: number): Line => ({
  role: 'memory-program',
  output: `\`\`\`javascript\nconst answer = ${n};\nreturn answer;\n\`\`\``,
});
/** One ICRAG run without simulated calls: c0, then a refinement that asks for no further query. */
const icragRun = (n: number): Line[] => [
  { role: 'codify', output: `\`\`\`javascript\nreturn ${n};\n\`\`\`` },
  { role: 'refine', output: JSON.stringify({ code: `return ${n};`, query: '' }) },
];

/** A provider that plays `lines` (every model of the evaluation) and counts the calls per role. */
function replayProvider(name: string, lines: Line[]): { provider: LlmProvider; calls: Map<string, number> } {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  const calls = new Map<string, number>();
  const provider: LlmProvider = async () => {
    const backend = await createReplayBackend({ file });
    return {
      backend: {
        ...backend,
        generate: (request) => {
          calls.set(request.role ?? 'generate', (calls.get(request.role ?? 'generate') ?? 0) + 1);
          return backend.generate(request);
        },
      },
      release: async () => {},
    };
  };
  return { provider, calls };
}

function evaluate(
  provider: LlmProvider,
  extra: Partial<RunEvaluationOptions> = {},
): ReturnType<typeof runEvaluation> {
  return runEvaluation(
    {
      dataset,
      datasetHash,
      corpus: null,
      methods: [{ id: 'icrag' }],
      models: ['replay:gsm8k'],
      results: EvalResultsFile.open(path.join(tmp, 'out')),
      kFold: K,
      ...extra,
    },
    { engine, llm: provider, store },
  );
}

interface R2Step {
  excludedFolds: number[];
  examples: { itemId: string; fold: number }[];
}

describe('the k-fold memory of an evaluation with ICRAG', () => {
  it('is built once from the evaluated questions, and no question retrieves an example of its own fold', async () => {
    const first = replayProvider('first.jsonl', [
      ...dataset.items.map((_, i) => memoryProgram(i)),
      ...dataset.items.flatMap((_, i) => icragRun(i)),
    ]);
    const outcome = await evaluate(first.provider);
    expect(first.calls.get('memory-program')).toBe(QUESTIONS);
    const name = evalMemoryName({
      datasetHash,
      itemIds: dataset.items.map((item) => item.id),
      model: 'replay:gsm8k',
      folds: K,
    });
    expect(outcome.memories).toEqual([
      expect.objectContaining<Partial<EvalMemoryBuild>>({
        memory: name,
        folds: K,
        pairs: QUESTIONS,
        examples: QUESTIONS,
        built: QUESTIONS,
        cancelled: false,
      }),
    ]);
    expect(outcome.records).toHaveLength(QUESTIONS);
    let retrieved = 0;
    for (const record of outcome.records) {
      expect(record.status, record.error?.message).toBe('succeeded');
      expect(record.config.options).toMatchObject({ memory: name, memoryExclude: 'own-fold' });
      // Item i went to fold i mod k (its position in the sample).
      const ownFold = dataset.items.findIndex((item) => item.id === record.itemId) % K;
      const r2 = store
        .getRun(record.runId!)!
        .events.flatMap((event) =>
          event.type === 'step' && event.kind === 'icrag-r2' ? [event.data as unknown as R2Step] : [],
        );
      expect(r2.length).toBeGreaterThan(0);
      for (const data of r2) {
        expect(data.excludedFolds).toEqual([ownFold]);
        for (const example of data.examples) {
          expect(example.fold).not.toBe(ownFold);
          expect(example.itemId).not.toBe(record.itemId);
        }
        retrieved += data.examples.length;
      }
    }
    // The exclusion left the other folds searchable: the assertions above ran on real retrievals.
    expect(retrieved).toBeGreaterThan(0);

    // Run again: every question is resumed and the memory is not built again (no model call at all).
    const second = replayProvider('second.jsonl', []);
    const again = await evaluate(second.provider);
    expect(second.calls.size).toBe(0);
    expect(again).toMatchObject({ resumed: QUESTIONS, completed: 0, cancelled: false });
    expect(again.memories).toEqual([
      expect.objectContaining({ memory: name, folds: K, examples: QUESTIONS, built: 0 }),
    ]);
  });

  it('keeps what it built when stopped during the build, and the next run continues it', async () => {
    const controller = new AbortController();
    const first = replayProvider(
      'stopped.jsonl',
      dataset.items.map((_, i) => memoryProgram(i)),
    );
    const stopped = await evaluate(first.provider, {
      signal: controller.signal,
      onProgress: (event) => {
        if (event.memory?.done === 2) controller.abort();
      },
    });
    expect(first.calls.get('memory-program')).toBe(2);
    expect(stopped).toMatchObject({ cancelled: true, completed: 0, records: [] });
    expect(stopped.memories).toEqual([expect.objectContaining({ built: 2, examples: 2, cancelled: true })]);

    // Only the four examples still missing are asked for, then the questions run.
    const rest = replayProvider('rest.jsonl', [
      ...dataset.items.slice(2).map((_, i) => memoryProgram(i + 2)),
      ...dataset.items.flatMap((_, i) => icragRun(i)),
    ]);
    const finished = await evaluate(rest.provider);
    expect(rest.calls.get('memory-program')).toBe(QUESTIONS - 2);
    expect(finished.memories).toEqual([
      expect.objectContaining({ built: QUESTIONS - 2, skipped: 2, examples: QUESTIONS, cancelled: false }),
    ]);
    expect(finished.records).toHaveLength(QUESTIONS);
  });

  it('refuses a memoryExclude that would let a question see its own fold, and a single fold', async () => {
    const { provider } = replayProvider('none.jsonl', []);
    await expect(
      evaluate(provider, { methods: [{ id: 'icrag', options: { memoryExclude: 'none' } }] }),
    ).rejects.toMatchObject({ code: 'EVAL_MEMORY_EXCLUDE' });
    // One fold would leave every question nothing to retrieve.
    await expect(evaluate(provider, { kFold: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('reckon eval --methods icrag', () => {
  it('builds the memory k-fold with --k-fold and says so in the report', async () => {
    const replay = path.join(tmp, 'cli.jsonl');
    fs.writeFileSync(
      replay,
      [0, 1, 2, 3]
        .flatMap((n) => [memoryProgram(n)])
        .concat([0, 1, 2, 3].flatMap(icragRun))
        .map((line) => `${JSON.stringify(line)}\n`)
        .join(''),
    );
    const env = {
      ...process.env,
      RECKON_HOME: path.join(tmp, 'home'),
      RECKON_MODELS_DIR: path.join(tmp, 'models'),
    };
    const run = await runReckon(
      [
        'eval',
        '--dataset',
        GSM8K,
        '--methods',
        'icrag',
        '--model',
        `replay:${replay}`,
        '--limit',
        '4',
        '--k-fold',
        '2',
        '--out',
        path.join(tmp, 'cli-out'),
      ],
      env,
      { timeoutMs: 120_000 },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\[memory 4\/4\] building R2 eval-[0-9a-f]{12}-[0-9a-f]{8}-k2 \(k=2\)/);
    expect(run.stdout).toMatch(
      /memory eval-[0-9a-f]{12}-[0-9a-f]{8}-k2 built k-fold, k=2, from the 4 evaluated questions .*4 examples: 4 new/,
    );
  });
});
