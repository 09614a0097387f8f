/**
 * Files uploaded from the page (the browser host cannot know the paths of dropped files, so it sends
 * their bytes): each upload is written under `<data dir>/uploads/<id>.part/`, piece by piece, in
 * order, within size limits, and renamed to `<data dir>/uploads/<id>/` once every file is complete —
 * only then is it handed to ingestion. Paths inside an upload are relative, checked segment by
 * segment, so nothing is ever written outside its folder. What an earlier session left half-written
 * is deleted when the next upload starts.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_MAX_UPLOAD_FILE_BYTES,
  UPLOAD_CHUNK_BYTES,
} from '../../../preload/contract.ts';
import { ReckonError } from '../errors.ts';

/** The folder of the data dir uploads go to. */
export const UPLOADS_DIR = 'uploads';
export { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_FILE_BYTES };
/** Uploads open (started, not finished or cancelled) at one time. Default 4. */
export const DEFAULT_MAX_OPEN_UPLOADS = 4;
/** An open upload that received nothing for this long may be dropped to make room. Default 10 min. */
export const DEFAULT_UPLOAD_IDLE_MS = 10 * 60_000;
/** Folder levels a relative path may have. */
const MAX_PATH_SEGMENTS = 32;

/** Options of UploadStore; dataDir is required. */
export interface UploadStoreOptions {
  dataDir: string;
  /** Default: DEFAULT_MAX_UPLOAD_BYTES (1 GiB). */
  maxUploadBytes?: number;
  /** Default: DEFAULT_MAX_UPLOAD_FILE_BYTES (256 MiB). */
  maxFileBytes?: number;
  /** Default: DEFAULT_MAX_OPEN_UPLOADS (4). */
  maxOpenUploads?: number;
  /** Default: DEFAULT_UPLOAD_IDLE_MS (10 min). */
  idleMs?: number;
  /** Epoch ms. Default: Date.now. */
  now?: () => number;
}

interface UploadFile {
  relative: string;
  size: number;
  received: number;
}

interface Upload {
  id: string;
  partDir: string;
  files: UploadFile[];
  lastActivity: number;
  /** The write in progress: pieces of one upload are written one after another. */
  writing: Promise<unknown>;
}

/** Uploads in progress, for one data dir. */
export class UploadStore {
  readonly #root: string;
  readonly #maxUploadBytes: number;
  readonly #maxFileBytes: number;
  readonly #maxOpen: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #open = new Map<string, Upload>();
  #sweptLeftovers = false;

  constructor(options: UploadStoreOptions) {
    this.#root = path.join(options.dataDir, UPLOADS_DIR);
    this.#maxUploadBytes = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    this.#maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_UPLOAD_FILE_BYTES;
    this.#maxOpen = options.maxOpenUploads ?? DEFAULT_MAX_OPEN_UPLOADS;
    this.#idleMs = options.idleMs ?? DEFAULT_UPLOAD_IDLE_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Checks the files (paths relative and safe, no duplicates, sizes within the limits) and makes
   * the upload's folder. Throws BAD_UPLOAD_PATH, UPLOAD_TOO_LARGE or TOO_MANY_UPLOADS.
   */
  async start(
    files: readonly { path: string; size: number }[],
  ): Promise<{ uploadId: string; totalBytes: number }> {
    const seen = new Set<string>();
    const checked: UploadFile[] = files.map((file) => {
      const relative = safeRelativePath(file.path);
      const key = relative.toLowerCase();
      if (seen.has(key)) {
        throw new ReckonError(
          'BAD_UPLOAD_PATH',
          `"${file.path}" is in the upload twice. Drop each file once.`,
        );
      }
      seen.add(key);
      if (file.size > this.#maxFileBytes) {
        throw new ReckonError(
          'UPLOAD_TOO_LARGE',
          `"${file.path}" is ${mib(file.size)}; files of up to ${mib(this.#maxFileBytes)} can be uploaded. Put it on the server's disk and type its path instead.`,
        );
      }
      return { relative, size: file.size, received: 0 };
    });
    const totalBytes = checked.reduce((sum, file) => sum + file.size, 0);
    if (totalBytes > this.#maxUploadBytes) {
      throw new ReckonError(
        'UPLOAD_TOO_LARGE',
        `These files come to ${mib(totalBytes)}; one upload may hold up to ${mib(this.#maxUploadBytes)}. Upload fewer at a time, or put them on the server's disk and type their folder's path.`,
      );
    }
    await this.#sweepLeftovers();
    this.#makeRoom();
    const id = `upload-${randomUUID()}`;
    const partDir = path.join(this.#root, `${id}.part`);
    await fs.promises.mkdir(partDir, { recursive: true });
    try {
      for (const file of checked) {
        const target = path.join(partDir, file.relative);
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        // Empty files are complete as they are.
        await fs.promises.writeFile(target, new Uint8Array(0), { flag: 'wx' });
      }
    } catch (error) {
      await fs.promises.rm(partDir, { recursive: true, force: true });
      throw new ReckonError(
        'BAD_UPLOAD_PATH',
        'A file and a folder of the upload have the same name, so they cannot be stored side by side. Rename one and drop them again.',
        { cause: error },
      );
    }
    this.#open.set(id, {
      id,
      partDir,
      files: checked,
      lastActivity: this.#now(),
      writing: Promise.resolve(),
    });
    return { uploadId: id, totalBytes };
  }

