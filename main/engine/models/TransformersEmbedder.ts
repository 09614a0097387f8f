/**
 * The dense-retrieval embedder: a local ONNX sentence-embedding model run by transformers.js
 * (`@huggingface/transformers`) feature extraction, mean-pooled and L2-normalized.
 *
 * The model is always a folder on disk. It is handed to transformers.js as an absolute path, which
 * the library treats as a plain location rather than a Hub model id, so it never builds a Hub URL
 * for it; `allowRemoteModels` stays off unless asked for. transformers.js is imported lazily so that
 * a library without an embedder (BM25-only search) never loads onnxruntime.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelError, ModelNotFoundError, throwIfAborted } from '../errors.ts';
import type { Embedder } from './Embedder.ts';

/**
 * Texts per forward pass; cancellation is checked between batches. 1, because `npm run bench --
 * --only embeddings` found it fastest on the 2-core machine it ran on, at q8 and fp32 alike
 * (texts/s with batch 1 > 8 > 32 in two runs, on a shared machine under heavy load). Re-measure
 * on other hardware; callers can pass batchSize.
 */
export const DEFAULT_EMBED_BATCH_SIZE = 1;
/** Preferred weights on CPU: the 8-bit quantized export (`onnx/model_quantized.onnx`). */
export const DEFAULT_EMBEDDER_DTYPE: TransformersEmbedderDtype = 'q8';
/** The Hugging Face Hub is never contacted unless a caller opts in. */
export const DEFAULT_ALLOW_REMOTE_MODELS = false;
/** Subfolder of the models directory that holds embedding model folders. */
export const EMBEDDERS_SUBDIR = 'embedders';

/** Weight files transformers.js looks for, per dtype, relative to the model folder. */
export const EMBEDDER_ONNX_FILES = {
  q8: 'onnx/model_quantized.onnx',
  fp32: 'onnx/model.onnx',
} as const satisfies Record<string, string>;

/** Which exported weights to run: 8-bit quantized or full precision. */
export type TransformersEmbedderDtype = keyof typeof EMBEDDER_ONNX_FILES;

export interface TransformersEmbedderOptions {
  /** Model folder holding config.json, tokenizer.json and onnx/model*.onnx. Required. */
  modelDir: string;
  /** Identifier recorded with every stored vector. Default: the folder's base name. */
  modelId?: string;
  /**
   * Which weights to run. Default: DEFAULT_EMBEDDER_DTYPE ('q8') when `onnx/model_quantized.onnx`
   * exists, otherwise 'fp32'. An explicitly requested dtype whose file is missing is an error.
   */
  dtype?: TransformersEmbedderDtype;
  /** Texts per forward pass. Default: DEFAULT_EMBED_BATCH_SIZE (1). */
  batchSize?: number;
  /** Sets transformers.js' global `env.allowRemoteModels`. Default: DEFAULT_ALLOW_REMOTE_MODELS (false). */
  allowRemoteModels?: boolean;
}

/** An Embedder that also says which folder and weights it runs. */
export interface TransformersEmbedder extends Embedder {
  /** Absolute path of the model folder. */
  readonly modelDir: string;
  /** The dtype actually loaded (after the q8 → fp32 fallback). */
  readonly dtype: TransformersEmbedderDtype;
}

/** The part of transformers.js' FeatureExtractionPipeline this module relies on. */
interface FeatureExtractor {
  (
    texts: string[],
    options: { pooling: 'mean'; normalize: boolean },
  ): Promise<{ readonly dims: readonly number[]; readonly data: unknown }>;
  dispose(): Promise<void>;
}

const WHAT_TO_DO =
  'Put an ONNX sentence-embedding model folder (config.json, tokenizer.json, onnx/model.onnx) in ' +
  `models/${EMBEDDERS_SUBDIR}/, or download one from the model catalog. Until then search runs BM25-only.`;
const PROBE_TEXT = 'dimension probe';
const MAX_REASON_LENGTH = 300;

/**
 * Loads the embedding model in `options.modelDir` and returns a ready Embedder whose `dimension` is
 * read from the model's first output (one short probe text is embedded at load, which also proves
 * the graph runs). Runs on CPU with mean pooling and L2 normalization. Defaults: dtype 'q8' when
 * the quantized file exists, else 'fp32'; batchSize 1; allowRemoteModels false; modelId = folder
 * base name. A missing folder, a folder without config.json, tokenizer.json or the ONNX file, or a
 * file that will not load rejects with ModelNotFoundError naming the folder and the file.
 */
