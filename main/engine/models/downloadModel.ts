/**
 * Downloads the files of a catalog entry into the models folder: into `<file>.part` first, resumed
 * with an HTTP Range request when a .part is already there, verified (size, and sha256 when the
 * catalog knows it), fsynced, then renamed into place so a half-written model never looks installed.
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledError, DownloadError } from '../errors.ts';
import type { ModelCatalogEntry, ModelCatalogFile } from './catalog.ts';
import { resolveCatalogFilePath } from './catalog.ts';

/** Suffix of the file being downloaded next to its final path. */
export const PARTIAL_SUFFIX = '.part';
/** Connections tried per file when one breaks mid-body or the server answers 408/429/5xx. */
export const DEFAULT_DOWNLOAD_ATTEMPTS = 5;
/** Wait before reconnecting; multiplied by the attempt number. */
export const DEFAULT_DOWNLOAD_RETRY_DELAY_MS = 1_000;
/** Minimum time between two progress events of one file (the first and last are always sent). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 250;

/** Progress of the file being downloaded. */
export interface DownloadProgress {
  /** The file's path inside its install folder, as in the catalog. */
  file: string;
  /** Bytes on disk so far, resumed bytes included. */
  receivedBytes: number;
  /** Size of the whole file when the server or the catalog says it. */
  totalBytes?: number;
  /** Transfer rate of this connection so far. */
  bytesPerSecond: number;
  /** Seconds left at the current rate, when the total is known and the rate is not zero. */
  etaSeconds?: number;
}

export interface DownloadModelOptions {
  entry: ModelCatalogEntry;
  /** The models folder; files go to `<modelsDir>/<entry.installDir>/<file.path>`. */
  modelsDir: string;
  /** Stops the download (CancelledError); the .part stays for a later resume. */
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** fetch implementation. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Connections per file. Default: DEFAULT_DOWNLOAD_ATTEMPTS (5). */
  maxAttempts?: number;
  /** Base wait between connections. Default: DEFAULT_DOWNLOAD_RETRY_DELAY_MS (1000). */
  retryDelayMs?: number;
  /** Throttle for progress events. Default: DEFAULT_PROGRESS_INTERVAL_MS (250). */
  progressIntervalMs?: number;
}

export interface DownloadModelResult {
  /** Absolute paths of the entry's files, in catalog order. */
  paths: string[];
}

/** A failure worth reconnecting for (broken connection, 408/429/5xx, refused resume). */
class TransientDownloadError extends Error {
  override name = 'TransientDownloadError';
}

/**
 * Downloads every file of `entry` that is not yet installed, one after another. Files already in
 * place (with the catalog size, when known) are skipped. A .part left by an earlier attempt is
 * resumed with `Range: bytes=<size>-` (a 206 appends, a 200 starts over). A connection that breaks
 * is resumed up to `maxAttempts` times (default 5) after `retryDelayMs × attempt` (default 1 s).
 * The finished file must have the catalog size (or the server's), and the catalog sha256 when
 * given; then it is fsynced and renamed into place. When the server cannot be reached at all the
 * DownloadError says the machine seems offline and lists the URLs and the folder to put the files
 * in by hand. Abort gives CancelledError and keeps the .part. Progress events are throttled to
 * one per `progressIntervalMs` (default 250 ms) per file.
 */
export async function downloadModel(options: DownloadModelOptions): Promise<DownloadModelResult> {
  const { entry, modelsDir, signal } = options;
  const paths: string[] = [];
  for (const file of entry.files) {
    if (signal?.aborted) throw cancelled(entry);
    const dest = resolveCatalogFilePath(modelsDir, entry, file);
    if (!(await isInstalled(dest, file))) {
      await mkdir(path.dirname(dest), { recursive: true });
      await downloadFile({ ...options, file, dest });
    }
    paths.push(dest);
  }
  return { paths };
}

/**
 * What to do without a network: the exact URLs to fetch elsewhere and where each file goes.
 * Used in DownloadError messages; exported so the UI can show it on its own.
 */
