import { ReckonError } from '../errors.ts';

/** What kind of storage failure an error from SQLite (or the file system under it) is. */
export type StorageFailureKind = 'full' | 'damaged' | 'io';

/** SQLite's and the OS's codes for each kind; extended codes (SQLITE_IOERR_WRITE) match their prefix. */
const FULL_CODES = ['SQLITE_FULL', 'ENOSPC', 'EDQUOT'];
const DAMAGED_CODES = ['SQLITE_CORRUPT', 'SQLITE_NOTADB'];
const IO_CODES = [
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_PERM',
  'EIO',
  'EROFS',
  'EACCES',
];

/**
 * The kind of storage failure `error` is, or undefined when it is not one (a constraint violation,
 * a bug, a ReckonError). A full disk can surface as SQLITE_IOERR with ENOSPC in the message, so the
 * message is checked too.
 */
export function storageFailureKind(error: unknown): StorageFailureKind | undefined {
  if (error instanceof ReckonError || !(error instanceof Error)) return undefined;
  const rawCode = (error as { code?: unknown }).code;
  const code = typeof rawCode === 'string' ? rawCode : '';
  const matches = (codes: readonly string[]): boolean =>
    codes.some((known) => code === known || code.startsWith(`${known}_`));
  if (matches(FULL_CODES) || /disk is full|no space left/i.test(error.message)) return 'full';
  if (matches(DAMAGED_CODES) || /malformed|not a database/i.test(error.message)) return 'damaged';
  if (matches(IO_CODES)) return 'io';
  return undefined;
}

export interface StorageErrorContext {
  /** The database file, named in the message. */
  dbPath: string;
  /** What the file is, for the message: "the corpus database", "the run history". */
  label: string;
  /** What could not be done, completing "so …": "the document could not be saved". */
  action: string;
  /**
   * What to do about a damaged file: "move the corpus folder away and ingest the documents again".
   * Only ever shown for a damaged file — never for a full disk, where moving files away loses data.
   */
  repair: string;
}

/**
 * Turns a storage error into a ReckonError with a stable code and a message that names the real
 * cause and what to do, or returns undefined when `error` is not a storage error:
 * - `DISK_FULL`: the disk (or quota) is full; nothing was lost, free space and run again;
 * - `STORE_UNREADABLE`: the file is damaged (truncated, overwritten, not a database), with `repair`;
 * - `STORE_IO_ERROR`: the file could not be read or written (permissions, a removed disk).
 * The original error is kept as `cause`. No defaults.
 */
export function toStorageError(error: unknown, context: StorageErrorContext): ReckonError | undefined {
  const kind = storageFailureKind(error);
  if (kind === undefined) return undefined;
  const detail = printableDetail((error as Error).message);
  switch (kind) {
    case 'full':
      return new ReckonError(
        'DISK_FULL',
        `The disk holding ${context.label} (${context.dbPath}) is full, so ${context.action}. Nothing ` +
          'already saved was lost: free some disk space and run the command again.',
        { cause: error },
      );
    case 'damaged':
      return new ReckonError(
        'STORE_UNREADABLE',
        `${capitalize(context.label)} ${context.dbPath} is damaged and cannot be read (${detail}). ` +
          `To fix it, ${context.repair}.`,
        { cause: error },
      );
    case 'io':
      return new ReckonError(
        'STORE_IO_ERROR',
        `Could not read or write ${context.label} ${context.dbPath} (${detail}), so ${context.action}. ` +
          'Check that the disk is still connected and that you may write to the folder, then run the command again.',
        { cause: error },
      );
  }
}

/**
 * SQLite's message made safe to show inside the parentheses of ours: a damaged file's schema text can
 * put raw bytes into it ('near "\ufffdkey": syntax error'), so control characters and undecodable
 * bytes become '?', brackets replace nested parentheses, and it is cut to one line of at most 200
 * characters.
 */
function printableDetail(message: string): string {
  const line = message
    .split('\n')[0]!
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?')
    .replace(/\(/g, '[')
    .replace(/\)/g, ']');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