export async function loadTransformersEmbedder(
  options: TransformersEmbedderOptions,
): Promise<TransformersEmbedder> {
  const modelDir = path.resolve(options.modelDir);
  const modelId = options.modelId ?? path.basename(modelDir);
  const batchSize = options.batchSize ?? DEFAULT_EMBED_BATCH_SIZE;
  const allowRemoteModels = options.allowRemoteModels ?? DEFAULT_ALLOW_REMOTE_MODELS;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }

  const dtype = await checkModelFolder(modelDir, options.dtype);
  const onnxFile = EMBEDDER_ONNX_FILES[dtype];

  const transformers = await importTransformers();
  transformers.env.allowRemoteModels = allowRemoteModels;

  let extractor: FeatureExtractor;
  try {
    const loaded = await transformers.pipeline('feature-extraction', modelDir, {
      device: 'cpu',
      dtype,
      local_files_only: !allowRemoteModels,
    });
    extractor = loaded as unknown as FeatureExtractor;
  } catch (error) {
    const reason = reasonOf(error);
    const culprit =
      reason.includes(path.join(modelDir, onnxFile)) || /onnx|protobuf/i.test(reason)
        ? `${onnxFile} is corrupt or not an ONNX model`
        : `its files could not be loaded`;
    throw notFound(modelDir, `${culprit} (${reason})`, error);
  }

  let dimension: number;
  try {
    const probe = await extractor([PROBE_TEXT], { pooling: 'mean', normalize: true });
    dimension = rowsOf(probe, 1);
  } catch (error) {
    await extractor.dispose().catch(() => undefined);
    throw notFound(
      modelDir,
      `${onnxFile} loaded but does not produce token embeddings (${reasonOf(error)})`,
      error,
    );
  }

  let disposed = false;
  const embedBatch = async (batch: string[]): Promise<Float32Array[]> => {
    let output: Awaited<ReturnType<FeatureExtractor>>;
    try {
      output = await extractor(batch, { pooling: 'mean', normalize: true });
    } catch (error) {
      throw new ModelError(`The embedding model "${modelId}" failed while embedding: ${reasonOf(error)}`, {
        cause: error,
      });
    }
    const data = output.data as Float32Array;
    if (rowsOf(output, batch.length) !== dimension) {
      throw new ModelError(
        `The embedding model "${modelId}" returned vectors of length ${output.dims[1]}, expected ${dimension}.`,
      );
    }
    // Copies, so callers do not keep the whole batch tensor alive through one row.
    return batch.map((_, row) => data.slice(row * dimension, (row + 1) * dimension));
  };

  return {
    modelId,
    modelDir,
    dtype,
    dimension,
    async embed(texts, embedOptions) {
      const signal = embedOptions?.signal;
      throwIfAborted(signal);
      if (disposed) {
        throw new ModelError(`The embedding model "${modelId}" was disposed; load it again to embed.`, {
          code: 'MODEL_DISPOSED',
        });
      }
      // Batches of similar lengths: transformers.js pads a batch to its longest text, so batches in
      // the caller's order pay for their longest paragraph on every row (`npm run bench -- --only
      // embeddings`: sorting made batches of 8 real paragraphs about 2.6× faster).
      const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length || a - b);
      const vectors = new Array<Float32Array>(texts.length);
      for (let start = 0; start < order.length; start += batchSize) {
        const indices = order.slice(start, start + batchSize);
        const batch = await embedBatch(indices.map((index) => texts[index]!));
        indices.forEach((index, row) => (vectors[index] = batch[row]!));
        throwIfAborted(signal);
      }
      return vectors;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await extractor.dispose();
    },
  };
}

/**
 * Lists the folders in `<modelsDir>/embedders/` that look loadable — each has config.json,
 * tokenizer.json and at least one `onnx/*.onnx` — as absolute paths, sorted by name. A missing
 * `embedders/` folder gives an empty list. Files are only looked at, not parsed or loaded.
 */
