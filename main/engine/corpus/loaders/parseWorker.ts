/**
 * Worker-thread entry of ParsePool: runs parseFile for each request and answers with the parsed file
 * or a `{code, message}` error. Started by ParsePool through createWorker; never imported directly.
 *
 * Protocol (all plain, structured-cloneable objects):
 *   worker → pool  {type: 'ready'}                                         once, after loading
 *   pool → worker  {type: 'parse', id, filePath, limits}
 *   pool → worker  {type: 'cancel', id}                                    aborts that parse
 *   worker → pool  {type: 'result', id, ok: true, file} | {type: 'result', id, ok: false, error}
 */
import { parentPort } from 'node:worker_threads';
import { ReckonError } from '../../errors.ts';
import type { ParsedFile, ParseLimits } from './ParsedFile.ts';
import { parseFile } from './parseFile.ts';

export type ParseWorkerRequest =
  | { type: 'parse'; id: number; filePath: string; limits: ParseLimits }
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

const port = parentPort;
if (port === null) throw new Error('parseWorker.ts must run in a worker thread (use ParsePool).');

const controllers = new Map<number, AbortController>();

port.on('message', (request: ParseWorkerRequest) => {
  if (request.type === 'cancel') {
    controllers.get(request.id)?.abort();
    return;
  }
  const controller = new AbortController();
  controllers.set(request.id, controller);
  parseFile(request.filePath, { limits: request.limits, signal: controller.signal })
    .then(
      (file) =>
        port.postMessage({ type: 'result', id: request.id, ok: true, file } satisfies ParseWorkerResponse),
      (error: unknown) =>
        port.postMessage({
          type: 'result',
          id: request.id,
          ok: false,
          error: toWorkerError(error, request.filePath),
        } satisfies ParseWorkerResponse),
    )
    .finally(() => controllers.delete(request.id));
});

port.postMessage({ type: 'ready' } satisfies ParseWorkerResponse);
