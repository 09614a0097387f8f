/**
 * The cross-encoder reranker: a local ONNX sequence-classification model (a BERT-style
 * `…ForSequenceClassification`, e.g. ms-marco-MiniLM-L-6-v2) run by transformers.js
 * (`@huggingface/transformers`). Each (query, passage) pair is tokenized jointly — the passage as
 * the tokenizer's `text_pair`, so the model sees both segments — and the pair's relevance is the
 * model's logit: the single logit of a one-label model, or the positive class (index 1) of two.
 *
 * Loaded like the embedder: always a folder on disk, handed to transformers.js as an absolute path,
 * `allowRemoteModels` off unless asked for, the library imported lazily.
 */
import path from 'node:path';
import { ModelError, ModelNotFoundError, throwIfAborted } from '../errors.ts';
import type { Reranker } from './Reranker.ts';
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

/** (query, passage) pairs per forward pass; cancellation is checked between batches. */
export const DEFAULT_RERANK_BATCH_SIZE = 16;
/** Preferred weights on CPU: the 8-bit quantized export (`onnx/model_quantized.onnx`). */
export const DEFAULT_RERANKER_DTYPE: OnnxDtype = DEFAULT_ONNX_DTYPE;
/** The Hugging Face Hub is never contacted unless a caller opts in. */
export const DEFAULT_RERANKER_ALLOW_REMOTE_MODELS = false;
/** Subfolder of the models directory that holds cross-encoder folders. */
export const RERANKERS_SUBDIR = 'rerankers';

export interface TransformersRerankerOptions {
  /** Model folder holding config.json, tokenizer.json and onnx/model*.onnx. Required. */
  modelDir: string;
  /** Identifier shown in traces. Default: the folder's base name. */
  modelId?: string;
  /**
   * Which weights to run. Default: DEFAULT_RERANKER_DTYPE ('q8') when `onnx/model_quantized.onnx`
   * exists, otherwise 'fp32'. An explicitly requested dtype whose file is missing is an error.
   */
  dtype?: OnnxDtype;
  /** Pairs per forward pass. Default: DEFAULT_RERANK_BATCH_SIZE (16). */
  batchSize?: number;
  /** Sets transformers.js' global `env.allowRemoteModels`. Default: false. */
  allowRemoteModels?: boolean;
}

/** A Reranker that also says which folder, weights and output it runs. */
export interface TransformersReranker extends Reranker {
  /** Absolute path of the model folder. */
  readonly modelDir: string;
  /** The dtype actually loaded (after the q8 → fp32 fallback). */
  readonly dtype: OnnxDtype;
  /** Logits per pair: 1 (the score itself) or 2 (the score is the positive class, index 1). */
  readonly labels: 1 | 2;
}

/** What a tokenizer call returns: model inputs as tensors (input_ids, attention_mask, token_type_ids). */
type TokenizedPairs = Record<string, unknown>;
interface PairTokenizer {
  (
    queries: string[],
    options: { text_pair: string[]; padding: boolean; truncation: boolean },
  ): TokenizedPairs;
}
interface SequenceClassifier {
  (inputs: TokenizedPairs): Promise<{ logits: { readonly dims: readonly number[]; readonly data: unknown } }>;
  dispose(): Promise<unknown>;
}

const WHAT_TO_DO =
  'Put an ONNX cross-encoder folder (config.json with a …ForSequenceClassification architecture, ' +
  `tokenizer.json, onnx/model.onnx) in models/${RERANKERS_SUBDIR}/, or run "reckon models pull ms-marco-MiniLM-L-6-v2". ` +
  'Until then PROGRAM reranks by embedding similarity, or lexically without an embedding model.';
const PROBE_PAIR = ['relevance probe', 'a passage to score'] as const;

/**
 * Loads the cross-encoder in `options.modelDir` and returns a ready Reranker. One probe pair is
 * scored at load, which proves the graph runs and fixes the number of labels (1 or 2). Runs on CPU.
 * Defaults: dtype 'q8' when the quantized file exists, else 'fp32'; batchSize 16;
 * allowRemoteModels false; modelId = folder base name. A missing folder, a folder without
 * config.json, tokenizer.json or the ONNX file, a config.json whose architecture is not
 * `…ForSequenceClassification`, a file that will not load, or a model whose output is not
 * `logits` of 1 or 2 labels rejects with ModelNotFoundError naming the folder and the problem.
 */
