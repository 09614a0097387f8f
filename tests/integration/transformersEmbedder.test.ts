import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, ModelNotFoundError } from '../../main/engine/errors.ts';
import {
  findLocalEmbedders,
  loadTransformersEmbedder,
  type TransformersEmbedder,
} from '../../main/engine/models/TransformersEmbedder.ts';
import { makeTinyEncoder } from '../fixtures/makeTinyEncoder.ts';

const DIMENSION = 32;
const BATCH_SIZE = 4;

let workDir: string;
let modelsDir: string;
let modelDir: string;
let embedder: TransformersEmbedder;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'reckon-embedder-'));
  modelsDir = path.join(workDir, 'models');
  modelDir = await makeTinyEncoder({
    dir: path.join(modelsDir, 'embedders', 'tiny-bow'),
    dimension: DIMENSION,
  });
  embedder = await loadTransformersEmbedder({ modelDir, batchSize: BATCH_SIZE });
});

afterAll(async () => {
  await embedder?.dispose();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

describe('loadTransformersEmbedder on the tiny bag-of-words encoder', () => {
  it('reports the model id, dtype and dimension', () => {
    expect(embedder.modelId).toBe('tiny-bow');
    expect(embedder.dtype).toBe('q8');
    expect(embedder.dimension).toBe(DIMENSION);
  });

  it('returns one unit-length Float32Array per text, in order', async () => {
    const vectors = await embedder.embed(['the cat sat on the mat', 'hello', '']);
    expect(vectors).toHaveLength(3);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(DIMENSION);
      expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 5);
    }
    expect(await embedder.embed([])).toEqual([]);
  });

  it('is deterministic', async () => {
    const [first] = await embedder.embed(['retrieval augmented generation']);
    const [second] = await embedder.embed(['retrieval augmented generation']);
    expect(first).toEqual(second);
  });

  it('puts texts that share words closer than unrelated texts', async () => {
    const [cat, cat2, physics] = await embedder.embed([
      'the cat sat on the mat',
      'a cat on a mat',
      'quantum chromodynamics lattice',
    ]);
    if (!cat || !cat2 || !physics) throw new Error('missing vectors');
    expect(dot(cat, cat2)).toBeGreaterThan(dot(cat, physics));
  });

  it('gives the same vectors across batch boundaries as one text at a time', async () => {
    // 10 texts with batchSize 4: batches of 4, 4 and 2, with different lengths so padding varies.
    const texts = Array.from({ length: 10 }, (_, i) => `document ${i} ${'about search '.repeat(i)}`.trim());
    const batched = await embedder.embed(texts);
    expect(batched).toHaveLength(texts.length);
    for (const [i, text] of texts.entries()) {
      const [single] = await embedder.embed([text]);
      const fromBatch = batched[i];
      if (!single || !fromBatch) throw new Error('missing vector');
      for (let d = 0; d < DIMENSION; d++) expect(fromBatch[d]).toBeCloseTo(single[d] ?? NaN, 5);
    }
  });

  it('batches texts of similar lengths together and still returns the vectors in the input order', async () => {
    // Longest first and interleaved, so length-sorted batches differ from the input's.
    const texts = Array.from({ length: 10 }, (_, i) => {
      const n = i % 2 === 0 ? 10 - i : i;
      return `note ${i} ${'on retrieval '.repeat(n)}`.trim();
    });
    const batched = await embedder.embed(texts);
    expect(batched).toHaveLength(texts.length);
    for (const [i, text] of texts.entries()) {
      const [single] = await embedder.embed([text]);
      for (let d = 0; d < DIMENSION; d++) expect(batched[i]![d]).toBeCloseTo(single![d] ?? NaN, 5);
    }
  });

  it('rejects with CancelledError when aborted before or between batches', async () => {
    await expect(embedder.embed(['a'], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      CancelledError,
    );

    const controller = new AbortController();
    const texts = Array.from({ length: BATCH_SIZE * 3 }, (_, i) => `text ${i}`);
    const pending = embedder.embed(texts, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('loadTransformersEmbedder failures', () => {
  it('rejects a missing folder with ModelNotFoundError naming it and saying what to do', async () => {
    const missing = path.join(workDir, 'nope');
    const error = await loadTransformersEmbedder({ modelDir: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).toContain('models/embedders/');
  });

  it('rejects a folder without tokenizer.json or ONNX weights', async () => {
    const bare = path.join(workDir, 'bare');
    await mkdir(bare, { recursive: true });
    await writeFile(path.join(bare, 'config.json'), '{"model_type":"bert","hidden_size":8}');
    const noTokenizer = await loadTransformersEmbedder({ modelDir: bare }).catch((e: unknown) => e);
    expect(noTokenizer).toBeInstanceOf(ModelNotFoundError);
    expect((noTokenizer as Error).message).toContain('tokenizer.json');

    await writeFile(path.join(bare, 'tokenizer.json'), '{}');
    const noOnnx = await loadTransformersEmbedder({ modelDir: bare }).catch((e: unknown) => e);
    expect(noOnnx).toBeInstanceOf(ModelNotFoundError);
    expect((noOnnx as Error).message).toContain('onnx/model.onnx');
  });

  it('rejects a corrupt ONNX file with ModelNotFoundError naming the file', async () => {
    const corrupt = await makeTinyEncoder({ dir: path.join(workDir, 'corrupt'), dimension: 4 });
    await writeFile(path.join(corrupt, 'onnx', 'model.onnx'), 'this is not a protobuf');
    const error = await loadTransformersEmbedder({ modelDir: corrupt, dtype: 'fp32' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toContain(corrupt);
    expect((error as Error).message).toContain('onnx/model.onnx');
  });

  it('rejects an explicitly requested dtype whose file is missing, and falls back to fp32 by default', async () => {
    const fp32Only = await makeTinyEncoder({ dir: path.join(workDir, 'fp32-only'), dimension: 4 });
    await rm(path.join(fp32Only, 'onnx', 'model_quantized.onnx'));
    const error = await loadTransformersEmbedder({ modelDir: fp32Only, dtype: 'q8' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toContain('onnx/model_quantized.onnx');

    const fallback = await loadTransformersEmbedder({ modelDir: fp32Only, modelId: 'custom-id' });
    try {
      expect(fallback.dtype).toBe('fp32');
      expect(fallback.modelId).toBe('custom-id');
      expect(fallback.dimension).toBe(4);
    } finally {
      await fallback.dispose();
    }
  });
});

describe('findLocalEmbedders', () => {
  it('finds the generated model folder and ignores empty or incomplete ones', async () => {
    await mkdir(path.join(modelsDir, 'embedders', 'empty'), { recursive: true });
    await mkdir(path.join(modelsDir, 'embedders', 'no-onnx', 'onnx'), { recursive: true });
    await writeFile(path.join(modelsDir, 'embedders', 'no-onnx', 'config.json'), '{}');
    await writeFile(path.join(modelsDir, 'embedders', 'no-onnx', 'tokenizer.json'), '{}');
    await writeFile(path.join(modelsDir, 'embedders', 'stray-file.onnx'), '');

    expect(await findLocalEmbedders(modelsDir)).toEqual([modelDir]);
    expect(await findLocalEmbedders(path.join(workDir, 'no-models-here'))).toEqual([]);
  });
});
