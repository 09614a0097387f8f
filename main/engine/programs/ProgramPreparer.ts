/**
 * Prepares model-written programs (prepareProgram: parse, analysis, instrumentation) in a worker
 * thread of its own, under a deadline: the engine's thread never parses a long program, so a large
 * or deeply nested one cannot stall other requests (the browser host's, the app's), and a
 * preparation that runs past its deadline ends in a typed Timeout while the worker is replaced.
 * Programs up to DEFAULT_IN_THREAD_PREPARE_MAX_BYTES (1 KiB) are prepared on the calling thread.
 * One request at a time per worker; the worker starts on first use and is unref'd while idle.
 */
import type { Worker } from 'node:worker_threads';
import { createWorker } from '../util/createWorker.ts';
import {
  prepareProgramSafely,
  type PrepareProgramOptions,
  type PrepareProgramResult,
} from './prepareProgram.ts';
import type { PrepareRequest, PrepareResponse } from './prepareWorker.ts';

/** How long one preparation may take. A 64 KiB program (the size cap) takes well under a second. */
export const DEFAULT_PREPARE_DEADLINE_MS = 10_000;

/**
 * Programs up to this many bytes (UTF-8) are prepared on the calling thread: most model-written
 * programs are this short, and the worker's round trip cost them more than the preparation (issue
 * 12: 1–2 ms a question against 0.3 ms). Even the worst program of this size prepares in about
 * 10 ms (measured: 1 KiB of nested binary operators or arrays, 8.7–9.9 ms warm), so it cannot stall
 * the engine's thread for long; anything longer goes to the worker, under the deadline.
 */
export const DEFAULT_IN_THREAD_PREPARE_MAX_BYTES = 1024;

export interface ProgramPreparerOptions {
  /** The worker module. Default: prepareWorker.ts/.js next to this module, with this module's extension. */
  workerUrl?: URL;
  /** Deadline of one preparation. Default: DEFAULT_PREPARE_DEADLINE_MS (10 s). */
  deadlineMs?: number;
  /** Largest program prepared on the calling thread, in bytes; 0 sends every one to the worker. Default: DEFAULT_IN_THREAD_PREPARE_MAX_BYTES (1 KiB). */
  inThreadMaxBytes?: number;
}

interface Pending {
  request: PrepareRequest;
  resolve: (result: PrepareProgramResult) => void;
}

function defaultWorkerUrl(): URL {
  const own = new URL(import.meta.url);
  const extension = /\.[cm]?[jt]sx?$/.exec(own.pathname)?.[0] ?? '.js';
  return new URL(`./prepareWorker${extension}`, own);
}

export class ProgramPreparer {
  readonly #workerUrl: URL;
  readonly #deadlineMs: number;
  readonly #inThreadMaxBytes: number;
  readonly #queue: Pending[] = [];
  #worker: Worker | undefined;
  #active: { pending: Pending; timer: NodeJS.Timeout } | undefined;
  #nextId = 1;
  #closed = false;

  constructor(options: ProgramPreparerOptions = {}) {
    this.#workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_PREPARE_DEADLINE_MS;
    this.#inThreadMaxBytes = options.inThreadMaxBytes ?? DEFAULT_IN_THREAD_PREPARE_MAX_BYTES;
  }

  /**
   * prepareProgram(code, options) in the worker. Never rejects: a preparation past the deadline is
   * `{ok: false, error: {kind: 'Timeout'}}`, a worker that cannot start or dies is a RuntimeError
   * failure with the reason (the next call starts a new worker).
   */
  prepare(code: string, options: PrepareProgramOptions = {}): Promise<PrepareProgramResult> {
    if (this.#closed) return Promise.resolve(failure('RuntimeError', 'The program preparer was closed.'));
    // A short program (the common case) is quicker to prepare here than to send to the worker.
    if (code.length <= this.#inThreadMaxBytes && Buffer.byteLength(code) <= this.#inThreadMaxBytes)
      return Promise.resolve(prepareProgramSafely(code, options));
    return new Promise((resolve) => {
      this.#queue.push({ request: { id: this.#nextId++, code, options }, resolve });
      this.#pump();
    });
  }

  /** Stops the worker; queued preparations resolve as failures. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#queue.splice(0))
      pending.resolve(failure('RuntimeError', 'The program preparer was closed.'));
    if (this.#active) this.#settle(failure('RuntimeError', 'The program preparer was closed.'));
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #pump(): void {
    if (this.#active || this.#queue.length === 0 || this.#closed) return;
    const pending = this.#queue.shift()!;
    let worker: Worker;
    try {
      worker = this.#worker ?? this.#spawn();
    } catch (error) {
      pending.resolve(failure('RuntimeError', `The program preparer could not start (${describe(error)}).`));
      this.#pump();
      return;
    }
    worker.ref();
    const timer = setTimeout(() => {
      this.#replaceWorker();
      this.#settle({
        ok: false,
        error: {
          kind: 'Timeout',
          message: `Reading the program took longer than ${this.#deadlineMs} ms and was stopped. Write a shorter, simpler program.`,
        },
      });
    }, this.#deadlineMs);
    this.#active = { pending, timer };
    worker.postMessage(pending.request);
  }

  #spawn(): Worker {
    const worker = createWorker(this.#workerUrl);
    worker.on('message', (response: PrepareResponse) => {
      if (worker === this.#worker && this.#active?.pending.request.id === response.id)
        this.#settle(response.result);
    });
    const onDeath = (reason: string): void => {
      if (worker !== this.#worker) return;
      this.#worker = undefined;
      if (this.#active)
        this.#settle(failure('RuntimeError', `The program preparer stopped unexpectedly (${reason}).`));
    };
    worker.on('error', (error) => onDeath(describe(error)));
    worker.on('exit', (code) => onDeath(`exit code ${code}`));
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #replaceWorker(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
  }

  #settle(result: PrepareProgramResult): void {
    const active = this.#active;
    if (!active) return;
    this.#active = undefined;
    clearTimeout(active.timer);
    this.#worker?.unref();
    active.pending.resolve(result);
    this.#pump();
  }
}

function failure(kind: 'RuntimeError' | 'Timeout', message: string): PrepareProgramResult {
  return { ok: false, error: { kind, errorName: 'InternalError', message } };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : 'unknown error';
}
