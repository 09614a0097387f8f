import { basename } from 'node:path';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { CancelledError, ParseError } from '../../errors.ts';
import { createWorker } from '../../util/createWorker.ts';
import { DEFAULT_PARSE_LIMITS, type ParsedFile, type ParseLimits } from './ParsedFile.ts';
import type { ParseWorkerRequest, ParseWorkerResponse } from './parseWorker.ts';

/** Number of parse workers by default: one keeps memory predictable on small machines. */
export const DEFAULT_PARSE_POOL_SIZE = 1;

/**
 * V8 limits of each parse worker by default. A file that needs more (a pathological PDF) crashes its
 * worker with ERR_WORKER_OUT_OF_MEMORY, which fails that file only, instead of the whole app.
 */
export const DEFAULT_PARSE_WORKER_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 1024 };

/**
 * Where the worker entry lives: next to this module, with this module's own extension, so that it
 * resolves to parseWorker.ts when running from sources (tsx, vitest) and to parseWorker.js when the
 * build emits the worker as its own entry beside the bundle.
 */
function defaultWorkerUrl(): URL {
  const own = new URL(import.meta.url);
  const extension = /\.[cm]?[jt]sx?$/.exec(own.pathname)?.[0] ?? '.js';
  return new URL(`./parseWorker${extension}`, own);
}

export interface ParsePoolOptions {
  /** Overrides of DEFAULT_PARSE_LIMITS (64 MiB file, 32 Mi chars of text, 60 s per parse). */
  limits?: Partial<ParseLimits>;
  /** Maximum number of worker threads. Default: DEFAULT_PARSE_POOL_SIZE (1). */
  size?: number;
  /** V8 limits per worker. Default: DEFAULT_PARSE_WORKER_RESOURCE_LIMITS (1 GiB old generation). */
  resourceLimits?: ResourceLimits;
  /** The worker module to start. Default: parseWorker.ts/.js next to this module. */
  workerUrl?: URL;
}

export interface ParsePoolParseOptions {
  /** Cancels the parse: it is dropped from the queue, or stopped in its worker; rejects with CancelledError. */
  signal?: AbortSignal;
  /** Overrides limits.timeoutMs for this file only. Default: the pool's limits.timeoutMs. */
  timeoutMs?: number;
}

interface Task {
  id: number;
  filePath: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  settled: boolean;
  resolve: (file: ParsedFile) => void;
  reject: (error: Error) => void;
  detachAbort: () => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  retired: boolean;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Parses files in worker threads so that slow or hostile files never block or crash the main thread.
 * Files queue and run on up to `size` workers (default DEFAULT_PARSE_POOL_SIZE, 1), started on demand
 * through createWorker and unref'd while idle. A parse that runs past limits.timeoutMs (default 60 s)
 * has its worker terminated and replaced and rejects with ParseError `PARSE_TIMEOUT`; a worker that
 * dies (uncaught error, out of memory under `resourceLimits`, default 1 GiB old generation) rejects
 * its parse with `PARSE_CRASHED`; ParseErrors thrown in the worker come back with the same code and
 * message. In every case the pool goes on with the next file. Call close() when done.
 */
export class ParsePool {
  readonly #limits: ParseLimits;
  readonly #size: number;
  readonly #resourceLimits: ResourceLimits;
  readonly #workerUrl: URL;
  readonly #queue: Task[] = [];
  readonly #slots = new Set<Slot>();
  #nextId = 1;
  #closed = false;

  constructor(options: ParsePoolOptions = {}) {
    this.#limits = {
      maxFileBytes: options.limits?.maxFileBytes ?? DEFAULT_PARSE_LIMITS.maxFileBytes,
      maxTextChars: options.limits?.maxTextChars ?? DEFAULT_PARSE_LIMITS.maxTextChars,
      timeoutMs: options.limits?.timeoutMs ?? DEFAULT_PARSE_LIMITS.timeoutMs,
    };
    this.#size = Math.max(1, Math.floor(options.size ?? DEFAULT_PARSE_POOL_SIZE));
    this.#resourceLimits = options.resourceLimits ?? DEFAULT_PARSE_WORKER_RESOURCE_LIMITS;
    this.#workerUrl = options.workerUrl ?? defaultWorkerUrl();
  }

