/**
 * Child-process entry of ParsePool: runs parseFile (and, when asked, chunkDocument) for each request
 * and answers with the parsed file or a `{code, message}` error. Parsing runs in its own process so
 * that a file that makes a parser run out of memory or crash natively takes down only this child;
 * chunking runs here too, so it counts against the same per-file time cap. Started by ParsePool
 * through forkModule; never imported directly.
 *
 * Protocol (plain objects over the IPC channel, `serialization: 'advanced'`):
 *   child → pool  {type: 'ready'}                                          once, after loading
 *   pool → child  {type: 'parse', id, filePath, limits, chunking?}
 *   pool → child  {type: 'cancel', id}                                     aborts that parse
 *   child → pool  {type: 'result', id, ok: true, file} | {type: 'result', id, ok: false, error}
 * The child exits when the pool disconnects (or its parent dies).
 */
import { ReckonError } from '../../errors.ts';
import { chunkDocument, type ChunkOptions } from '../chunkDocument.ts';
import type { ParsedFile, ParseLimits } from './ParsedFile.ts';
import { parseFile } from './parseFile.ts';

export type ParseWorkerRequest =
  | { type: 'parse'; id: number; filePath: string; limits: ParseLimits; chunking?: ChunkOptions }
  | { type: 'cancel'; id: number };

export interface ParseWorkerError {
  code: string;
  message: string;
}

export type ParseWorkerResponse =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true; file: ParsedFile }
  | { type: 'result'; id: number; ok: false; error: ParseWorkerError };

/** Turns whatever a parse threw into the `{code, message}` the pool rebuilds a ParseError from. */
function toWorkerError(error: unknown, filePath: string): ParseWorkerError {
  if (error instanceof ReckonError) return { code: error.code, message: error.message };
  const detail = error instanceof Error ? error.message : 'an unexpected non-error value was thrown';
  return {
    code: 'PARSE_FAILED',
    message: `"${filePath}" could not be parsed because of an internal error (${detail}). Please report it with the file type.`,
  };
}

/** Adds chunk boundaries to every section; the text itself is not repeated. */
function withChunkSpans(file: ParsedFile, chunking: ChunkOptions): ParsedFile {
  return {
    ...file,
    sections: file.sections.map((section) => ({
      ...section,
      chunkSpans: chunkDocument(section.text, { ...chunking, pageStarts: section.pageStarts }).map(
        (chunk) => ({
          start: chunk.start,
          end: chunk.end,
          ...(chunk.page !== undefined ? { page: chunk.page } : {}),
        }),
      ),
    })),
  };
}

const send = process.send?.bind(process);
if (send === undefined) throw new Error('parseWorker.ts must run as a child process (use ParsePool).');
const reply = (response: ParseWorkerResponse): void => {
  if (process.connected) send(response);
};

const controllers = new Map<number, AbortController>();

process.on('message', (request: ParseWorkerRequest) => {
  if (request.type === 'cancel') {
    controllers.get(request.id)?.abort();
    return;
  }
  const controller = new AbortController();
  controllers.set(request.id, controller);
  parseFile(request.filePath, { limits: request.limits, signal: controller.signal })
    .then((file) => (request.chunking ? withChunkSpans(file, request.chunking) : file))
    .then(
      (file) => reply({ type: 'result', id: request.id, ok: true, file }),
      (error: unknown) =>
        reply({ type: 'result', id: request.id, ok: false, error: toWorkerError(error, request.filePath) }),
    )
    .finally(() => controllers.delete(request.id));
});
// The pool went away (closed, or its process was killed): nothing is left to parse for.
process.on('disconnect', () => process.exit(0));

reply({ type: 'ready' });
