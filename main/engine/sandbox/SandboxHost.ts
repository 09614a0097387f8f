import type { ResourceLimits, Worker } from 'node:worker_threads';
import { createWorker } from '../util/createWorker.ts';
import type {
  HostCallContext,
  HostTools,
  JsonValue,
  SandboxEvent,
  SandboxFailure,
  SandboxLimits,
  SandboxMetrics,
  SandboxRunResult,
} from './SandboxTypes.ts';
import { formatDuration, RESERVED_GLOBAL_NAMES } from './QuickJsExecutor.ts';
import { resolveSandboxLimits } from './resolveSandboxLimits.ts';
import { HostArgumentError, SandboxUnavailableError, SandboxUsageError } from './sandboxErrors.ts';
import {
  CONTROL_CANCEL_RUN_ID,
  CONTROL_SLOTS,
  type ExecutorOutcome,
  type HostCallReply,
  type HostCallRequest,
  type HostToWorkerMessage,
  type SandboxWorkerData,
  type WorkerToHostMessage,
} from './sandboxProtocol.ts';

/**
 * V8 limits of the sandbox worker by default. QuickJS's own heap lives in WebAssembly memory and is
 * bounded by `limits.memoryBytes`; this only bounds the worker's JavaScript side (the capped copies it
 * makes of guest values), so that a bug there fails one run instead of the app.
 */
export const DEFAULT_SANDBOX_WORKER_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 256 };

/** Longest tool error message passed on to the program and the trace. */
const MAX_TOOL_ERROR_CHARS = 1_000;
/** Largest JSON result one host call may send back into the guest. */
export const MAX_TOOL_RESULT_BYTES = 4 * 1024 * 1024;
const TOOL_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Options of one sandboxed run. */
export interface SandboxRunOptions {
  /**
   * The program as a classic script, evaluated as `program.js`: its completion value (a promise from
   * an async IIFE, or a plain value) is the result. See runSandboxedProgram for the whole contract.
   */
  script: string;
  /** The host tools by global name; they validate and run on the calling thread, never in the worker. */
  tools: HostTools;
  /** Overrides of DEFAULT_SANDBOX_LIMITS (64 MiB, 256 KiB stack, 20 s of guest time + 2 s grace, 10 min of host time, 64 calls, 32 KiB args, 64 KiB logs). */
  limits?: Partial<SandboxLimits>;
  /** Cancels the run (result kind `Cancelled`); a queued run is dropped at once. Default: none. */
  signal?: AbortSignal;
  /** Receives host-call, host-result, binding and log events as they happen. Its exceptions are ignored. Default: none. */
  onEvent?: (event: SandboxEvent) => void;
}

/** Options of a SandboxHost. */
export interface SandboxHostOptions {
  /** The worker module. Default: sandboxWorker.ts/.js next to this module, with this module's extension. */
  workerUrl?: URL;
  /** V8 limits of the worker. Default: DEFAULT_SANDBOX_WORKER_RESOURCE_LIMITS (256 MiB old generation). */
  resourceLimits?: ResourceLimits;
}

/** Counters of a SandboxHost since it was created. */
export interface SandboxHostStats {
  /** Runs that produced a result (any outcome). */
  runs: number;
  workersStarted: number;
  /** Workers terminated because a program ignored the interrupt past deadline + grace, or a cancel. */
  workersTerminated: number;
  /**
   * Runs whose QuickJS runtime could not be disposed cleanly (a leaked handle: a bug here or in
   * quickjs-emscripten, such as the context it leaked when memory grew, see newSandboxQuickJsModule);
   * their worker was replaced. Tests assert 0, hostile programs included.
   */
  teardownFailures: number;
  /** Workers that died on their own (crash, V8 out of memory). */
  workerCrashes: number;
}

interface Job {
  options: SandboxRunOptions;
  limits: SandboxLimits;
  resolve: (result: SandboxRunResult) => void;
  reject: (error: Error) => void;
  detachAbort: () => void;
}

