/**
 * Ingestion: walk the given files and folders, skip files whose content hash is unchanged, parse the
 * rest off the main thread, chunk them, and write each document in one transaction; then embed the
 * chunks that have no vector yet and rebuild the derived vector index. A bad file is recorded as
 * failed with its reason and the batch goes on; files that disappeared from an ingested folder are
 * removed. Safe to kill at any point: the next run completes the work.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Corpus } from './Library.ts';
import type { Embedder } from '../models/Embedder.ts';
import { chunkDocument, type ChunkOptions } from './chunkDocument.ts';
import type { ChunkInput } from './CorpusStore.ts';
import type { ParsedFile } from './loaders/ParsedFile.ts';
import { isSupportedPath } from './loaders/parseFile.ts';
import { ParseError, ReckonError, toReckonError } from '../errors.ts';

/** Runs that may die while parsing the same unchanged file before it is marked failed. */
export const MAX_PARSE_CRASHES = 2;
/** Chunks embedded per embedder call and per transaction. */
export const DEFAULT_EMBED_BATCH = 64;
/** Folder entries never descended into. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '__pycache__']);

export type IngestPhase = 'scan' | 'parse' | 'embed' | 'index' | 'done';

export interface IngestProgressEvent {
  phase: IngestPhase;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  chunksWritten: number;
  chunksEmbedded: number;
  chunksToEmbed: number;
  failed: number;
  /** Seconds left in the current phase, estimated from its throughput so far. */
  etaSeconds: number | undefined;
  currentFile?: string;
}

export interface IngestFailure {
  path: string;
  code: string;
  message: string;
}

export interface IngestResult {
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: IngestFailure[];
  /** Paths given on the command line that do not exist (and had nothing ingested under them). */
  missing: string[];
  /** Files inside the given folders passed over because their type is not supported. */
  skippedUnsupported: number;
  chunksWritten: number;
  chunksEmbedded: number;
  /** Why no vectors were computed, when none were. */
  embeddingSkipped?: string;
  cancelled: boolean;
  durationMs: number;
}

/** Parses one file; ParsePool in production, a direct parseFile call in tests. */
export interface FileParser {
  parse(filePath: string, options?: { signal?: AbortSignal }): Promise<ParsedFile>;
}

export interface IngestOptions {
  parser: FileParser;
  /** When absent, chunks are stored without vectors (BM25 only) and can be embedded by a later run. */
  embedder?: Embedder;
  /** Why there is no embedder (reported in the result). */
  embedderUnavailableReason?: string;
  /** Files parsed at once. Default: 1. */
  concurrency?: number;
  chunking?: ChunkOptions;
  embedBatchSize?: number;
  signal?: AbortSignal;
  onProgress?: (event: IngestProgressEvent) => void;
  /** Injected clock (tests). Default: Date.now. */
  now?: () => number;
}

interface FileTask {
  path: string;
  size: number;
}

