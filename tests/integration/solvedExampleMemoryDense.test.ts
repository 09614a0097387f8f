/**
 * Dense search over ICRAG's R2 with the real pieces: a memory of solved examples (SQLite), the
 * generated tiny ONNX encoder through transformers.js (a random-projection bag of words, so tasks
 * that share words are near), the corpora's usearch VectorIndex, and the engine's embedder lookup.
 * Covers: vectors stored per example, dense ranking by shared words, hybrid (RRF, k = 60) scores,
 * k-fold exclusion in every mode, a second embedder refused, a missing or damaged index file rebuilt
 * from the stored vectors (and said so), damaged stored vectors a typed error, BM25-only memories
 * (hybrid falls back and says why; dense is an error), and the ICRAG trace of the search used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type Engine } from '../../main/engine/createEngine.ts';
import {
  MEMORY_INDEX_FILE,
  MemoryLibrary,
  type SolvedExampleMemory,
} from '../../main/engine/corpus/memory/SolvedExampleMemory.ts';
import { embedSolvedExamples } from '../../main/engine/corpus/memory/embedSolvedExamples.ts';
import { searchSolvedExamples } from '../../main/engine/corpus/memory/searchSolvedExamples.ts';
import { DEFAULT_RRF_K } from '../../main/engine/corpus/search/reciprocalRankFusion.ts';
import type { Embedder } from '../../main/engine/models/Embedder.ts';
import { loadTransformersEmbedder } from '../../main/engine/models/TransformersEmbedder.ts';
import { createReplayBackend } from '../../main/engine/models/ReplayBackend.ts';
import {
  closeDefaultSandboxHost,
  runSandboxedProgram,
} from '../../main/engine/sandbox/runSandboxedProgram.ts';
import {
  icragOptionsSchema,
  memoryExclusionFor,
  runIcrag,
} from '../../main/engine/strategies/icrag/icrag.ts';
import type { TraceEventBody, TraceEventOf } from '../../preload/TraceEvent.ts';
import { makeTinyEncoder } from '../fixtures/makeTinyEncoder.ts';

const TASKS = [
  'Maria picks apples in the orchard and sells the apples at the market.',
  'A train leaves the station at noon traveling east at sixty miles per hour.',
  'Tom paints the garden fence blue over the weekend with two brushes.',
  'The bakery bakes cookies and packs twelve cookies in every box.',
  'A swimming pool is filled with water by three hoses in four hours.',
  'Lena reads chapters of her novel each night before bed.',
  'A farmer keeps goats and chickens and counts their legs.',
  'The school buys pencils for students in packs of ten.',
  'Sam saves coins in a jar and spends some on candy.',
  'A rectangle garden has a length of nine meters and a width of four.',
];
const FOLDS = 3;

let tmp: string;
let engine: Engine;
let embedder: Embedder;
let other: Embedder;

function fill(memory: SolvedExampleMemory): void {
  TASKS.forEach((task, i) =>
    memory.add({
      itemId: `ex-${i}`,
      task,
      answer: String(i),
      program: `return ${i};`,
      text: null,
      fold: i % FOLDS,
    }),
  );
}

async function buildMemory(name: string, withVectors: boolean): Promise<void> {
  const memory = engine.memories.open(name, { write: true });
  try {
    fill(memory);
    if (withVectors) await embedSolvedExamples({ memory, embedder, batchSize: 4 });
  } finally {
    memory.close();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-r2-dense-'));
  const modelsDir = path.join(tmp, 'models');
  await makeTinyEncoder({ dir: path.join(modelsDir, 'embedders', 'tiny-bow') });
  const otherDir = await makeTinyEncoder({ dir: path.join(tmp, 'elsewhere', 'wide-bow'), dimension: 48 });
  engine = createEngine({ dataDir: path.join(tmp, 'data'), modelsDir });
  const found = await engine.openEmbedder('auto');
  if (!('embedder' in found)) throw new Error(found.unavailable);
  embedder = found.embedder;
  other = await loadTransformersEmbedder({ modelDir: otherDir });
  await buildMemory('dense', true);
  await buildMemory('lexical', false);
}, 120_000);

afterAll(async () => {
  await other?.dispose();
  await engine?.close();
  await closeDefaultSandboxHost();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a memory built with an embedder', () => {
  it('stores one task vector per example, bound to the embedder, and saves the index', () => {
    expect(engine.memories.list()).toEqual([
      expect.objectContaining({
        name: 'dense',
        examples: TASKS.length,
        vectors: { modelId: 'tiny-bow', dimension: 32, count: TASKS.length },
      }),
      expect.objectContaining({ name: 'lexical', examples: TASKS.length, vectors: null }),
    ]);
    expect(fs.existsSync(path.join(engine.memories.memoryDir('dense'), MEMORY_INDEX_FILE))).toBe(true);
    const memory = engine.memories.open('dense');
    try {
      expect(memory.vectorIndex()!.status).toEqual({ kind: 'loaded' });
    } finally {
      memory.close();
    }
  });

  it('ranks the example that shares the query’s words first, with its cosine similarity as the score', async () => {
    const memory = engine.memories.open('dense');
    try {
      const query = 'How many apples does Maria pick in the orchard?';
      const result = await searchSolvedExamples(memory, query, { mode: 'dense', k: 3 });
      expect(result).toMatchObject({ requestedMode: 'dense', mode: 'dense', fallback: null, warnings: [] });
      expect(result.hits.map((hit) => hit.itemId)[0]).toBe('ex-0');
      const [queryVector, ...taskVectors] = await embedder.embed([query, ...TASKS]);
      for (const [rank, hit] of result.hits.entries()) {
        const expected = cosine(queryVector!, taskVectors[Number(hit.itemId.slice(3))]!);
        expect(hit.score).toBeCloseTo(expected, 4);
        expect(hit.scores).toEqual({ dense: { score: hit.score, rank: rank + 1 } });
      }
      const scores = result.hits.map((hit) => hit.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    } finally {
      memory.close();
    }
  });

  it('fuses BM25 and dense by reciprocal rank (k = 60) in hybrid mode', async () => {
    const memory = engine.memories.open('dense');
    try {
      const result = await searchSolvedExamples(memory, 'cookies packed in a box at the bakery', { k: 4 });
      expect(result).toMatchObject({ requestedMode: 'hybrid', mode: 'hybrid', fallback: null });
      expect(result.hits[0]!.itemId).toBe('ex-3');
      expect(result.hits[0]!.scores).toMatchObject({
        bm25: { rank: 1, score: expect.any(Number) },
        dense: { rank: expect.any(Number), score: expect.any(Number) },
      });
      for (const hit of result.hits) {
        const expected =
          (hit.scores?.bm25 ? 1 / (DEFAULT_RRF_K + hit.scores.bm25.rank) : 0) +
          (hit.scores?.dense ? 1 / (DEFAULT_RRF_K + hit.scores.dense.rank) : 0);
        expect(hit.score).toBeCloseTo(expected, 10);
      }
    } finally {
      memory.close();
    }
  });

  it('never returns a task’s own example or its fold, in every mode', async () => {
    const memory = engine.memories.open('dense');
    try {
      for (const [i, task] of TASKS.entries()) {
        // The control: with nothing excluded, the task's own example is the nearest.
        const own = await searchSolvedExamples(memory, task, { mode: 'dense', k: 1 });
        expect(own.hits[0]!.itemId).toBe(`ex-${i}`);
        const exclusion = memoryExclusionFor(memory, task, 'own-fold');
        expect(exclusion.excludeFolds).toEqual([i % FOLDS]);
        const allowed = TASKS.filter((_, j) => j % FOLDS !== i % FOLDS).length;
        for (const mode of ['dense', 'hybrid', 'bm25'] as const) {
          const { hits } = await searchSolvedExamples(memory, task, { mode, k: TASKS.length, ...exclusion });
          expect(hits.map((hit) => hit.itemId)).not.toContain(`ex-${i}`);
          expect(hits.every((hit) => hit.fold !== i % FOLDS)).toBe(true);
          // Dense still fills k from the other folds (it searches past the excluded ones).
          if (mode !== 'bm25') expect(hits).toHaveLength(allowed);
        }
        const ownTask = memoryExclusionFor(memory, task, 'own-task');
        for (const mode of ['dense', 'hybrid'] as const) {
          const { hits } = await searchSolvedExamples(memory, task, { mode, k: 3, ...ownTask });
          expect(hits).toHaveLength(3);
          expect(hits.map((hit) => hit.itemId)).not.toContain(`ex-${i}`);
        }
      }
    } finally {
      memory.close();
    }
  });

  it('refuses vectors of another embedder, and re-embeds all of them after clearVectors', async () => {
    const memory = engine.memories.open('dense', { write: true });
    try {
      memory.add({
        itemId: 'ex-new',
        task: 'A new task about kites',
        answer: '1',
        program: 'return 1;',
        text: null,
        fold: 0,
      });
      await expect(embedSolvedExamples({ memory, embedder: other })).rejects.toMatchObject({
        code: 'MEMORY_EMBEDDER_MISMATCH',
        message: expect.stringMatching(/embedded with tiny-bow \(32-d\).*wide-bow \(48-d\).*--reembed/),
      });
      expect(memory.embedderBinding()).toEqual({ modelId: 'tiny-bow', dimension: 32 });
      expect(memory.countExamplesWithoutVectors()).toBe(1);
      await embedSolvedExamples({ memory, embedder });
      expect(memory.countExamplesWithoutVectors()).toBe(0);
    } finally {
      memory.close();
    }
  });
});

describe('a damaged or missing index', () => {
  it('is rebuilt from the stored vectors, and the search says so', async () => {
    const file = path.join(engine.memories.memoryDir('dense'), MEMORY_INDEX_FILE);
    for (const [damage, reason] of [
      [() => fs.rmSync(file), /index file is missing/],
      [() => fs.writeFileSync(file, 'not a usearch index'), /damaged \(checksum mismatch\)/],
    ] as const) {
      damage();
      const memory = engine.memories.open('dense');
      try {
        const result = await searchSolvedExamples(memory, TASKS[4]!, { mode: 'dense', k: 1 });
        expect(result.hits[0]!.itemId).toBe('ex-4');
        expect(result.warnings.join(' ')).toMatch(reason);
        // Reported once per open memory, not with every search.
        expect((await searchSolvedExamples(memory, TASKS[4]!, { mode: 'dense' })).warnings).toEqual([]);
      } finally {
        memory.close();
      }
      // A reader does not write the rebuilt index; the next writer does.
      const writer = engine.memories.open('dense', { write: true });
      writer.vectorIndex();
      writer.close();
      const reopened = engine.memories.open('dense');
      expect(reopened.vectorIndex()!.status).toEqual({ kind: 'loaded' });
      reopened.close();
    }
  });

  it('is a typed error when the stored vectors it is rebuilt from are damaged', async () => {
    const dir = engine.memories.memoryDir('dense');
    fs.rmSync(path.join(dir, MEMORY_INDEX_FILE));
    const db = new Database(path.join(dir, 'memory.db'));
    db.prepare(
      `UPDATE example_vectors SET vector = x'0000' WHERE example_id = (SELECT min(example_id) FROM example_vectors)`,
    ).run();
    db.close();
    const memory = engine.memories.open('dense');
    try {
      for (const mode of ['dense', 'hybrid'] as const)
        await expect(searchSolvedExamples(memory, 'apples', { mode })).rejects.toMatchObject({
          code: 'MEMORY_VECTORS_DAMAGED',
          message: expect.stringMatching(/damaged.*--reembed/),
        });
      // BM25 does not need the vectors.
      expect((await searchSolvedExamples(memory, 'apples', { mode: 'bm25' })).hits[0]!.itemId).toBe('ex-0');
    } finally {
      memory.close();
    }
    const writer = engine.memories.open('dense', { write: true });
    writer.clearVectors();
    await embedSolvedExamples({ memory: writer, embedder });
    writer.close();
  });
});

describe('a memory without a usable dense side', () => {
  it('hybrid runs BM25 and says why; dense is a typed error', async () => {
    const memory = engine.memories.open('lexical');
    try {
      const hybrid = await searchSolvedExamples(memory, 'apples in the orchard', { k: 2 });
      expect(hybrid).toMatchObject({ requestedMode: 'hybrid', mode: 'bm25' });
      expect(hybrid.fallback).toMatch(/has no vectors/);
      expect(hybrid.hits[0]).toMatchObject({ itemId: 'ex-0', scores: { bm25: { rank: 1 } } });
      await expect(searchSolvedExamples(memory, 'apples', { mode: 'dense' })).rejects.toMatchObject({
        code: 'DENSE_UNAVAILABLE',
        message: expect.stringMatching(/memory "lexical".*no vectors.*r2Search=hybrid/),
      });
    } finally {
      memory.close();
    }
  });

  it('falls back the same way when the memory’s embedder is not installed', async () => {
    const library = new MemoryLibrary(path.join(tmp, 'data'), {
      embedders: async (modelId) => ({
        unavailable: `this memory was embedded with ${modelId}, which is not here`,
      }),
    });
    const memory = library.open('dense');
    try {
      const hybrid = await searchSolvedExamples(memory, 'apples', {});
      expect(hybrid.mode).toBe('bm25');
      expect(hybrid.fallback).toMatch(/embedded with tiny-bow, which is not here/);
      await expect(searchSolvedExamples(memory, 'apples', { mode: 'dense' })).rejects.toMatchObject({
        code: 'DENSE_UNAVAILABLE',
      });
    } finally {
      memory.close();
    }
  });
});

describe('ICRAG over a memory with vectors', () => {
  type Line = { role: string; output: string };
  let count = 0;
  async function run(lines: Line[], options: Record<string, unknown>, task: string) {
    const file = path.join(tmp, `script-${++count}.jsonl`);
    fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const llm = await createReplayBackend({ file });
    const events: TraceEventBody[] = [];
    const opened: SolvedExampleMemory[] = [];
    try {
      const outcome = await runIcrag({
        question: task,
        options: icragOptionsSchema.parse(options),
        llm,
        retrieve: async () => [],
        hasCorpus: false,
        topK: 5,
        runProgram: (runOptions) => runSandboxedProgram(runOptions),
        openMemory: (name) => {
          const memory = engine.memories.open(name);
          opened.push(memory);
          return memory;
        },
        emit: (event) => events.push(event),
        now: () => 0,
        signal: new AbortController().signal,
      });
      return { outcome, events };
    } finally {
      for (const memory of opened) memory.close();
      await llm.dispose();
    }
  }
  const r2Steps = (events: TraceEventBody[]): TraceEventOf<'step'>[] =>
    events.filter((e): e is TraceEventOf<'step'> => e.type === 'step' && e.kind === 'icrag-r2');
  const script: Line[] = [
    { role: 'codify', output: '```javascript\nreturn 7;\n```' },
    { role: 'refine', output: JSON.stringify({ code: 'return 7;', query: '' }) },
  ];

  for (const mode of ['hybrid', 'dense'] as const) {
    it(`records the ${mode} search and each snippet's scores, never the task's own fold`, async () => {
      const task = TASKS[0]!;
      const { outcome, events } = await run(script, { memory: 'dense', r2Search: mode }, task);
      expect(outcome).toMatchObject({
        answer: '7',
        failure: null,
        metrics: { strategy: { r2Search: mode } },
      });
      const [step] = r2Steps(events);
      const data = step!.data as {
        search: unknown;
        excludedFolds: number[];
        examples: { itemId: string; fold: number; score: number; scores: Record<string, unknown> }[];
      };
      expect(data.search).toEqual({ requested: mode, used: mode, fallback: null });
      expect(step!.title).toContain(`${mode} search`);
      expect(data.excludedFolds).toEqual([0]);
      expect(data.examples).toHaveLength(3);
      for (const example of data.examples) {
        expect(example.itemId).not.toBe('ex-0');
        expect(example.fold).not.toBe(0);
        expect(example.scores.dense).toMatchObject({ score: expect.any(Number), rank: expect.any(Number) });
      }
    });
  }

  it('stops before its first model call when dense is asked of a memory without vectors', async () => {
    await expect(run([], { memory: 'lexical', r2Search: 'dense' }, TASKS[0]!)).rejects.toMatchObject({
      code: 'DENSE_UNAVAILABLE',
    });
  });

  it('runs hybrid as BM25 on a memory without vectors, with one warning and the reason in the trace', async () => {
    const { events, outcome } = await run(script, { memory: 'lexical' }, 'Who picks apples?');
    expect(outcome.metrics.strategy).toMatchObject({ r2Search: 'bm25' });
    const [step] = r2Steps(events);
    expect((step!.data as { search: unknown }).search).toEqual({
      requested: 'hybrid',
      used: 'bm25',
      fallback: expect.stringMatching(/has no vectors/),
    });
    expect(events.filter((e) => e.type === 'warning')).toHaveLength(1);
  });
});
