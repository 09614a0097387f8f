/**
 * PROGRAM's final rerank by a real cross-encoder: the engine finds the generated tiny cross-encoder
 * in models/rerankers/ and loads it with transformers.js, a scripted replay run over a corpus
 * embedded by the generated tiny encoder reranks its pool with it, and the trace names it. The tiny
 * cross-encoder's logit is exact arithmetic (makeTinyCrossEncoder): 8 · (share of the question's
 * word pieces found in the passage − ½), so the rerank order below is certain, not what a random
 * model happens to say. Also: the fallbacks (no cross-encoder, a broken one), a cross-encoder asked
 * for that is not there, the catalog entry pulled by the real downloader (files served by a
 * stand-in fetch: there is no Hub access here) and removed, and `reckon models list | check` and
 * `reckon ask` through the real command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type Engine } from '../../main/engine/createEngine.ts';
import { parseFile } from '../../main/engine/corpus/loaders/parseFile.ts';
import { requireCatalogEntry } from '../../main/engine/models/catalog.ts';
import { downloadModel } from '../../main/engine/models/downloadModel.ts';
import { removeModel } from '../../main/engine/models/removeModel.ts';
import { createReplayBackend } from '../../main/engine/models/ReplayBackend.ts';
import { startRun, type RunResult } from '../../main/engine/runs/startRun.ts';
import { makeTinyCrossEncoder, makeTinyEncoder } from '../fixtures/makeTinyEncoder.ts';
import { type CliRun, ofType, runReckon } from '../fixtures/runReckon.ts';

const QUESTION = 'Which river flows through Paris?';
/** Question pieces: which, river, flows, through, paris, ? — six. */
const DOCS: Record<string, { text: string; found: number }> = {
  'seine.txt': { text: 'The Seine river flows through Paris.', found: 4 },
  'streams.txt': { text: 'A river flows to the sea.', found: 2 },
  'capital.txt': { text: 'Paris is the capital of France and a city of museums.', found: 1 },
  'jazz.txt': { text: 'Jazz began in New Orleans.', found: 0 },
};
const logitOf = (found: number): number => 8 * (found / 6 - 0.5);
/** The rerank order the arithmetic gives, best first. */
const EXPECTED_ORDER = ['seine.txt', 'streams.txt', 'capital.txt', 'jazz.txt'];

const SCRIPT = [
  { role: 'program-types', output: JSON.stringify({ types: ['Simple Fact'] }) },
  { role: 'program-candidates', output: JSON.stringify({ queries: ['river Paris'] }) },
  {
    role: 'program-answer',
    output: 'Document [1] says the Seine flows through Paris.\n<answer>the Seine</answer>',
  },
];

let tmp: string;
let modelsDir: string;
let scriptFile: string;
let engine: Engine;

function makeEngine(models: string): Engine {
  return createEngine({
    dataDir: path.join(tmp, 'data'),
    modelsDir: models,
    createParser: async ({ limits }) => ({
      parse: (file, opts) =>
        parseFile(file, { ...(limits ? { limits } : {}), ...(opts?.signal ? { signal: opts.signal } : {}) }),
      close: async () => {},
    }),
  });
}

async function ask(on: Engine, options: Record<string, unknown> = {}): Promise<RunResult> {
  const backend = await createReplayBackend({ file: scriptFile });
  return startRun(
    {
      kind: 'question',
      question: QUESTION,
      strategy: 'program',
      model: `replay:${scriptFile}`,
      corpus: 'notes',
      topK: 4,
      options,
    },
    { engine: on, llm: async () => ({ backend, release: () => backend.dispose() }) },
  ).done;
}

/** A models folder of its own with the same embedder (linked), and no reranker yet. */
function modelsWithTinyEmbedder(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.join(modelsDir, 'embedders'), path.join(dir, 'embedders'));
  return dir;
}

