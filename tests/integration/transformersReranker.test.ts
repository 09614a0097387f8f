/**
 * The cross-encoder reranker through the real transformers.js on the generated tiny cross-encoder,
 * whose logit is exact arithmetic on word-piece overlap (makeTinyCrossEncoder): 8 · (share of the
 * query's pieces found in the passage − ½). So the scores below are known numbers, not what a random
 * model happens to say, and they prove the tokenizer put the query and the passage in different
 * segments (token_type_ids 0 and 1).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, ModelNotFoundError } from '../../main/engine/errors.ts';
import { checkModel } from '../../main/engine/models/checkModel.ts';
import {
  findLocalRerankers,
  loadTransformersReranker,
  type TransformersReranker,
} from '../../main/engine/models/TransformersReranker.ts';
import { makeTinyCrossEncoder, makeTinyEncoder } from '../fixtures/makeTinyEncoder.ts';

const BATCH_SIZE = 2;

let workDir: string;
let modelsDir: string;
let modelDir: string;
let reranker: TransformersReranker;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'reckon-reranker-'));
  modelsDir = path.join(workDir, 'models');
  modelDir = await makeTinyCrossEncoder({ dir: path.join(modelsDir, 'rerankers', 'tiny-overlap') });
  reranker = await loadTransformersReranker({ modelDir, batchSize: BATCH_SIZE });
});

afterAll(async () => {
  await reranker?.dispose();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('loadTransformersReranker on the tiny overlap cross-encoder', () => {
  it('reports the model id, dtype and a single-logit output', () => {
    expect(reranker).toMatchObject({ modelId: 'tiny-overlap', dtype: 'q8', labels: 1, modelDir });
  });

  it("scores each pair by the model's logit, in the input order, across batches", async () => {
    // Five passages with batches of 2: three forward passes, sorted by length inside.
    const scores = await reranker.score('red apple', [
      'a red apple pie',
      'a red car',
      'blue sky',
      'Red apples and an apple',
      '',
    ]);
    expect(scores).toEqual([4, 0, -4, 4, -4]);
    expect(await reranker.score('red apple', [])).toEqual([]);
  });

  it('reads the query and the passage as two segments: a word only in the query never matches itself', async () => {
    // Were both texts one segment, "river" would match itself and score 4.
    expect(await reranker.score('river seine', ['the seine in paris'])).toEqual([0]);
  });

  it('takes the positive class of a two-label model', async () => {
    const twoLabels = await loadTransformersReranker({
      modelDir: await makeTinyCrossEncoder({ dir: path.join(workDir, 'two-labels'), labels: 2 }),
    });
    try {
      expect(twoLabels.labels).toBe(2);
      expect(await twoLabels.score('red apple', ['a red apple pie', 'blue sky'])).toEqual([4, -4]);
    } finally {
      await twoLabels.dispose();
    }
  });

  it('rejects with CancelledError when aborted before or between batches', async () => {
    await expect(reranker.score('q', ['a'], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      CancelledError,
    );
    const controller = new AbortController();
    const pending = reranker.score(
      'q',
      Array.from({ length: BATCH_SIZE * 3 }, (_, i) => `passage ${i}`),
      { signal: controller.signal },
    );
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });

  it('refuses to score after dispose with a typed error', async () => {
    const once = await loadTransformersReranker({ modelDir, dtype: 'fp32' });
    expect(once.dtype).toBe('fp32');
    await once.dispose();
    await expect(once.score('q', ['p'])).rejects.toMatchObject({ code: 'MODEL_DISPOSED' });
  });
});

describe('loadTransformersReranker failures', () => {
  it('rejects a missing folder with ModelNotFoundError naming it and saying what to do', async () => {
    const missing = path.join(workDir, 'nope');
    const error = await loadTransformersReranker({ modelDir: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).toMatch(/models\/rerankers\/.*reckon models pull/);
  });

  it('rejects an embedding model (no …ForSequenceClassification) before loading it', async () => {
    const encoder = await makeTinyEncoder({ dir: path.join(workDir, 'an-embedder'), dimension: 4 });
    const error = await loadTransformersReranker({ modelDir: encoder }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toMatch(/BertModel, not a cross-encoder/);
  });

  it('rejects a corrupt ONNX file and a folder without weights, naming the file', async () => {
    const corrupt = await makeTinyCrossEncoder({ dir: path.join(workDir, 'corrupt') });
    await writeFile(path.join(corrupt, 'onnx', 'model.onnx'), 'this is not a protobuf');
    const error = await loadTransformersReranker({ modelDir: corrupt, dtype: 'fp32' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toContain('onnx/model.onnx is corrupt');

    await rm(path.join(corrupt, 'onnx'), { recursive: true });
    const noWeights = await loadTransformersReranker({ modelDir: corrupt }).catch((e: unknown) => e);
    expect(noWeights).toBeInstanceOf(ModelNotFoundError);
    expect((noWeights as Error).message).toContain('there is no onnx/model.onnx');
  });
});

describe('findLocalRerankers', () => {
  it('finds the generated folder and ignores incomplete ones', async () => {
    await mkdir(path.join(modelsDir, 'rerankers', 'empty'), { recursive: true });
    expect(await findLocalRerankers(modelsDir)).toEqual([modelDir]);
    expect(await findLocalRerankers(path.join(workDir, 'no-models-here'))).toEqual([]);
  });
});

describe('checkModel on transformers.js folders', () => {
  it('loads a reranker or an embedder named by kind and path, catalog id or folder name', async () => {
    expect(await checkModel(`reranker:${modelDir}`)).toMatchObject({
      kind: 'reranker',
      ok: true,
      problem: null,
      onnx: { path: modelDir, modelId: 'tiny-overlap', dtype: 'q8', labels: 1, dimension: null },
      gguf: null,
    });
    const encoder = await makeTinyEncoder({
      dir: path.join(modelsDir, 'embedders', 'tiny-bow'),
      dimension: 8,
    });
    const embedder = await checkModel('embedder:tiny-bow', { modelsDir, generate: true });
    expect(embedder).toMatchObject({
      kind: 'embedder',
      ok: true,
      onnx: { path: encoder, labels: null, dimension: 8 },
      warnings: [expect.stringMatching(/do not generate text/)],
    });
    // A catalog id that is not installed: its install folder, reported as not usable.
    const missing = await checkModel('ms-marco-MiniLM-L-6-v2', { modelsDir });
    expect(missing).toMatchObject({ kind: 'reranker', ok: false, problem: { code: 'MODEL_NOT_FOUND' } });
    expect(missing.problem!.message).toContain(path.join(modelsDir, 'rerankers', 'ms-marco-MiniLM-L-6-v2'));
    // An embedder in the reranker's place is refused with the reason.
    const wrongKind = await checkModel(`reranker:${encoder}`);
    expect(wrongKind.problem!.message).toMatch(/not a cross-encoder/);
  });
});