export async function loadTransformersReranker(
  options: TransformersRerankerOptions,
): Promise<TransformersReranker> {
  const modelDir = path.resolve(options.modelDir);
  const modelId = options.modelId ?? path.basename(modelDir);
  const batchSize = options.batchSize ?? DEFAULT_RERANK_BATCH_SIZE;
  const allowRemoteModels = options.allowRemoteModels ?? DEFAULT_RERANKER_ALLOW_REMOTE_MODELS;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }

  const { dtype, config } = await checkOnnxModelFolder(modelDir, options.dtype, (problem, cause) =>
    notFound(modelDir, problem, cause),
  );
  const architectures = (config as { architectures?: unknown } | null)?.architectures;
  const names = Array.isArray(architectures) ? architectures.filter((a) => typeof a === 'string') : [];
  if (!names.some((name) => name.endsWith('ForSequenceClassification'))) {
    throw notFound(
      modelDir,
      `config.json names the architecture ${names.length > 0 ? names.join(', ') : '(none)'}, not a cross-encoder (…ForSequenceClassification); an embedding model belongs in models/embedders/`,
    );
  }
  const onnxFile = ONNX_WEIGHT_FILES[dtype];

  const transformers = await importTransformers('the cross-encoder reranker');
  transformers.env.allowRemoteModels = allowRemoteModels;
  let tokenizer: PairTokenizer;
  let model: SequenceClassifier;
  try {
    const loadOptions = { local_files_only: !allowRemoteModels };
    tokenizer = (await transformers.AutoTokenizer.from_pretrained(
      modelDir,
      loadOptions,
    )) as unknown as PairTokenizer;
    model = (await transformers.AutoModelForSequenceClassification.from_pretrained(modelDir, {
      ...loadOptions,
      device: 'cpu',
      dtype,
    })) as unknown as SequenceClassifier;
  } catch (error) {
    throw notFound(modelDir, loadFailureOf(modelDir, onnxFile, error), error);
  }

  const scoreBatch = async (
    query: string,
    passages: string[],
  ): Promise<{ scores: number[]; labels: number }> => {
    const inputs = tokenizer(
      passages.map(() => query),
      { text_pair: passages, padding: true, truncation: true },
    );
    const { logits } = await model(inputs);
    return { scores: positiveLogits(logits, passages.length), labels: logits.dims[1]! };
  };

  let labels: 1 | 2;
  try {
    const probe = await scoreBatch(PROBE_PAIR[0], [PROBE_PAIR[1]]);
    labels = probe.labels as 1 | 2;
  } catch (error) {
    await model.dispose().catch(() => undefined);
    throw notFound(
      modelDir,
      `${onnxFile} loaded but does not score pairs as a cross-encoder (${reasonOf(error)})`,
      error,
    );
  }

  let disposed = false;
  return {
    modelId,
    modelDir,
    dtype,
    labels,
    async score(query, passages, scoreOptions) {
      const signal = scoreOptions?.signal;
      throwIfAborted(signal);
      if (disposed) {
        throw new ModelError(`The reranker "${modelId}" was disposed; load it again to rerank.`, {
          code: 'MODEL_DISPOSED',
        });
      }
      return inLengthSortedBatches(passages, batchSize, signal, async (batch) => {
        try {
          return (await scoreBatch(query, batch)).scores;
        } catch (error) {
          throw new ModelError(`The reranker "${modelId}" failed while scoring: ${reasonOf(error)}`, {
            cause: error,
          });
        }
      });
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await model.dispose();
    },
  };
}

/**
 * Lists the folders in `<modelsDir>/rerankers/` that look loadable (config.json, tokenizer.json, an
 * `onnx/*.onnx`) as absolute paths, sorted by name; none when the folder is missing. Nothing is loaded.
 */
export async function findLocalRerankers(modelsDir: string): Promise<string[]> {
  return findOnnxModelFolders(path.resolve(modelsDir, RERANKERS_SUBDIR));
}

/** Each row's relevance logit from a [rows, 1] or [rows, 2] logits tensor (index 1 of two). */
function positiveLogits(
  logits: { readonly dims: readonly number[]; readonly data: unknown },
  rows: number,
): number[] {
  const [count, width] = logits.dims;
  if (logits.dims.length !== 2 || count !== rows || (width !== 1 && width !== 2)) {
    throw new Error(
      `expected logits of shape [${rows}, 1] or [${rows}, 2], got [${logits.dims.join(', ')}]; a reranker has one relevance label, or two (not relevant, relevant)`,
    );
  }
  if (!(logits.data instanceof Float32Array) || logits.data.length !== rows * width) {
    throw new Error('expected float32 logits');
  }
  const data = logits.data;
  return Array.from({ length: rows }, (_, row) => data[row * width + width - 1]!);
}

function notFound(modelDir: string, problem: string, cause?: unknown): ModelNotFoundError {
  return new ModelNotFoundError(
    `No usable cross-encoder reranker in "${modelDir}": ${problem}. ${WHAT_TO_DO}`,
    {
      cause,
    },
  );
}