export function manualInstallInstructions(entry: ModelCatalogEntry, modelsDir: string): string {
  const folder = path.resolve(modelsDir, entry.installDir);
  const lines = entry.files.map(
    (file) => `  ${file.url}\n    → save as ${resolveCatalogFilePath(modelsDir, entry, file)}`,
  );
  return (
    `To add "${entry.title}" by hand, download on a machine with internet access:\n${lines.join('\n')}\n` +
    `and copy ${entry.files.length === 1 ? 'the file' : 'the files (keeping the sub-folders shown)'} ` +
    `into the folder ${folder}${path.sep} — Reckon finds ${entry.files.length === 1 ? 'it' : 'them'} there.`
  );
}

async function downloadFile(
  options: DownloadModelOptions & { file: ModelCatalogFile; dest: string },
): Promise<void> {
  const { entry, file, dest, signal } = options;
  const part = dest + PARTIAL_SUFFIX;
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_DOWNLOAD_ATTEMPTS);
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_DOWNLOAD_RETRY_DELAY_MS;

  let serverTotal: number | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      serverTotal = (await fetchIntoPart({ ...options, part })) ?? serverTotal;
      break;
    } catch (error) {
      if (signal?.aborted) throw cancelled(entry);
      if (!(error instanceof TransientDownloadError)) throw error;
      if (attempt >= maxAttempts) {
        const have = await sizeOf(part);
        throw new DownloadError(
          `Downloading ${file.url} failed ${attempt} times (last: ${error.message}). ` +
            `${have > 0 ? `${have} bytes are kept in ${part}; ` : ''}run the download again to resume. ` +
            manualInstallInstructions(entry, options.modelsDir),
          { cause: error },
        );
      }
      try {
        await sleep(retryDelayMs * attempt, undefined, { signal });
      } catch {
        throw cancelled(entry);
      }
    }
  }

  const size = await sizeOf(part);
  const expected = file.sizeBytes ?? serverTotal;
  if (expected !== undefined && size !== expected) {
    await rm(part, { force: true });
    throw new DownloadError(
      `The download of ${file.url} has the wrong size: ${size} bytes instead of ${expected}. ` +
        `The partial file was removed; try again, and if it keeps happening the catalog entry ` +
        `"${entry.id}" may be out of date.`,
    );
  }
  if (file.sha256 !== undefined) {
    const actual = await sha256Of(part);
    if (actual !== file.sha256) {
      await rm(part, { force: true });
      throw new DownloadError(
        `The download of ${file.url} is corrupt: its SHA-256 is ${actual}, expected ${file.sha256}. ` +
          `The file was removed; try again.`,
      );
    }
  }
  await commitPart(part, dest);
}

/**
 * One connection: resumes or (re)starts the .part and streams the body into it. Returns the total
 * size the server announced (if any). Throws TransientDownloadError for what a reconnect may fix.
 */
