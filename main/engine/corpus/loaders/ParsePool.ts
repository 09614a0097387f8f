import type { ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { CancelledError, ParseError } from '../../errors.ts';
import { forkModule } from '../../util/forkModule.ts';
import type { ChunkOptions } from '../chunkDocument.ts';
import { DEFAULT_PARSE_LIMITS, type ParsedFile, type ParseLimits } from './ParsedFile.ts';
import type { ParseWorkerRequest, ParseWorkerResponse } from './parseWorker.ts';

/** Number of parse processes by default: one keeps memory predictable on small machines. */
export const DEFAULT_PARSE_POOL_SIZE = 1;

/**
 * V8 old-generation limit of each parse process by default, in MiB. A file that needs more (a
 * pathological PDF) makes V8 abort that child only, which fails that file, instead of the whole app.
 */
export const DEFAULT_PARSE_MAX_OLD_SPACE_MB = 1024;

/** Bytes of a parse process's stderr kept to explain its death (V8's out-of-memory report). */
const STDERR_TAIL_BYTES = 4096;

/**
 * Where the child's entry lives: next to this module, with this module's own extension, so that it
 * resolves to parseWorker.ts when running from sources (tsx, vitest) and to parseWorker.js when the
 * build emits it as its own entry beside the bundle.
 */
function defaultWorkerUrl(): URL {
  const own = new URL(import.meta.url);
  const extension = /\.[cm]?[jt]sx?$/.exec(own.pathname)?.[0] ?? '.js';
  return new URL(`./parseWorker${extension}`, own);
}

export interface ParsePoolOptions {
  /** Overrides of DEFAULT_PARSE_LIMITS (64 MiB file, 32 Mi chars of text, 60 s per parse). */
  limits?: Partial<ParseLimits>;
  /** Maximum number of parse processes. Default: DEFAULT_PARSE_POOL_SIZE (1). */
  size?: number;
  /** V8 old-generation limit per process, in MiB. Default: DEFAULT_PARSE_MAX_OLD_SPACE_MB (1024). */
  maxOldSpaceMb?: number;
  /** The child module to start (a file: URL). Default: parseWorker.ts/.js next to this module. */
  workerUrl?: URL;
}

export interface ParsePoolParseOptions {
  /** Cancels the parse: it is dropped from the queue, or stopped in its process; rejects with CancelledError. */
  signal?: AbortSignal;
  /** Overrides limits.timeoutMs for this file only. Default: the pool's limits.timeoutMs. */
  timeoutMs?: number;
  /**
   * Chunk every section in the child too (ParsedSection.chunkSpans), under the same time cap as
   * parsing. Default: undefined (not chunked).
   */
  chunking?: ChunkOptions;
}

interface Task {
  id: number;
  filePath: string;
  timeoutMs: number;
  chunking: ChunkOptions | undefined;
  signal: AbortSignal | undefined;
  settled: boolean;
  resolve: (file: ParsedFile) => void;
  reject: (error: Error) => void;
  detachAbort: () => void;
}

interface Slot {
  child: ChildProcess;
  exited: Promise<void>;
  ready: boolean;
  retired: boolean;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
  stderrTail: string;
}

/**
 * Parses files in child processes so that slow, hostile or memory-hungry files never block or crash
 * the calling process. Files queue and run on up to `size` children (default DEFAULT_PARSE_POOL_SIZE,
 * 1), started on demand through forkModule and unref'd while idle. A parse (plus its chunking, when
 * asked) that runs past limits.timeoutMs (default 60 s) has its child killed and replaced and
 * rejects with ParseError `PARSE_TIMEOUT`; a child that dies (a crash, or out of memory under
 * `maxOldSpaceMb`, default 1 GiB) rejects its parse with `PARSE_CRASHED` — the file's own doing, so
 * ingestion marks it failed; ParseErrors thrown in the child come back with the same code and
 * message. In every case the pool goes on with the next file. Call close() when done.
 */
export class ParsePool {
  readonly #limits: ParseLimits;
  readonly #size: number;
  readonly #maxOldSpaceMb: number;
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
    this.#maxOldSpaceMb = options.maxOldSpaceMb ?? DEFAULT_PARSE_MAX_OLD_SPACE_MB;
    this.#workerUrl = options.workerUrl ?? defaultWorkerUrl();
  }

  /**
   * Parses `filePath` in a child process (see parseFile for formats and error codes). Resolves with the
   * parsed file; rejects with ParseError (the loader's code, or PARSE_TIMEOUT / PARSE_CRASHED /
   * POOL_CLOSED) or CancelledError when `options.signal` fires. `options.timeoutMs` defaults to the
   * pool's limits.timeoutMs (default 60 s) and counts from when a child starts on the file, not
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
        chunking: options.chunking,
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
   * Stops every child and rejects queued and running parses with CancelledError. Further parse()
   * calls reject with ParseError `POOL_CLOSED`. Resolves once all children have exited.
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
    let child: ChildProcess;
    try {
      child = forkModule(this.#workerUrl, {
        maxOldSpaceMb: this.#maxOldSpaceMb,
        fork: { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
      });
    } catch (error) {
      this.#failWaiting(error as Error);
      return;
    }
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // A child that could not be spawned at all never exits.
      child.once('error', () => {
        if (child.pid === undefined) resolve();
      });
    });
    const slot: Slot = {
      child,
      exited,
      ready: false,
      retired: false,
      task: undefined,
      timer: undefined,
      stderrTail: '',
    };
    this.#slots.add(slot);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      slot.stderrTail = (slot.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    child.on('message', (message: ParseWorkerResponse) => this.#onMessage(slot, message));
    child.on('error', (error) => this.#onDeath(slot, error.message));
    child.on('exit', (exitCode, signal) =>
      this.#onDeath(
        slot,
        signal
          ? `the parser process was killed by ${signal}`
          : `the parser process exited with code ${exitCode}`,
      ),
    );
  }

  /** Keeps the event loop alive only while the child works on a file. */
  #setRef(slot: Slot, referenced: boolean): void {
    const handles = [slot.child, slot.child.channel, slot.child.stderr] as (
      | { ref?: () => void; unref?: () => void }
      | null
      | undefined
    )[];
    for (const handle of handles) {
      if (referenced) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  #assign(slot: Slot, task: Task): void {
    slot.task = task;
    this.#setRef(slot, true);
    slot.child.send({
      type: 'parse',
      id: task.id,
      filePath: task.filePath,
      limits: this.#limits,
      ...(task.chunking ? { chunking: task.chunking } : {}),
    } satisfies ParseWorkerRequest);
    slot.timer = setTimeout(() => this.#onTimeout(slot, task), task.timeoutMs);
  }

  #onMessage(slot: Slot, message: ParseWorkerResponse): void {
    if (slot.retired) return;
    if (message.type === 'ready') {
      slot.ready = true;
      this.#setRef(slot, false);
      this.#pump();
      return;
    }
    const task = slot.task;
    if (task?.id !== message.id) return;
    clearTimeout(slot.timer);
    slot.task = undefined;
    slot.timer = undefined;
    this.#setRef(slot, false);
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

  #onDeath(slot: Slot, reason: string): void {
    if (slot.retired) return;
    const task = slot.task;
    void this.#retire(slot);
    const outOfMemory = /out of memory|heap limit|allocation failed/i.test(slot.stderrTail);
    if (task) {
      this.#settle(
        task,
        new ParseError(
          'PARSE_CRASHED',
          outOfMemory
            ? `Parsing "${basename(task.filePath)}" ran out of memory and was stopped. The file is too complex to ` +
              'index; split it or convert it to plain text.'
            : `The parser crashed on "${basename(task.filePath)}" (${reason}). The file was skipped; ` +
              're-save it in another program or convert it to plain text.',
        ),
      );
    } else if (!slot.ready) {
      // The child could not even start; fail one waiting file rather than respawning forever.
      this.#failWaiting(new Error(lastLine(slot.stderrTail) ?? reason));
    }
    this.#pump();
  }

  #failWaiting(error: Error): void {
    const waiting = this.#queue.shift();
    if (!waiting) return;
    this.#settle(
      waiting,
      new ParseError(
        'PARSE_CRASHED',
        `The file parser could not start (${error.message}). Reinstall Reckon or report the problem.`,
      ),
    );
  }

  #cancel(task: Task): void {
    if (task.settled) return;
    const queued = this.#queue.indexOf(task);
    if (queued !== -1) this.#queue.splice(queued, 1);
    this.#settle(task, new CancelledError());
    // A running parse stops at its next checkpoint; its child stays busy (and under its timeout)
    // until it reports back, so a stuck parse is still killed.
    for (const slot of this.#slots) {
      if (slot.task === task && slot.child.connected)
        slot.child.send({ type: 'cancel', id: task.id } satisfies ParseWorkerRequest);
    }
  }

  #settle(task: Task, error: Error | undefined, file?: ParsedFile): void {
    if (task.settled) return;
    task.settled = true;
    task.detachAbort();
    if (error) task.reject(error);
    else task.resolve(file!);
  }

  #retire(slot: Slot): Promise<void> {
    slot.retired = true;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.task = undefined;
    this.#slots.delete(slot);
    if (slot.child.exitCode === null && slot.child.signalCode === null) {
      // Referenced again so that whoever awaits the exit (close()) keeps the process alive until then.
      this.#setRef(slot, true);
      slot.child.kill('SIGKILL');
    }
    return slot.exited;
  }
}

/** The line of a dead child's stderr that says why (Node ends its report with its version). */
function lastLine(text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('Node.js v'));
  return lines.findLast((line) => /error/i.test(line)) ?? lines.at(-1);
}
