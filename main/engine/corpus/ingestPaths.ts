/**
 * Ingestion: walk the given files and folders, skip files whose content hash is unchanged, parse the
 * rest off the main thread, chunk them, and write each document in one transaction; then embed the
 * chunks that have no vector yet and rebuild the derived vector index. A bad file is recorded as
 * failed with its reason and the batch goes on; files that disappeared from an ingested folder are
 * removed. A storage failure (a full disk) is not the file's doing: the document is left exactly as
 * it was, the batch stops with that error, and the next run retries. Safe to kill at any point: the
 * next run completes the work.
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

/** ReckonError codes of a storage failure: not the file's fault, so never recorded against it. */
const STORAGE_FAILURE_CODES: ReadonlySet<string> = new Set([
  'DISK_FULL',
  'STORE_IO_ERROR',
  'STORE_UNREADABLE',
]);
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

/** A path that was found or named but not ingested, with why (not a file type question). */
export interface IngestSkip {
  path: string;
  /** Stable reason code: NOT_REGULAR_FILE, BROKEN_LINK, LINK_LOOP, FOLDER_LINK, UNREADABLE_FOLDER. */
  code: string;
  /** What it is and what to do, for people. */
  reason: string;
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
  /**
   * Paths passed over for another reason, each named: a FIFO, device or socket (named or found), a
   * broken or looping symbolic link, a link to a folder, a folder that cannot be read.
   */
  skipped: IngestSkip[];
  chunksWritten: number;
  chunksEmbedded: number;
  /** Why no vectors were computed, when none were. */
  embeddingSkipped?: string;
  cancelled: boolean;
  durationMs: number;
}

/** Parses one file; ParsePool in production, a direct parseFile call in tests. */
export interface FileParser {
  /**
   * With `chunking`, a parser may chunk the sections itself (ParsedSection.chunkSpans), e.g. off the
   * main thread under its time cap; sections without spans are chunked here.
   */
  parse(filePath: string, options?: { signal?: AbortSignal; chunking?: ChunkOptions }): Promise<ParsedFile>;
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
    skipped: [],
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
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') {
        result.skipped.push(linkLoop(absolute));
        continue;
      }
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
      for (const found of walk(absolute)) {
        if ('reason' in found) result.skipped.push(found);
        else addTask(found);
      }
    } else if (stat.isFile()) {
      addTask({ path: absolute, size: stat.size }, true);
    } else {
      result.skipped.push(notRegularFile(absolute, stat));
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
  // A storage failure (disk full) stops the batch: every later write would fail the same way.
  let storageFailure: ReckonError | undefined;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && !options.signal?.aborted && !storageFailure) {
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
    try {
      const parsed = await options.parser.parse(task.path, {
        signal: options.signal,
        chunking: options.chunking ?? {},
      });
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
      if (reckonError.code === 'CANCELLED') return;
      if (STORAGE_FAILURE_CODES.has(reckonError.code)) {
        // The write was rolled back: the document keeps its old chunks and hash, so the next run
        // sees the file as changed and tries again. Nothing is recorded against the file.
        storageFailure ??= reckonError;
        return;
      }
      try {
        store.markFailed({ ...info, errorCode: reckonError.code, error: reckonError.message });
      } catch (markError) {
        storageFailure ??= toReckonError(markError);
        return;
      }
      result.failed.push({ path: task.path, code: reckonError.code, message: reckonError.message });
      progress.failed++;
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 1, tasks.length || 1));
  await Promise.all(Array.from({ length: concurrency }, worker));
  delete progress.currentFile;
  if (storageFailure) throw storageFailure;

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
    const spans =
      section.chunkSpans ?? chunkDocument(section.text, { ...chunking, pageStarts: section.pageStarts });
    for (const chunk of spans) {
      chunks.push({
        section: sectionIndex,
        title: section.title,
        text: section.text.slice(chunk.start, chunk.end),
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

/**
 * Files under `dir`, sorted, skipping dot-entries and SKIPPED_DIRS. A symbolic link to a file is
 * followed (the document keeps the link's path); a link to a folder is not (it could pull in another
 * tree or loop back), nor is a broken or looping link, a FIFO, device or socket, or a folder that
 * cannot be read: each of those comes back as an IngestSkip so it is reported, never silently lost.
 */
function* walk(dir: string): Generator<FileTask | IngestSkip> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    yield {
      path: dir,
      code: 'UNREADABLE_FOLDER',
      reason: `The folder could not be read (${(error as Error).message}); check its permissions.`,
    };
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) yield* walk(full);
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') yield linkLoop(full);
      else if (entry.isSymbolicLink())
        yield {
          path: full,
          code: 'BROKEN_LINK',
          reason: 'A symbolic link whose target does not exist; fix or remove the link.',
        };
      continue; // a file that vanished meanwhile: nothing to ingest
    }
    if (stat.isFile()) yield { path: full, size: stat.size };
    else if (stat.isDirectory())
      yield {
        path: full,
        code: 'FOLDER_LINK',
        reason:
          'A symbolic link to a folder; folder links are not followed (they can loop or pull in a whole ' +
          'other tree). Add that folder itself to ingest it.',
      };
    else yield notRegularFile(full, stat);
  }
}

function notRegularFile(filePath: string, stat: fs.Stats): IngestSkip {
  const what = stat.isFIFO()
    ? 'a named pipe (FIFO)'
    : stat.isSocket()
      ? 'a socket'
      : stat.isCharacterDevice() || stat.isBlockDevice()
        ? 'a device'
        : 'a special file';
  return {
    path: filePath,
    code: 'NOT_REGULAR_FILE',
    reason: `This is ${what}, not a regular file, so it was not read (reading it could block or never end). Copy its content into a file to ingest it.`,
  };
}

function linkLoop(filePath: string): IngestSkip {
  return {
    path: filePath,
    code: 'LINK_LOOP',
    reason: 'A symbolic link that loops back on itself; fix or remove the link.',
  };
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