const stepOf = (result: RunResult, kind: string) =>
  ofType(result.events, 'step').find((step) => step.kind === kind)!;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-cross-encoder-'));
  modelsDir = path.join(tmp, 'models');
  await makeTinyEncoder({ dir: path.join(modelsDir, 'embedders', 'tiny-bow') });
  await makeTinyCrossEncoder({ dir: path.join(modelsDir, 'rerankers', 'tiny-overlap') });
  const docs = path.join(tmp, 'docs');
  fs.mkdirSync(docs);
  for (const [name, doc] of Object.entries(DOCS)) fs.writeFileSync(path.join(docs, name), doc.text);
  scriptFile = path.join(tmp, 'program.jsonl');
  fs.writeFileSync(scriptFile, `${SCRIPT.map((line) => JSON.stringify(line)).join('\n')}\n`);
  engine = makeEngine(modelsDir);
  const ingested = await engine.ingest('notes', [docs]);
  expect(ingested).toMatchObject({ added: 4, embedderId: 'tiny-bow' });
}, 60_000);

afterAll(async () => {
  await engine?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('PROGRAM with the tiny cross-encoder', () => {
  it('reranks the pool by the cross-encoder, says so, and answers over its top k', async () => {
    const result = await ask(engine, { finalTopK: 2 });
    expect(result).toMatchObject({ status: 'succeeded', answer: 'the Seine' });
    expect(stepOf(result, 'similarity').data).toMatchObject({
      similarity: 'embedding',
      reranker: 'cross-encoder:tiny-overlap',
      crossEncoder: true,
    });
    const rerank = stepOf(result, 'program-rerank');
    const data = rerank.data as {
      reranker: string;
      order: { title: string; score: number; kept: boolean }[];
    };
    expect(data.reranker).toBe('cross-encoder:tiny-overlap');
    expect(rerank.title).toMatch(/the cross-encoder tiny-overlap; kept 2 of 4/);
    const pool = stepOf(result, 'program-pool').data as { docs: { source: string }[] };
    expect(pool.docs.map((doc) => path.basename(doc.source)).sort()).toEqual([...EXPECTED_ORDER].sort());
    expect(data.order.map((entry) => entry.score)).toEqual(
      EXPECTED_ORDER.map((name) => expect.closeTo(logitOf(DOCS[name]!.found), 5)),
    );
    expect(data.order.map((entry) => entry.kept)).toEqual([true, true, false, false]);
    expect(result.metrics.strategy).toMatchObject({ reranker: 'cross-encoder:tiny-overlap' });
    // The answer read the passages the cross-encoder kept, in its order.
    expect(result.citations.map((citation) => citation.excerpt)).toEqual([DOCS['seine.txt']!.text]);
  });

  it('uses embedding similarity when asked to, with the cross-encoder installed', async () => {
    const result = await ask(engine, { reranker: 'embedding' });
    expect(result.status).toBe('succeeded');
    expect(stepOf(result, 'program-rerank').data).toMatchObject({ reranker: 'embedding' });
  });

  it('falls back to embedding similarity without a cross-encoder, and fails a run that asked for one', async () => {
    const without = makeEngine(modelsWithTinyEmbedder('models-without-reranker'));
    try {
      const auto = await ask(without);
      expect(auto.status).toBe('succeeded');
      expect(stepOf(auto, 'similarity').data).toMatchObject({
        reranker: 'embedding',
        crossEncoderUnavailable: expect.stringMatching(/no cross-encoder in .*rerankers/),
      });
      const asked = await ask(without, { reranker: 'cross-encoder' });
      expect(asked).toMatchObject({
        status: 'failed',
        answer: null,
        error: { code: 'RERANKER_UNAVAILABLE', message: expect.stringMatching(/reckon models pull/) },
      });
      expect(asked.metrics.llmCalls).toBe(0);
    } finally {
      await without.close();
    }
  });

  it('reports a broken cross-encoder as the reason for the fallback', async () => {
    const broken = modelsWithTinyEmbedder('models-with-broken-reranker');
    const dir = await makeTinyCrossEncoder({ dir: path.join(broken, 'rerankers', 'broken') });
    fs.writeFileSync(path.join(dir, 'onnx', 'model_quantized.onnx'), 'not a protobuf');
    const withBroken = makeEngine(broken);
    try {
      const auto = await ask(withBroken);
      expect(auto.status).toBe('succeeded');
      expect(stepOf(auto, 'similarity').data).toMatchObject({
        reranker: 'embedding',
        crossEncoderUnavailable: expect.stringMatching(/onnx\/model_quantized\.onnx is corrupt/),
      });
    } finally {
      await withBroken.close();
    }
  });
});

describe('the catalog cross-encoder', () => {
  it('is pulled by the real downloader into rerankers/, preferred by the engine, and removed as a folder', async () => {
    // No Hub access here: a stand-in fetch serves the tiny cross-encoder's files at the catalog URLs.
    const served = await makeTinyCrossEncoder({ dir: path.join(tmp, 'served') });
    const entry = requireCatalogEntry('ms-marco-MiniLM-L-6-v2');
    const requested: string[] = [];
    const stubFetch = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      requested.push(url);
      const file = entry.files.find((candidate) => candidate.url === url);
      if (!file) return new Response('not found', { status: 404 });
      return new Response(fs.readFileSync(path.join(served, file.path)), { status: 200 });
    }) as typeof fetch;
    const pulledModels = path.join(tmp, 'pulled-models');
    const result = await downloadModel({ entry, modelsDir: pulledModels, fetch: stubFetch });
    const installDir = path.join(pulledModels, 'rerankers', 'ms-marco-MiniLM-L-6-v2');
    expect(result.paths).toEqual(entry.files.map((file) => path.join(installDir, file.path)));
    expect(requested).toEqual(entry.files.map((file) => file.url));

    // Another cross-encoder that sorts first by name: the catalog's is still the one used.
    await makeTinyCrossEncoder({ dir: path.join(pulledModels, 'rerankers', 'aaa-other') });
    const pulled = makeEngine(pulledModels);
    try {
      const reranker = await pulled.reranker();
      if ('unavailable' in reranker) throw new Error(reranker.unavailable);
      expect(reranker.modelId).toBe('ms-marco-MiniLM-L-6-v2');
      expect(await reranker.score('red apple', ['a red apple pie', 'blue sky'])).toEqual([4, -4]);
      // Loaded once and kept.
      expect(await pulled.reranker()).toBe(reranker);
    } finally {
      await pulled.close();
    }
    const removed = await removeModel('ms-marco-MiniLM-L-6-v2', { modelsDir: pulledModels });
    expect(removed.removed).toEqual([installDir]);
    expect(fs.existsSync(installDir)).toBe(false);
  });
});

