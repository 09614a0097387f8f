import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { EmbedderChoice, Engine } from '../../createEngine.ts';
import type { IngestProgressEvent } from '../../corpus/ingestPaths.ts';
import { CancelledError, ReckonError } from '../../errors.ts';
import { atomicWriteFileSync } from '../../util/atomicWrite.ts';
import type { EvalDataset } from '../datasets/EvalItem.ts';
import { evalCorpusParagraphs } from '../datasets/evalCorpusParagraphs.ts';

/** Prefix of the corpora an evaluation builds from a dataset's paragraphs. */
export const EVAL_CORPUS_PREFIX = 'eval-';
/** Longest corpus name the library takes. */
const MAX_CORPUS_NAME = 64;

/**
 * Folder of the data directory that keeps the files evaluation corpora are ingested from; the CLI
 * and the app use the same, so an evaluation corpus is made once for both.
 */
export const EVAL_CORPUS_FILES_DIR = 'eval-corpora';

export interface PrepareEvalCorpusOptions {
  /** The dataset, already sampled: the corpus is its items' paragraphs. */
  dataset: EvalDataset;
  /** Folder the corpus file (`<name>.jsonl`) is kept in; it must stay put, as the corpus refers to it. */
  corpusFilesDir: string;
  /** Embedder for the corpus. Default: 'auto' (the corpus's own, else an installed one, else BM25 only). */
  embedder?: EmbedderChoice;
  signal?: AbortSignal;
  onProgress?: (event: IngestProgressEvent) => void;
}

export interface PreparedEvalCorpus {
  /** The corpus name: `eval-<dataset>-<hash of its paragraphs>`. */
  name: string;
  /** The JSON-lines file of `{title, text}` it was ingested from. */
  file: string;
  paragraphs: number;
  /** Whether this call added to it (false: it was already complete). */
  ingested: boolean;
}

/**
 * The corpus of a dataset's context paragraphs (HotpotQA, 2Wiki, MuSiQue, PubMedQA), built once
 * and reused: the paragraphs (evalCorpusParagraphs: titles and texts only, so no gold field can be
 * indexed) are written as JSON lines of `{title, text}` — a format `reckon ingest` reads as a QA
 * corpus, one section per paragraph — to `<corpusFilesDir>/<name>.jsonl`, and ingested into the
 * corpus `<name>`. The name hashes the file's content (and the embedder choice), so the same dataset
 * file and sample always give the same corpus, and another sample another corpus. Ingesting an
 * unchanged file is skipped by the ingester, so calling this again is cheap, and an ingest that was
 * interrupted is finished. Throws CancelledError when `signal` aborts, ReckonError
 * `EVAL_CORPUS_FAILED` when the file could not be ingested, `EVAL_NO_CONTEXTS` when the dataset has
 * no paragraphs.
 */
export async function prepareEvalCorpus(
  engine: Engine,
  options: PrepareEvalCorpusOptions,
): Promise<PreparedEvalCorpus> {
  const paragraphs = evalCorpusParagraphs(options.dataset.items);
  if (paragraphs.length === 0)
    throw new ReckonError(
      'EVAL_NO_CONTEXTS',
      `The questions of ${options.dataset.name} carry no context paragraphs to search; pass --corpus <name> to search one of your corpora.`,
    );
  const text = paragraphs.map((paragraph) => JSON.stringify(paragraph)).join('\n') + '\n';
  const embedder = options.embedder ?? 'auto';
  const name = evalCorpusName(options.dataset.name, text, embedder);
  fs.mkdirSync(options.corpusFilesDir, { recursive: true });
  const file = path.join(options.corpusFilesDir, `${name}.jsonl`);
  // Rewriting an identical file would change its mtime and make the ingester read it again.
  if (!sameContent(file, text)) atomicWriteFileSync(file, text);

  const result = await engine.ingest(name, [file], {
    embedder,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (result.cancelled) throw new CancelledError('Building the evaluation corpus was cancelled.');
  const failure = result.failed[0];
  if (failure)
    throw new ReckonError(
      'EVAL_CORPUS_FAILED',
      `Could not build the evaluation corpus ${name} from ${file}: ${failure.message}`,
    );
  return { name, file, paragraphs: paragraphs.length, ingested: result.added + result.updated > 0 };
}

/** `eval-<dataset name, made safe>-<12 hex of sha256(content, embedder)>`, at most 64 characters. */
export function evalCorpusName(datasetName: string, content: string, embedder: EmbedderChoice): string {
  const hash = createHash('sha256')
    .update(content)
    .update('\u0000')
    .update(typeof embedder === 'string' ? embedder : `dir:${path.basename(embedder.dir)}`)
    .digest('hex')
    .slice(0, 12);
  const room = MAX_CORPUS_NAME - EVAL_CORPUS_PREFIX.length - hash.length - 1;
  const slug =
    datasetName
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '')
      .slice(0, room) || 'dataset';
  return `${EVAL_CORPUS_PREFIX}${slug}-${hash}`;
}

function sameContent(file: string, text: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8') === text;
  } catch {
    return false;
  }
}