interface ActiveRun {
  runId: number;
  job: Job;
  startedAt: number;
  controller: AbortController;
  /** Guest-time watchdog: paused while host calls are in flight (see #pauseWatchdog). */
  watchdog: NodeJS.Timeout | undefined;
  /** Guest time the watchdog still allows, as of the last pause. */
  watchdogLeftMs: number;
  watchdogResumedAt: number;
  /** Wall-clock cap: deadline + host-time budget + grace, for a worker stuck while calls are in flight. */
  wallCap: NodeJS.Timeout;
  inFlight: number;
  cancelTimer: NodeJS.Timeout | undefined;
  hostCalls: number;
  hostCallsByTool: Record<string, number>;
  logBytes: number;
  /** From the executor's outcome, when it reported one. */
  guestMs?: number;
  hostWaitMs?: number;
  settled: boolean;
}

interface WorkerSlot {
  worker: Worker;
  control: Int32Array;
  ready: boolean;
  retired: boolean;
  run: ActiveRun | undefined;
}

function defaultWorkerUrl(): URL {
  const own = new URL(import.meta.url);
  const extension = /\.[cm]?[jt]sx?$/.exec(own.pathname)?.[0] ?? '.js';
  return new URL(`./sandboxWorker${extension}`, own);
}

/**
 * Runs model-written programs in QuickJS inside one warm worker thread, one program at a time (runs
 * queue in order; the deadline starts when a run starts, not while it waits). Each run gets a fresh
 * QuickJS runtime and context, so nothing a program does survives into the next. Host tools run on
 * this thread: the worker sends each validated call as a message and gets the result back.
 *
 * Limits are enforced where they can be: memory (QuickJS heap limit), stack (QuickJS stack limit,
 * ≤ 256 KiB), the deadline on the program's own time (QuickJS interrupt handler; waiting for host
 * calls does not count), the host-time budget on the waiting (a timer while the program waits), and
 * a watchdog that terminates — and replaces — the worker at deadline + watchdogGraceMs of guest time
 * when a builtin ignores the interrupt. A run never rejects because of what the program does; only
 * misuse (SandboxUsageError) or a worker that cannot start (SandboxUnavailableError) rejects.
 * The worker starts on the first run (defaults: sandboxWorker next to this module, 256 MiB V8 old
 * generation; see SandboxHostOptions), is unref'd while idle, and stops with close().
 */