describe('the cross-encoder through the reckon command', () => {
  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    RECKON_HOME: path.join(tmp, 'data'),
    RECKON_MODELS_DIR: modelsDir,
  });
  const reckon = (args: string[]): Promise<CliRun> => runReckon(args, env(), { timeoutMs: 120_000 });

  it('lists the catalog reranker and the installed folder, and checks both', async () => {
    const list = await reckon(['models', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as {
      catalog: { id: string; kind: string; installed: boolean; unverified: string[] }[];
      local: { kind: string; path: string }[];
    };
    expect(listed.catalog.find((entry) => entry.id === 'ms-marco-MiniLM-L-6-v2')).toMatchObject({
      kind: 'reranker',
      installed: false,
      unverified: ['files', 'license'],
    });
    expect(listed.local).toContainEqual(
      expect.objectContaining({ kind: 'reranker', path: path.join(modelsDir, 'rerankers', 'tiny-overlap') }),
    );

    const check = await reckon(['models', 'check', 'reranker:tiny-overlap', '--json']);
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({
      kind: 'reranker',
      ok: true,
      onnx: { modelId: 'tiny-overlap', dtype: 'q8', labels: 1, dimension: null },
    });

    const missing = await reckon(['models', 'check', 'ms-marco-MiniLM-L-6-v2']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /Not usable: No usable cross-encoder reranker in .*ms-marco-MiniLM-L-6-v2/,
    );
  }, 120_000);

  it('answers with `reckon ask --strategy program --option reranker=cross-encoder`', async () => {
    const run = await reckon([
      'ask',
      QUESTION,
      '--corpus',
      'notes',
      '--strategy',
      'program',
      '--model',
      `replay:${scriptFile}`,
      '--option',
      'reranker=cross-encoder',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(result).toMatchObject({ status: 'succeeded', answer: 'the Seine' });
    expect(stepOf(result, 'program-rerank').data).toMatchObject({ reranker: 'cross-encoder:tiny-overlap' });
  }, 120_000);
});
