/**
 * What the transformers.js models (the embedder and the cross-encoder reranker) share: the layout of
 * a local ONNX model folder, the checks made before transformers.js sees it (so failures name the
 * exact file), the search for loadable folders, and the lazy import of the library itself.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelError, throwIfAborted } from '../errors.ts';

/** Weight files transformers.js looks for, per dtype, relative to the model folder. */
export const ONNX_WEIGHT_FILES = {
  q8: 'onnx/model_quantized.onnx',
  fp32: 'onnx/model.onnx',
} as const satisfies Record<string, string>;

/** Which exported weights to run: 8-bit quantized or full precision. */
export type OnnxDtype = keyof typeof ONNX_WEIGHT_FILES;

/** Preferred weights on CPU: the 8-bit quantized export. */
export const DEFAULT_ONNX_DTYPE: OnnxDtype = 'q8';

/** Longest library message quoted in an error. */
const MAX_REASON_LENGTH = 300;

/** Builds the error for a folder that cannot be used; `problem` says which file and why. */
export type ModelFolderProblem = (problem: string, cause?: unknown) => Error;

/**
 * Checks a model folder before transformers.js sees it: the folder exists, config.json is JSON,
 * tokenizer.json is there, and the weights of `requested` (or, when undefined, q8 else fp32) exist.
 * Returns the dtype to load and the parsed config. Every failure is `problem(…)` naming the file.
 */
export async function checkOnnxModelFolder(
  modelDir: string,
  requested: OnnxDtype | undefined,
  problem: ModelFolderProblem,
): Promise<{ dtype: OnnxDtype; config: unknown }> {
  let isDir: boolean;
  try {
    isDir = (await stat(modelDir)).isDirectory();
  } catch (error) {
    throw problem('the folder does not exist', error);
  }
  if (!isDir) throw problem('it is a file, not a model folder');

  let configText: string;
  try {
    configText = await readFile(path.join(modelDir, 'config.json'), 'utf8');
  } catch (error) {
    throw problem('config.json is missing', error);
  }
  let config: unknown;
  try {
    config = JSON.parse(configText);
  } catch (error) {
    throw problem('config.json is not valid JSON', error);
  }
  if (!(await isFile(path.join(modelDir, 'tokenizer.json')))) throw problem('tokenizer.json is missing');

  if (requested !== undefined) {
    if (!(await isFile(path.join(modelDir, ONNX_WEIGHT_FILES[requested])))) {
      throw problem(`${ONNX_WEIGHT_FILES[requested]} is missing (dtype ${requested} was asked for)`);
    }
    return { dtype: requested, config };
  }
  if (await isFile(path.join(modelDir, ONNX_WEIGHT_FILES[DEFAULT_ONNX_DTYPE])))
    return { dtype: DEFAULT_ONNX_DTYPE, config };
  if (await isFile(path.join(modelDir, ONNX_WEIGHT_FILES.fp32))) return { dtype: 'fp32', config };
  throw problem(`there is no ${ONNX_WEIGHT_FILES.fp32} (nor ${ONNX_WEIGHT_FILES.q8})`);
}

/**
 * Lists the folders directly in `parentDir` that look loadable — each has config.json,
 * tokenizer.json and at least one `onnx/*.onnx` — as absolute paths, sorted by name. A missing
 * folder gives an empty list. Files are only looked at, not parsed or loaded.
 */
export async function findOnnxModelFolders(parentDir: string): Promise<string[]> {
  const parent = path.resolve(parentDir);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const name of entries.sort()) {
    const dir = path.join(parent, name);
    // stat (not the dirent type) so symlinked model folders count too.
    if (!(await isDirectory(dir))) continue;
    if (!(await isFile(path.join(dir, 'config.json')))) continue;
    if (!(await isFile(path.join(dir, 'tokenizer.json')))) continue;
    const onnxFiles = await readdir(path.join(dir, 'onnx')).catch(() => [] as string[]);
    let hasOnnx = false;
    for (const file of onnxFiles) {
      if (file.endsWith('.onnx') && (await isFile(path.join(dir, 'onnx', file)))) {
        hasOnnx = true;
        break;
      }
    }
    if (hasOnnx) found.push(dir);
  }
  return found;
}

/**
 * Imports `@huggingface/transformers` on first load only, so BM25-only use never pays for
 * onnxruntime. A failed import is ModelError 'EMBEDDER_RUNTIME_UNAVAILABLE' naming `what` needs it.
 */
export async function importTransformers(what: string) {
  try {
    return await import('@huggingface/transformers');
  } catch (error) {
    throw new ModelError(
      `The runtime of ${what} (@huggingface/transformers with onnxruntime-node) could not be loaded. ` +
        'Reinstall the app or run npm install.',
      { cause: error, code: 'EMBEDDER_RUNTIME_UNAVAILABLE' },
    );
  }
}

/**
 * Runs `runBatch` over `texts` in batches of up to `batchSize` texts of similar lengths and returns
 * its results in the order of `texts`; `signal` is checked between batches (CancelledError).
 * transformers.js pads a batch to its longest text, so batches in the caller's order pay for their
 * longest text on every row (`npm run bench -- --only embeddings`: sorting made batches of 8 real
 * paragraphs about 2.6× faster).
 */
export async function inLengthSortedBatches<T>(
  texts: readonly string[],
  batchSize: number,
  signal: AbortSignal | undefined,
  runBatch: (batch: string[]) => Promise<T[]>,
): Promise<T[]> {
  const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length || a - b);
  const results = new Array<T>(texts.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const batch = await runBatch(indices.map((index) => texts[index]!));
    indices.forEach((index, row) => (results[index] = batch[row]!));
    throwIfAborted(signal);
  }
  return results;
}

/** A library error's message, cut to a length that fits in a sentence. */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : 'unknown error';
  return message.length > MAX_REASON_LENGTH ? `${message.slice(0, MAX_REASON_LENGTH)}…` : message;
}

/** Why a model file would not load: a corrupt ONNX file, or something else in the folder. */
export function loadFailureOf(modelDir: string, onnxFile: string, error: unknown): string {
  const reason = reasonOf(error);
  const culprit =
    reason.includes(path.join(modelDir, onnxFile)) || /onnx|protobuf/i.test(reason)
      ? `${onnxFile} is corrupt or not an ONNX model`
      : `its files could not be loaded`;
  return `${culprit} (${reason})`;
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