export async function ingestPaths(
  corpus: Corpus,
  inputs: readonly string[],
  options: IngestOptions,
): Promise<IngestResult> {
  if (!corpus.writable)
    throw new ReckonError('NOT_WRITER', `Corpus "${corpus.name}" was not opened for writing.`);
  const now = options.now ?? Date.now;
  const started = now();
  const store = corpus.store;
  const result: IngestResult = {
    added: 0,
    updated: 0,
    unchanged: 0,
    removed: 0,
    failed: [],
    missing: [],
    skippedUnsupported: 0,
    chunksWritten: 0,
    chunksEmbedded: 0,
    cancelled: false,
    durationMs: 0,
  };
  const progress = initialIngestProgress();
  const emit = (): void => options.onProgress?.({ ...progress });
  emit();

  // 1. Scan.
  const tasks: FileTask[] = [];
  const seen = new Set<string>();
  const walkedRoots: string[] = [];
  for (const input of inputs) {
    const absolute = path.resolve(input);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(absolute);
    } catch {
      // Gone: whatever was ingested from there is removed; otherwise it is reported as missing.
      const before = result.removed;
      for (const doc of store.listDocuments()) {
        if (doc.path === absolute || doc.path.startsWith(absolute + path.sep)) {
          if (store.removeDocument(doc.path)) result.removed++;
        }
      }
      if (result.removed === before) result.missing.push(input);
      continue;
    }
    if (stat.isDirectory()) {
      walkedRoots.push(absolute);
      for (const file of walk(absolute)) addTask(file);
    } else if (stat.isFile()) {
      addTask({ path: absolute, size: stat.size }, true);
    }
  }
  function addTask(task: FileTask, explicit = false): void {
    if (seen.has(task.path)) return;
    seen.add(task.path);
    if (!explicit && !isSupportedPath(task.path)) {
      result.skippedUnsupported++;
      return;
    }
    tasks.push(task);
  }
  for (const root of walkedRoots) {
    for (const doc of store.listDocuments()) {
      if (doc.path.startsWith(root + path.sep) && !seen.has(doc.path) && store.removeDocument(doc.path))
        result.removed++;
    }
  }
  progress.phase = 'parse';
  progress.filesTotal = tasks.length;
  progress.bytesTotal = tasks.reduce((sum, task) => sum + task.size, 0);
  emit();

  // 2. Parse, chunk and write, a few files at a time.
  const parseStarted = now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && !options.signal?.aborted) {
      const task = tasks[next++]!;
      progress.currentFile = task.path;
      await ingestOne(task);
      progress.filesDone++;
      progress.bytesDone += task.size;
      progress.etaSeconds = estimateEta(now() - parseStarted, progress.bytesDone, progress.bytesTotal);
      emit();
    }
  };
  const ingestOne = async (task: FileTask): Promise<void> => {
    let contentHash: string;
    let info: { path: string; contentHash: string; size: number; mtimeMs: number };
    try {
      const stat = fs.statSync(task.path);
      contentHash = await hashFile(task.path);
      info = { path: task.path, contentHash, size: stat.size, mtimeMs: stat.mtimeMs };
    } catch (error) {
      result.failed.push({
        path: task.path,
        code: 'UNREADABLE',
        message: `Could not read the file: ${(error as Error).message}`,
      });
      progress.failed++;
      return;
    }
    const existing = store.getDocument(task.path);
    if (existing && existing.contentHash === contentHash) {
      result.unchanged++;
      if (existing.status === 'failed') {
        result.failed.push({
          path: task.path,
          code: existing.errorCode ?? 'FAILED',
          message: existing.error ?? 'Failed before.',
        });
        progress.failed++;
      }
      return;
    }
    // A file that took the whole process down while parsing (a native crash or an out-of-memory abort
    // the worker could not contain) would do it again on every run: after MAX_PARSE_CRASHES such
    // runs it is marked failed instead, and the rest of the batch goes on.
    const crashes = store.beginParse(task.path, contentHash);
    if (crashes >= MAX_PARSE_CRASHES) {
      const message = `Reckon stopped while parsing this file ${crashes} times (a crash or running out of memory), so it is skipped. Change the file, or remove it from the corpus folder.`;
      store.markFailed({ ...info, errorCode: 'PARSE_CRASHED', error: message });
      result.failed.push({ path: task.path, code: 'PARSE_CRASHED', message });
      progress.failed++;
      return;
    }
    try {
      const parsed = await options.parser.parse(task.path, { signal: options.signal });
      const chunks = toChunks(parsed, options.chunking);
      if (chunks.length === 0) {
        throw new ParseError('NO_TEXT', 'The file contains no text to index.');
      }
      // A dataset file holds many paragraphs: it is named after the file, not its first paragraph.
      const title =
        parsed.kind === 'qa-dataset'
          ? path.basename(task.path)
          : (parsed.sections[0]?.title ?? path.basename(task.path));
      store.replaceDocument({ ...info, kind: parsed.kind, title, chunks });
      if (existing) result.updated++;
      else result.added++;
      result.chunksWritten += chunks.length;
      progress.chunksWritten = result.chunksWritten;
    } catch (error) {
      const reckonError = toReckonError(error, 'PARSE_FAILED');
      if (reckonError.code === 'CANCELLED') {
        store.abandonParse(task.path);
        return;
      }
      store.markFailed({ ...info, errorCode: reckonError.code, error: reckonError.message });
      result.failed.push({ path: task.path, code: reckonError.code, message: reckonError.message });
      progress.failed++;
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 1, tasks.length || 1));
  await Promise.all(Array.from({ length: concurrency }, worker));
  delete progress.currentFile;

  // 3. Embed every chunk that has no vector yet (including ones left by an interrupted run).
  if (!options.signal?.aborted) {
    if (options.embedder) {
      await embedMissing(corpus, options.embedder, options, progress, emit, result, now);
    } else {
      result.embeddingSkipped = options.embedderUnavailableReason ?? 'no embedding model';
    }
  }

  // 4. Rebuild the derived dense index if anything changed.
  if (!options.signal?.aborted && store.embedderBinding()) {
    progress.phase = 'index';
    progress.etaSeconds = undefined;
    emit();
    corpus.refreshVectorIndex();
  }

  result.cancelled = options.signal?.aborted ?? false;
  result.durationMs = now() - started;
  progress.phase = 'done';
  progress.etaSeconds = 0;
  emit();
  return result;
}

