/**
 * The dense-retrieval embedder: a local ONNX sentence-embedding model run by transformers.js
 * (`@huggingface/transformers`) feature extraction, mean-pooled and L2-normalized.
 *
 * The model is always a folder on disk. It is handed to transformers.js as an absolute path, which
 * the library treats as a plain location rather than a Hub model id, so it never builds a Hub URL
 * for it; `allowRemoteModels` stays off unless asked for. transformers.js is imported lazily so that
 * a library without an embedder (BM25-only search) never loads onnxruntime.
 */
import path from 'node:path';
import { ModelError, ModelNotFoundError, throwIfAborted } from '../errors.ts';
import type { Embedder } from './Embedder.ts';
import {
  checkOnnxModelFolder,
  DEFAULT_ONNX_DTYPE,
  findOnnxModelFolders,
  importTransformers,
  inLengthSortedBatches,
  loadFailureOf,
  ONNX_WEIGHT_FILES,
  reasonOf,
  type OnnxDtype,
} from './onnxModelFolder.ts';

/**
 * Texts per forward pass; cancellation is checked between batches. 1, because `npm run bench --
 * --only embeddings` found it fastest on the 2-core machine it ran on, at q8 and fp32 alike
 * (texts/s with batch 1 > 8 > 32 in every run, under heavy load and on a quiet machine alike).
 * Re-measure on other hardware; callers can pass batchSize.
 */
export const DEFAULT_EMBED_BATCH_SIZE = 1;
/** Preferred weights on CPU: the 8-bit quantized export (`onnx/model_quantized.onnx`). */
export const DEFAULT_EMBEDDER_DTYPE: TransformersEmbedderDtype = DEFAULT_ONNX_DTYPE;
/** The Hugging Face Hub is never contacted unless a caller opts in. */
export const DEFAULT_ALLOW_REMOTE_MODELS = false;
/** Subfolder of the models directory that holds embedding model folders. */
export const EMBEDDERS_SUBDIR = 'embedders';

/** Weight files transformers.js looks for, per dtype, relative to the model folder. */
export const EMBEDDER_ONNX_FILES = ONNX_WEIGHT_FILES;

/** Which exported weights to run: 8-bit quantized or full precision. */
export type TransformersEmbedderDtype = OnnxDtype;

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

  const { dtype } = await checkOnnxModelFolder(modelDir, options.dtype, (problem, cause) =>
    notFound(modelDir, problem, cause),
  );
  const onnxFile = EMBEDDER_ONNX_FILES[dtype];

  const transformers = await importTransformers('the embedding model');
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
    throw notFound(modelDir, loadFailureOf(modelDir, onnxFile, error), error);
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
      return inLengthSortedBatches(texts, batchSize, signal, embedBatch);
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
  return findOnnxModelFolders(path.resolve(modelsDir, EMBEDDERS_SUBDIR));
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