export async function findLocalEmbedders(modelsDir: string): Promise<string[]> {
  const embeddersDir = path.resolve(modelsDir, EMBEDDERS_SUBDIR);
  let entries: string[];
  try {
    entries = await readdir(embeddersDir);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const name of entries.sort()) {
    const dir = path.join(embeddersDir, name);
    // stat (not the dirent type) so symlinked model folders count too.
    if (!(await isDirectory(dir))) continue;
    if (!(await isFile(path.join(dir, 'config.json')))) continue;
    if (!(await isFile(path.join(dir, 'tokenizer.json')))) continue;
    const onnxFiles = await readdir(path.join(dir, 'onnx')).catch(() => [] as string[]);
    const hasOnnx = await someAsync(onnxFiles, (file) =>
      file.endsWith('.onnx') ? isFile(path.join(dir, 'onnx', file)) : Promise.resolve(false),
    );
    if (hasOnnx) found.push(dir);
  }
  return found;
}

/** Checks the folder before transformers.js sees it, so failures name the exact file. Returns the dtype to load. */
async function checkModelFolder(
  modelDir: string,
  requested: TransformersEmbedderDtype | undefined,
): Promise<TransformersEmbedderDtype> {
  let isDir: boolean;
  try {
    isDir = (await stat(modelDir)).isDirectory();
  } catch (error) {
    throw notFound(modelDir, 'the folder does not exist', error);
  }
  if (!isDir) throw notFound(modelDir, 'it is a file, not a model folder');

  const configPath = path.join(modelDir, 'config.json');
  let configText: string;
  try {
    configText = await readFile(configPath, 'utf8');
  } catch (error) {
    throw notFound(modelDir, 'config.json is missing', error);
  }
  try {
    JSON.parse(configText);
  } catch (error) {
    throw notFound(modelDir, 'config.json is not valid JSON', error);
  }
  if (!(await isFile(path.join(modelDir, 'tokenizer.json')))) {
    throw notFound(modelDir, 'tokenizer.json is missing');
  }

  if (requested !== undefined) {
    if (!(await isFile(path.join(modelDir, EMBEDDER_ONNX_FILES[requested])))) {
      throw notFound(
        modelDir,
        `${EMBEDDER_ONNX_FILES[requested]} is missing (dtype ${requested} was asked for)`,
      );
    }
    return requested;
  }
  if (await isFile(path.join(modelDir, EMBEDDER_ONNX_FILES[DEFAULT_EMBEDDER_DTYPE])))
    return DEFAULT_EMBEDDER_DTYPE;
  if (await isFile(path.join(modelDir, EMBEDDER_ONNX_FILES.fp32))) return 'fp32';
  throw notFound(modelDir, `there is no ${EMBEDDER_ONNX_FILES.fp32} (nor ${EMBEDDER_ONNX_FILES.q8})`);
}

/** Imported on first load only, so BM25-only use never pays for onnxruntime. */
async function importTransformers() {
  try {
    return await import('@huggingface/transformers');
  } catch (error) {
    throw new ModelError(
      'The embedding runtime (@huggingface/transformers with onnxruntime-node) could not be loaded. ' +
        'Reinstall the app or run npm install.',
      { cause: error, code: 'EMBEDDER_RUNTIME_UNAVAILABLE' },
    );
  }
}

/** Validates a pooled output tensor of `rows` texts and returns its vector length. */
function rowsOf(output: { readonly dims: readonly number[]; readonly data: unknown }, rows: number): number {
  const [count, width] = output.dims;
  if (output.dims.length !== 2 || count !== rows || width === undefined || width < 1) {
    throw new Error(`expected pooled output of shape [${rows}, D], got [${output.dims.join(', ')}]`);
  }
  if (!(output.data instanceof Float32Array) || output.data.length !== rows * width) {
    throw new Error('expected float32 output');
  }
  return width;
}

function notFound(modelDir: string, problem: string, cause?: unknown): ModelNotFoundError {
  return new ModelNotFoundError(`No usable embedding model in "${modelDir}": ${problem}. ${WHAT_TO_DO}`, {
    cause,
  });
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : 'unknown error';
  return message.length > MAX_REASON_LENGTH ? `${message.slice(0, MAX_REASON_LENGTH)}…` : message;
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (stats) => stats.isFile(),
    () => false,
  );
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}

async function someAsync<T>(items: readonly T[], test: (item: T) => Promise<boolean>): Promise<boolean> {
  for (const item of items) if (await test(item)) return true;
  return false;
}