async function embedMissing(
  corpus: Corpus,
  embedder: Embedder,
  options: IngestOptions,
  progress: IngestProgressEvent,
  emit: () => void,
  result: IngestResult,
  now: () => number,
): Promise<void> {
  const store = corpus.store;
  const binding = store.embedderBinding();
  if (binding && binding.modelId !== embedder.modelId) {
    result.embeddingSkipped = `this corpus is embedded with ${binding.modelId}, not ${embedder.modelId}`;
    return;
  }
  const batchSize = options.embedBatchSize ?? DEFAULT_EMBED_BATCH;
  progress.phase = 'embed';
  progress.chunksToEmbed = store.countChunksWithoutVectors();
  progress.chunksEmbedded = 0;
  emit();
  const started = now();
  let afterId = 0;
  while (!options.signal?.aborted) {
    const batch = store.chunksWithoutVectors(batchSize, afterId);
    if (batch.length === 0) break;
    afterId = batch.at(-1)!.id;
    const vectors = await embedder.embed(
      batch.map((chunk) => embeddingText(chunk.title, chunk.text)),
      { signal: options.signal },
    );
    store.putVectors(
      batch.map((chunk, i) => ({ chunkId: chunk.id, vector: vectors[i]! })),
      { modelId: embedder.modelId, dimension: embedder.dimension },
    );
    progress.chunksEmbedded += batch.length;
    result.chunksEmbedded = progress.chunksEmbedded;
    progress.etaSeconds = estimateEta(now() - started, progress.chunksEmbedded, progress.chunksToEmbed);
    emit();
  }
}

/** The text embedded for a chunk: its title gives short passages their subject. */
export function embeddingText(title: string, text: string): string {
  return title && !text.startsWith(title) ? `${title}\n${text}` : text;
}

function toChunks(parsed: ParsedFile, chunking: ChunkOptions | undefined): ChunkInput[] {
  const chunks: ChunkInput[] = [];
  parsed.sections.forEach((section, sectionIndex) => {
    for (const chunk of chunkDocument(section.text, { ...chunking, pageStarts: section.pageStarts })) {
      chunks.push({
        section: sectionIndex,
        title: section.title,
        text: chunk.text,
        start: chunk.start,
        end: chunk.end,
        ...(chunk.page !== undefined ? { page: chunk.page } : {}),
      });
    }
  });
  return chunks;
}

/** The progress of an ingestion that has not started scanning yet. */
export function initialIngestProgress(): IngestProgressEvent {
  return {
    phase: 'scan',
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
    chunksWritten: 0,
    chunksEmbedded: 0,
    chunksToEmbed: 0,
    failed: 0,
    etaSeconds: undefined,
  };
}

function* walk(dir: string): Generator<FileTask> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walk(full);
    } else if (entry.isFile()) {
      let size = 0;
      try {
        size = fs.statSync(full).size;
      } catch {
        // reported when read
      }
      yield { path: full, size };
    }
  }
}

async function hashFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function estimateEta(elapsedMs: number, done: number, total: number): number | undefined {
  if (done <= 0 || elapsedMs <= 0) return undefined;
  return Math.max(0, ((total - done) * elapsedMs) / done / 1000);
}