async function fetchIntoPart(
  options: DownloadModelOptions & { file: ModelCatalogFile; part: string },
): Promise<number | undefined> {
  const { entry, file, part, signal } = options;
  const doFetch = options.fetch ?? fetch;

  let existing = await sizeOf(part);
  if (file.sizeBytes !== undefined && existing > file.sizeBytes) {
    await rm(part, { force: true });
    existing = 0;
  }
  if (file.sizeBytes !== undefined && existing === file.sizeBytes) return file.sizeBytes;

  let response: Response;
  try {
    response = await doFetch(file.url, {
      headers: existing > 0 ? { range: `bytes=${existing}-` } : {},
      redirect: 'follow',
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw cancelled(entry);
    throw offlineError(entry, options.modelsDir, file, error);
  }

  if (response.status === 416 && existing > 0) {
    // The server cannot serve from our offset: either the .part is already whole, or it belongs
    // to another version of the file.
    await discardBody(response);
    const total = parseContentRange(response.headers.get('content-range'))?.total;
    if (total !== undefined && total === existing) return total;
    await rm(part, { force: true });
    throw new TransientDownloadError('the server refused to resume; starting over');
  }
  if (!response.ok) {
    await discardBody(response);
    const statusLine = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      throw new TransientDownloadError(statusLine);
    }
    throw new DownloadError(
      `Downloading ${file.url} failed: ${statusLine}. ` +
        (response.status === 401 || response.status === 403 || response.status === 404
          ? `The catalog entry "${entry.id}" may be out of date${entry.homepage ? `; see ${entry.homepage}` : ''}.`
          : 'Try again later.'),
    );
  }

  let append: boolean;
  let total: number | undefined;
  if (response.status === 206) {
    const range = parseContentRange(response.headers.get('content-range'));
    if (range === undefined || range.start !== existing) {
      await discardBody(response);
      await rm(part, { force: true });
      throw new TransientDownloadError('the server resumed at another offset; starting over');
    }
    append = true;
    total = range.total;
  } else {
    // A 200 is the whole file (the server ignored or did not get our Range header).
    append = false;
    existing = 0;
    const length = response.headers.get('content-length');
    total = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
  }

  if (file.sizeBytes !== undefined && total !== undefined && total !== file.sizeBytes) {
    await discardBody(response);
    await rm(part, { force: true });
    throw new DownloadError(
      `The server sends ${total} bytes for ${file.url}, but the catalog expects ${file.sizeBytes}. ` +
        `The catalog entry "${entry.id}" may be out of date; nothing was installed.`,
    );
  }

  const body = response.body;
  if (body === null) throw new TransientDownloadError('the server sent no body');

  const intervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const startedAt = performance.now();
  let received = existing;
  let lastReport = -Infinity;
  const report = (force: boolean): void => {
    if (!options.onProgress) return;
    const nowMs = performance.now();
    if (!force && nowMs - lastReport < intervalMs) return;
    lastReport = nowMs;
    const seconds = Math.max((nowMs - startedAt) / 1000, 1e-3);
    const bytesPerSecond = (received - existing) / seconds;
    options.onProgress({
      file: file.path,
      receivedBytes: received,
      totalBytes: total,
      bytesPerSecond,
      etaSeconds:
        total !== undefined && bytesPerSecond > 0
          ? Math.max(0, total - received) / bytesPerSecond
          : undefined,
    });
  };

  const handle = await open(part, append ? 'a' : 'w');
  const reader = body.getReader();
  try {
    report(true);
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw cancelled(entry);
        throw new TransientDownloadError(
          `the connection broke after ${received} bytes (${describe(error)})`,
          {
            cause: error,
          },
        );
      }
      if (chunk.done) break;
      await writeAll(handle, chunk.value);
      received += chunk.value.byteLength;
      report(false);
    }
    await handle.sync();
  } finally {
    reader.releaseLock();
    await handle.close();
  }
  report(true);

  if (total !== undefined && received < total) {
    throw new TransientDownloadError(`the connection closed after ${received} of ${total} bytes`);
  }
  return total;
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset, null);
    offset += bytesWritten;
  }
}

async function commitPart(part: string, dest: string): Promise<void> {
  // The .part was fsynced after its last write; rename is atomic within a folder, and syncing the
  // folder makes the rename itself durable.
  await rename(part, dest);
  try {
    const dir = await open(path.dirname(dest), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some file systems (and Windows) refuse fsync on folders; the rename is still atomic.
  }
}

async function isInstalled(dest: string, file: ModelCatalogFile): Promise<boolean> {
  try {
    const info = await stat(dest);
    return info.isFile() && (file.sizeBytes === undefined || info.size === file.sizeBytes);
  } catch {
    return false;
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to keep from a body we are not reading.
  }
}

function parseContentRange(
  value: string | null,
): { start: number; end?: number; total?: number } | undefined {
  if (value === null) return undefined;
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(value.trim());
  if (!match) return undefined;
  const total = match[3] !== undefined && match[3] !== '*' ? Number(match[3]) : undefined;
  if (match[1] === undefined || match[2] === undefined) return { start: -1, total };
  return { start: Number(match[1]), end: Number(match[2]), total };
}

function offlineError(
  entry: ModelCatalogEntry,
  modelsDir: string,
  file: ModelCatalogFile,
  error: unknown,
): DownloadError {
  const host = safeHost(file.url);
  const code = errorCode(error);
  return new DownloadError(
    `Could not reach ${host}${code ? ` (${code})` : ''}: this machine seems to be offline, or the ` +
      `server is unreachable. ${manualInstallInstructions(entry, modelsDir)}`,
    { cause: error },
  );
}

function cancelled(entry: ModelCatalogEntry): CancelledError {
  return new CancelledError(`The download of "${entry.title}" was cancelled; start it again to resume.`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  if (code !== undefined) return code;
  return error instanceof Error ? error.message : 'unknown error';
}