  /**
   * Appends one piece to one file. The piece must start where the file's received bytes end and
   * must not go past its declared size; pieces of one upload are written one at a time.
   */
  async write(
    uploadId: string,
    fileIndex: number,
    offset: number,
    base64: string,
  ): Promise<{ receivedBytes: number }> {
    const upload = this.#get(uploadId);
    const run = upload.writing.then(async () => {
      const file = upload.files[fileIndex];
      if (!file) {
        throw new ReckonError('BAD_UPLOAD_CHUNK', `Upload ${uploadId} has no file number ${fileIndex}.`);
      }
      const bytes = Buffer.from(base64, 'base64');
      if (bytes.length > UPLOAD_CHUNK_BYTES) {
        throw new ReckonError('BAD_UPLOAD_CHUNK', `A piece may hold up to ${UPLOAD_CHUNK_BYTES} bytes.`);
      }
      if (offset !== file.received) {
        throw new ReckonError(
          'BAD_UPLOAD_CHUNK',
          `"${file.relative}" has ${file.received} bytes so far; a piece starting at ${offset} does not follow. Start the upload again.`,
        );
      }
      if (file.received + bytes.length > file.size) {
        throw new ReckonError(
          'BAD_UPLOAD_CHUNK',
          `"${file.relative}" was announced as ${file.size} bytes but more arrived. Start the upload again.`,
        );
      }
      const target = path.join(upload.partDir, file.relative);
      const handle = await fs.promises.open(target, 'a');
      try {
        await handle.write(bytes);
        if (file.received + bytes.length === file.size) await handle.sync();
      } finally {
        await handle.close();
      }
      file.received += bytes.length;
      upload.lastActivity = this.#now();
      return { receivedBytes: file.received };
    });
    upload.writing = run.catch(() => undefined);
    return run;
  }

  /** Completes an upload: every file must be whole; its folder is renamed and returned. */
  async finish(uploadId: string): Promise<string> {
    const upload = this.#get(uploadId);
    await upload.writing;
    const missing = upload.files.filter((file) => file.received !== file.size);
    if (missing.length > 0) {
      throw new ReckonError(
        'UPLOAD_INCOMPLETE',
        `${missing.length} of the upload's files did not arrive whole (first: "${missing[0]!.relative}"). Upload them again.`,
      );
    }
    const dir = path.join(this.#root, upload.id);
    await fs.promises.rename(upload.partDir, dir);
    this.#open.delete(uploadId);
    return dir;
  }

  /** Drops an upload and what it stored; an unknown id is not an error (it may have been dropped already). */
  async cancel(uploadId: string): Promise<void> {
    const upload = this.#open.get(uploadId);
    if (!upload) return;
    this.#open.delete(uploadId);
    await upload.writing;
    await fs.promises.rm(upload.partDir, { recursive: true, force: true });
  }

  #get(uploadId: string): Upload {
    const upload = this.#open.get(uploadId);
    if (!upload) {
      throw new ReckonError(
        'UPLOAD_NOT_FOUND',
        `There is no upload ${uploadId.slice(0, 100)} in progress (it was finished, cancelled or dropped after ${Math.max(1, Math.round(this.#idleMs / 60_000))} idle minutes). Drop the files again.`,
      );
    }
    return upload;
  }

  /** Drops uploads idle for longer than idleMs when the limit is reached; refuses when none is. */
  #makeRoom(): void {
    if (this.#open.size < this.#maxOpen) return;
    const idle = [...this.#open.values()]
      .filter((upload) => this.#now() - upload.lastActivity > this.#idleMs)
      .sort((a, b) => a.lastActivity - b.lastActivity)[0];
    if (!idle) {
      throw new ReckonError(
        'TOO_MANY_UPLOADS',
        `${this.#open.size} uploads are already in progress. Wait for them to finish, or cancel one, then try again.`,
      );
    }
    void this.cancel(idle.id);
  }

  /** Deletes `*.part` folders an earlier session left (no upload of this session is open yet). */
  async #sweepLeftovers(): Promise<void> {
    if (this.#sweptLeftovers) return;
    this.#sweptLeftovers = true;
    let entries: string[];
    try {
      entries = await fs.promises.readdir(this.#root);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.endsWith('.part')) {
        await fs.promises.rm(path.join(this.#root, entry), { recursive: true, force: true });
      }
    }
  }
}

/**
 * A relative path from the page made safe to join under an upload's folder: split at / and \,
 * each segment a plain name (no "", ".", "..", control characters; on Windows none of the
 * characters it reserves, so no drive letters), at most MAX_PATH_SEGMENTS deep. Throws
 * BAD_UPLOAD_PATH otherwise.
 */
export function safeRelativePath(relative: string): string {
  const segments = relative.split(/[/\\]/);
  const bad = (why: string): never => {
    throw new ReckonError('BAD_UPLOAD_PATH', `"${relative.slice(0, 200)}" cannot be uploaded: ${why}.`);
  };
  if (segments.length > MAX_PATH_SEGMENTS) bad(`it is more than ${MAX_PATH_SEGMENTS} folders deep`);
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') bad('its path has an empty, "." or ".." part');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(segment)) bad('its name has a control character');
    if (process.platform === 'win32' && /[<>:"|?*]/.test(segment))
      bad('its name has a character Windows reserves');
    if (Buffer.byteLength(segment) > 255) bad('a name in it is longer than 255 bytes');
  }
  return segments.join(path.sep);
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