  /**
   * Parses `filePath` in a worker (see parseFile for formats and error codes). Resolves with the
   * parsed file; rejects with ParseError (the loader's code, or PARSE_TIMEOUT / PARSE_CRASHED /
   * POOL_CLOSED) or CancelledError when `options.signal` fires. `options.timeoutMs` defaults to the
   * pool's limits.timeoutMs (default 60 s) and counts from when a worker starts on the file, not
   * while it waits in the queue.
   */
  parse(filePath: string, options: ParsePoolParseOptions = {}): Promise<ParsedFile> {
    if (this.#closed) {
      return Promise.reject(
        new ParseError('POOL_CLOSED', 'The file parser has been shut down; no more files can be parsed.'),
      );
    }
    if (options.signal?.aborted) return Promise.reject(new CancelledError());
    return new Promise<ParsedFile>((resolve, reject) => {
      const signal = options.signal;
      const task: Task = {
        id: this.#nextId++,
        filePath,
        timeoutMs: options.timeoutMs ?? this.#limits.timeoutMs,
        signal,
        settled: false,
        resolve,
        reject,
        detachAbort: () => {},
      };
      if (signal) {
        const onAbort = (): void => this.#cancel(task);
        signal.addEventListener('abort', onAbort, { once: true });
        task.detachAbort = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(task);
      this.#pump();
    });
  }

  /**
   * Stops every worker and rejects queued and running parses with CancelledError. Further parse()
   * calls reject with ParseError `POOL_CLOSED`. Resolves once all workers have exited.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const task of this.#queue.splice(0))
      this.#settle(task, new CancelledError('The file parser was shut down.'));
    const exits: Promise<unknown>[] = [];
    for (const slot of [...this.#slots]) {
      if (slot.task) this.#settle(slot.task, new CancelledError('The file parser was shut down.'));
      exits.push(this.#retire(slot));
    }
    await Promise.all(exits);
  }

  #pump(): void {
    if (this.#closed) return;
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.ready && !slot.task && !slot.retired) this.#assign(slot, this.#queue.shift()!);
    }
    const starting = [...this.#slots].filter((slot) => !slot.ready && !slot.retired).length;
    let toStart = Math.min(this.#queue.length - starting, this.#size - this.#slots.size);
    for (; toStart > 0; toStart -= 1) this.#spawn();
  }

  #spawn(): void {
    const worker = createWorker(this.#workerUrl, { resourceLimits: this.#resourceLimits });
    const slot: Slot = { worker, ready: false, retired: false, task: undefined, timer: undefined };
    this.#slots.add(slot);
    worker.on('message', (message: ParseWorkerResponse) => this.#onMessage(slot, message));
    worker.on('error', (error) => this.#onDeath(slot, error));
    worker.on('exit', (exitCode) =>
      this.#onDeath(slot, new Error(`the worker exited with code ${exitCode}`)),
    );
  }

  #assign(slot: Slot, task: Task): void {
    slot.task = task;
    slot.worker.ref();
    slot.worker.postMessage({
      type: 'parse',
      id: task.id,
      filePath: task.filePath,
      limits: this.#limits,
    } satisfies ParseWorkerRequest);
    slot.timer = setTimeout(() => this.#onTimeout(slot, task), task.timeoutMs);
  }

  #onMessage(slot: Slot, message: ParseWorkerResponse): void {
    if (slot.retired) return;
    if (message.type === 'ready') {
      slot.ready = true;
      slot.worker.unref();
      this.#pump();
      return;
    }
    const task = slot.task;
    if (task?.id !== message.id) return;
    clearTimeout(slot.timer);
    slot.task = undefined;
    slot.timer = undefined;
    slot.worker.unref();
    if (message.ok) this.#settle(task, undefined, message.file);
    else if (message.error.code === 'CANCELLED') this.#settle(task, new CancelledError());
    else this.#settle(task, new ParseError(message.error.code, message.error.message));
    this.#pump();
  }

  #onTimeout(slot: Slot, task: Task): void {
    if (slot.retired || slot.task !== task) return;
    const seconds =
      task.timeoutMs >= 1000 ? `${Number((task.timeoutMs / 1000).toFixed(1))} s` : `${task.timeoutMs} ms`;
    this.#settle(
      task,
      new ParseError(
        'PARSE_TIMEOUT',
        `Parsing "${basename(task.filePath)}" took longer than ${seconds} and was stopped. The file may be ` +
          'unusually large or malformed; split or re-save it, or raise the parse timeout in the settings.',
      ),
    );
    void this.#retire(slot);
    this.#pump();
  }

  #onDeath(slot: Slot, error: Error): void {
    if (slot.retired) return;
    const task = slot.task;
    void this.#retire(slot);
    const outOfMemory = (error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    if (task) {
      this.#settle(
        task,
        new ParseError(
          'PARSE_CRASHED',
          outOfMemory
            ? `Parsing "${basename(task.filePath)}" ran out of memory and was stopped. The file is too complex to ` +
              'index; split it or convert it to plain text.'
            : `The parser crashed on "${basename(task.filePath)}" (${error.message}). The file was skipped; ` +
              're-save it in another program or convert it to plain text.',
        ),
      );
    } else if (!slot.ready) {
      // The worker could not even start; fail one waiting file rather than respawning forever.
      const waiting = this.#queue.shift();
      if (waiting) {
        this.#settle(
          waiting,
          new ParseError(
            'PARSE_CRASHED',
            `The file parser could not start (${error.message}). Reinstall Reckon or report the problem.`,
          ),
        );
      }
    }
    this.#pump();
  }

  #cancel(task: Task): void {
    if (task.settled) return;
    const queued = this.#queue.indexOf(task);
    if (queued !== -1) this.#queue.splice(queued, 1);
    this.#settle(task, new CancelledError());
    // A running parse stops at its next checkpoint; its worker stays busy (and under its timeout)
    // until it reports back, so a stuck parse is still killed.
    for (const slot of this.#slots) {
      if (slot.task === task)
        slot.worker.postMessage({ type: 'cancel', id: task.id } satisfies ParseWorkerRequest);
    }
  }

  #settle(task: Task, error: Error | undefined, file?: ParsedFile): void {
    if (task.settled) return;
    task.settled = true;
    task.detachAbort();
    if (error) task.reject(error);
    else task.resolve(file!);
  }

  #retire(slot: Slot): Promise<number> {
    slot.retired = true;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
    this.#slots.delete(slot);
    return slot.worker.terminate();
  }
}