export class SandboxHost {
  readonly #workerUrl: URL;
  readonly #resourceLimits: ResourceLimits;
  readonly #queue: Job[] = [];
  readonly #terminating = new Set<Promise<number>>();
  readonly #stats: SandboxHostStats = {
    runs: 0,
    workersStarted: 0,
    workersTerminated: 0,
    teardownFailures: 0,
    workerCrashes: 0,
  };
  #slot: WorkerSlot | undefined;
  #nextRunId = 1;
  #closed = false;

  constructor(options: SandboxHostOptions = {}) {
    this.#workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.#resourceLimits = options.resourceLimits ?? DEFAULT_SANDBOX_WORKER_RESOURCE_LIMITS;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A snapshot of the host's counters. */
  get stats(): SandboxHostStats {
    return { ...this.#stats };
  }

  /**
   * Runs one program and resolves with its value or its typed failure (see SandboxRunResult); see
   * SandboxRunOptions for the defaults. Rejects only with SandboxUsageError (bad options, closed host)
   * or SandboxUnavailableError (the worker cannot start).
   */
  async run(options: SandboxRunOptions): Promise<SandboxRunResult> {
    const limits = validateRunOptions(options);
    if (this.#closed)
      throw new SandboxUsageError('SANDBOX_CLOSED', 'The sandbox host was closed; create a new one.');
    if (options.signal?.aborted)
      return cancelledResult('The run was cancelled before it started.', emptyMetrics());
    return new Promise<SandboxRunResult>((resolve, reject) => {
      const job: Job = { options, limits, resolve, reject, detachAbort: () => {} };
      const signal = options.signal;
      if (signal) {
        const onAbort = (): void => this.#onAbort(job);
        signal.addEventListener('abort', onAbort, { once: true });
        job.detachAbort = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(job);
      this.#pump();
    });
  }

  /**
   * Stops the worker. Queued and running programs resolve as `Cancelled`; later run() calls reject
   * with SandboxUsageError `SANDBOX_CLOSED`. Resolves once the worker has exited.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      job.detachAbort();
      job.resolve(cancelledResult('The sandbox was shut down before the program ran.', emptyMetrics()));
    }
    const slot = this.#slot;
    if (slot) {
      if (slot.run)
        this.#finish(slot, slot.run, { kind: 'Cancelled', message: 'The sandbox was shut down.' }, true);
      else this.#retire(slot);
    }
    await Promise.all([...this.#terminating]);
  }

  #pump(): void {
    if (this.#closed || this.#queue.length === 0) return;
    let slot = this.#slot;
    if (slot === undefined) {
      try {
        slot = this.#spawn();
      } catch (error) {
        this.#rejectQueued(error);
        return;
      }
    }
    slot.worker.ref();
    if (!slot.ready || slot.run) return;
    const job = this.#queue.shift()!;
    this.#start(slot, job);
  }

  #spawn(): WorkerSlot {
    const control = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const worker = createWorker(this.#workerUrl, {
      workerData: { control } satisfies SandboxWorkerData,
      resourceLimits: this.#resourceLimits,
    });
    const slot: WorkerSlot = {
      worker,
      control: new Int32Array(control),
      ready: false,
      retired: false,
      run: undefined,
    };
    this.#slot = slot;
    this.#stats.workersStarted += 1;
    worker.on('message', (message: WorkerToHostMessage) => this.#onMessage(slot, message));
    worker.on('error', (error) => this.#onDeath(slot, error));
    worker.on('exit', (code) =>
      this.#onDeath(slot, new Error(`the sandbox worker exited with code ${code}`)),
    );
    worker.unref();
    return slot;
  }

  #start(slot: WorkerSlot, job: Job): void {
    const { limits, options } = job;
    const runId = this.#nextRunId++;
    const startedAt = performance.now();
    const run: ActiveRun = {
      runId,
      job,
      startedAt,
      controller: new AbortController(),
      watchdog: undefined,
      watchdogLeftMs: limits.deadlineMs + limits.watchdogGraceMs,
      watchdogResumedAt: startedAt,
      wallCap: setTimeout(
        () => this.#onWatchdog(slot, run),
        limits.deadlineMs + limits.hostTimeBudgetMs + limits.watchdogGraceMs,
      ),
      inFlight: 0,
      cancelTimer: undefined,
      hostCalls: 0,
      hostCallsByTool: {},
      logBytes: 0,
      settled: false,
    };
    this.#resumeWatchdog(slot, run);
    slot.run = run;
    this.#post(slot, {
      type: 'run',
      runId,
      script: options.script,
      limits,
      tools: Object.entries(options.tools).map(([name, tool]) => ({
        name,
        parameters: tool.parameters ?? [],
      })),
    });
  }

  /**
   * The watchdog counts the program's own time, like the deadline inside the worker: it pauses while
   * a host call is in flight (the program is normally just waiting then), so that a slow model never
   * gets a working program terminated. The wall-clock cap still bounds a worker that hangs meanwhile.
   */
  #pauseWatchdog(run: ActiveRun): void {
    if (run.watchdog === undefined) return;
    clearTimeout(run.watchdog);
    run.watchdog = undefined;
    run.watchdogLeftMs -= performance.now() - run.watchdogResumedAt;
  }

  #resumeWatchdog(slot: WorkerSlot, run: ActiveRun): void {
    if (run.watchdog !== undefined || run.settled) return;
    run.watchdogResumedAt = performance.now();
    run.watchdog = setTimeout(() => this.#onWatchdog(slot, run), Math.max(0, run.watchdogLeftMs));
  }

  #onMessage(slot: WorkerSlot, message: WorkerToHostMessage): void {
    if (slot.retired) return;
    if (message.type === 'ready') {
      slot.ready = true;
      if (this.#queue.length === 0) slot.worker.unref();
      this.#pump();
      return;
    }
    const run = slot.run;
    if (!run || run.settled || run.runId !== message.runId) return;
    switch (message.type) {
      case 'events':
      case 'host-call':
        // A host call brings the events made before it: they come first.
        run.logBytes = message.logBytes;
        for (const event of message.events) emit(run, event);
        if (message.type === 'host-call') this.#onHostCall(slot, run, message.call);
        return;
      case 'done':
        this.#onDone(slot, run, message.outcome, message.poisoned);
        return;
    }
  }

  #onDone(slot: WorkerSlot, run: ActiveRun, outcome: ExecutorOutcome, poisoned: boolean): void {
    for (const event of outcome.events) emit(run, event);
    run.logBytes = outcome.logBytes;
    run.guestMs = outcome.guestMs;
    run.hostWaitMs = outcome.hostWaitMs;
    if (outcome.teardownError !== undefined) this.#stats.teardownFailures += 1;
    this.#finish(
      slot,
      run,
      outcome.result.ok ? { value: outcome.result.value } : outcome.result.error,
      poisoned,
      outcome.maxStackDepth,
    );
  }

  #onHostCall(slot: WorkerSlot, run: ActiveRun, call: HostCallRequest): void {
    const tool = Object.hasOwn(run.job.options.tools, call.tool)
      ? run.job.options.tools[call.tool]
      : undefined;
    run.hostCalls += 1;
    run.hostCallsByTool[call.tool] = (run.hostCallsByTool[call.tool] ?? 0) + 1;
    // The worker's own JSON text of what it read: parsed once, here.
    const callArgs = JSON.parse(call.argsJson) as JsonValue[];
    emit(run, {
      type: 'host-call',
      callIndex: call.callIndex,
      tool: call.tool,
      args: callArgs,
      line: call.line,
    });
    const context: HostCallContext = {
      callIndex: call.callIndex,
      line: call.line,
      signal: run.controller.signal,
    };
    const started = performance.now();
    run.inFlight += 1;
    if (run.inFlight === 1) this.#pauseWatchdog(run);
    let pending: Promise<unknown>;
    let invalid = false;
    try {
      if (!tool) throw new HostArgumentError(`${call.tool} is not a tool of this run`);
      let args: unknown;
      try {
        args = tool.validate(callArgs);
      } catch (error) {
        if (error instanceof HostArgumentError) {
          invalid = true;
          throw new HostArgumentError(`${error.message}. ${tool.usage}`);
        }
        throw error;
      }
      pending = Promise.resolve(tool.call(args, context));
    } catch (error) {
      pending = Promise.reject(error);
    }
    const reply = (message: HostCallReply, event: { result?: JsonValue; error?: string }): void => {
      if (run.settled) return;
      run.inFlight -= 1;
      if (run.inFlight === 0) this.#resumeWatchdog(slot, run);
      const durationMs = performance.now() - started;
      // The program goes on while the result is recorded; what the worker sends next is handled
      // after this, so the trace keeps its order.
      this.#post(slot, { type: 'host-reply', runId: run.runId, callIndex: call.callIndex, reply: message });
      emit(run, { type: 'host-result', callIndex: call.callIndex, tool: call.tool, durationMs, ...event });
    };
    pending
      .then((value) => toJsonResult(call.tool, value))
      .then(
        ({ value, json }) => reply({ ok: true, json }, { result: value }),
        (error: unknown) => {
          const message = toolErrorMessage(error);
          reply({ ok: false, message, ...(invalid ? { invalid } : {}) }, { error: message });
        },
      );
  }

  #onAbort(job: Job): void {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      job.resolve(cancelledResult('The run was cancelled before it started.', emptyMetrics()));
      return;
    }
    const slot = this.#slot;
    const run = slot?.run;
    if (!slot || !run || run.job !== job || run.settled) return;
    // The interrupt handler reads the shared slot even while the program is busy; the message wakes
    // a program that waits for host calls. A program stuck in a builtin is terminated after the grace.
    Atomics.store(slot.control, CONTROL_CANCEL_RUN_ID, run.runId);
    this.#post(slot, { type: 'cancel', runId: run.runId });
    run.cancelTimer = setTimeout(() => {
      if (run.settled) return;
      this.#stats.workersTerminated += 1;
      this.#finish(slot, run, { kind: 'Cancelled', message: 'The run was cancelled.' }, true);
    }, job.limits.watchdogGraceMs);
  }

  #onWatchdog(slot: WorkerSlot, run: ActiveRun): void {
    if (run.settled) return;
    this.#stats.workersTerminated += 1;
    this.#finish(
      slot,
      run,
      {
        kind: 'Timeout',
        message:
          `The program did not finish within ${formatDuration(run.job.limits.deadlineMs)} of its own time and did not respond to ` +
          'the interrupt (a long-running builtin such as a huge join or a catastrophic regular expression), so ' +
          'its sandbox was terminated. Make it do less work, or raise the deadline.',
      },
      true,
    );
  }

  #onDeath(slot: WorkerSlot, error: Error): void {
    if (slot.retired) return;
    const run = slot.run;
    const startupFailure = !slot.ready;
    this.#retire(slot, false);
    this.#stats.workerCrashes += 1;
    if (run && !run.settled) {
      const outOfMemory = (error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.#finish(
        slot,
        run,
        outOfMemory
          ? {
              kind: 'MemoryLimit',
              message: 'The sandbox ran out of memory while handling the program and was stopped.',
            }
          : {
              kind: 'RuntimeError',
              errorName: 'InternalError',
              message: `The sandbox stopped unexpectedly (${error.message}). Please report this problem.`,
            },
        false,
      );
    } else if (startupFailure) {
      this.#rejectQueued(error);
    }
    this.#pump();
  }

  /** The worker cannot start: every queued run rejects (retrying would fail the same way). */
  #rejectQueued(error: unknown): void {
    const detail = error instanceof Error ? error.message : 'unknown error';
    for (const job of this.#queue.splice(0)) {
      job.detachAbort();
      job.reject(
        new SandboxUnavailableError(
          `The program sandbox could not start (${detail}). Reinstall dependencies with "npm install".`,
          { cause: error },
        ),
      );
    }
  }

  /** Settles `run` with a value or a failure; `retire` replaces the worker (it may be stuck or unsound). */
  #finish(
    slot: WorkerSlot,
    run: ActiveRun,
    outcome: { value: unknown } | SandboxFailure,
    retire: boolean,
    maxStackDepth = 0,
  ): void {
    if (run.settled) return;
    run.settled = true;
    clearTimeout(run.watchdog);
    clearTimeout(run.wallCap);
    clearTimeout(run.cancelTimer);
    run.controller.abort();
    run.job.detachAbort();
    if (slot.run === run) slot.run = undefined;
    const durationMs = performance.now() - run.startedAt;
    const metrics: SandboxMetrics = {
      hostCalls: run.hostCalls,
      hostCallsByTool: { ...run.hostCallsByTool },
      maxStackDepth,
      durationMs,
      guestMs: run.guestMs ?? durationMs,
      hostWaitMs: run.hostWaitMs ?? 0,
      logBytes: run.logBytes,
    };
    this.#stats.runs += 1;
    run.job.resolve(
      'kind' in outcome
        ? { ok: false, error: outcome, metrics }
        : { ok: true, value: outcome.value, metrics },
    );
    if (retire) {
      this.#retire(slot);
      // Start the replacement on the next turn so that the caller sees the result first.
      setImmediate(() => {
        if (!this.#closed && this.#slot === undefined) this.#spawn();
        this.#pump();
      });
      return;
    }
    if (this.#queue.length === 0 && !slot.retired) slot.worker.unref();
    this.#pump();
  }

  #retire(slot: WorkerSlot, terminate = true): void {
    if (slot.retired) return;
    slot.retired = true;
    if (this.#slot === slot) this.#slot = undefined;
    if (!terminate) return;
    const exited = slot.worker.terminate();
    this.#terminating.add(exited);
    void exited.finally(() => this.#terminating.delete(exited));
  }

  #post(slot: WorkerSlot, message: HostToWorkerMessage): void {
    if (!slot.retired) slot.worker.postMessage(message);
  }
}

function emit(run: ActiveRun, event: SandboxEvent): void {
  try {
    run.job.options.onEvent?.(event);
  } catch {
    // A listener's bug must not break the run or the worker protocol.
  }
}

function validateRunOptions(options: SandboxRunOptions): SandboxLimits {
  const invalid = (message: string): SandboxUsageError =>
    new SandboxUsageError('SANDBOX_INVALID_OPTIONS', message);
  if (typeof options !== 'object' || options === null)
    throw invalid('runSandboxedProgram needs an options object.');
  if (typeof options.script !== 'string') throw invalid('The program script must be a string.');
  const { tools } = options;
  if (typeof tools !== 'object' || tools === null) throw invalid('The sandbox needs a table of host tools.');
  for (const [name, tool] of Object.entries(tools)) {
    if (!TOOL_NAME.test(name) || RESERVED_GLOBAL_NAMES.has(name))
      throw invalid(
        `"${name}" cannot be a host tool name: use a plain identifier that is not a sandbox global.`,
      );
    if (
      typeof tool !== 'object' ||
      tool === null ||
      typeof tool.validate !== 'function' ||
      typeof tool.call !== 'function' ||
      typeof tool.usage !== 'string' ||
      (tool.parameters !== undefined &&
        !(Array.isArray(tool.parameters) && tool.parameters.every((p) => typeof p === 'string')))
    )
      throw invalid(`Host tool "${name}" needs validate(), call() and a usage line.`);
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    throw invalid('onEvent must be a function.');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw invalid('signal must be an AbortSignal.');
  return resolveSandboxLimits(options.limits);
}

/**
 * A plain JSON copy of what a tool returned, so that only JSON reaches the worker and the trace, and
 * its text (what the worker gets).
 */
function toJsonResult(tool: string, value: unknown): { value: JsonValue; json: string } {
  if (value === undefined) return { value: null, json: 'null' };
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new Error(`${tool}() returned a value that is not plain data (${toolErrorMessage(error)})`, {
      cause: error,
    });
  }
  if (text === undefined) throw new Error(`${tool}() returned ${typeof value} instead of plain data`);
  if (Buffer.byteLength(text) > MAX_TOOL_RESULT_BYTES)
    throw new Error(`${tool}() returned more than ${MAX_TOOL_RESULT_BYTES} bytes`);
  return { value: JSON.parse(text) as JsonValue, json: text };
}

function toolErrorMessage(error: unknown): string {
  const message =
    error instanceof Error && error.message ? error.message : 'the tool failed without a message';
  return message.length > MAX_TOOL_ERROR_CHARS ? `${message.slice(0, MAX_TOOL_ERROR_CHARS - 1)}…` : message;
}

function emptyMetrics(): SandboxMetrics {
  return {
    hostCalls: 0,
    hostCallsByTool: {},
    maxStackDepth: 0,
    durationMs: 0,
    guestMs: 0,
    hostWaitMs: 0,
    logBytes: 0,
  };
}

function cancelledResult(message: string, metrics: SandboxMetrics): SandboxRunResult {
  return { ok: false, error: { kind: 'Cancelled', message }, metrics };
}
