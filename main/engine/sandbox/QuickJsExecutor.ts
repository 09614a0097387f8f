/**
 * Runs one model-written program in a fresh QuickJS runtime and context, with the host tools bridged
 * through a QuickJsExecutorBridge. It is handed its QuickJS WebAssembly module (sandboxWorker.ts
 * loads one with a fixed memory per memoryBytes, see newSandboxQuickJsModule; tests can pass their
 * own) and knows nothing about threads: the bridge decides where host calls run.
 */
import type {
  QuickJSContext,
  QuickJSDeferredPromise,
  QuickJSHandle,
  QuickJSRuntime,
  QuickJSWASMModule,
  VmCallResult,
} from 'quickjs-emscripten-core';
import type { SandboxEvent, SandboxFailure, SandboxLimits } from './SandboxTypes.ts';
import {
  GuestHelperError,
  GuestHelpers,
  GuestProxyError,
  GuestValueReader,
  InvalidGuestValueError,
  RESULT_READ_POLICY,
  type GuestReadPolicy,
} from './guestValues.ts';
import { WasmMemoryExhaustedError } from './newSandboxQuickJsModule.ts';
import type { ExecutorOutcome, GuestToolSpec, HostCallReply, HostCallRequest } from './sandboxProtocol.ts';

/** The file name the program is evaluated under; error locations are read from `program.js:LINE:COL`. */
export const PROGRAM_FILENAME = 'program.js';
/** Most `binding` events one run emits; later __reckonBind calls are dropped (one note is logged). */
export const MAX_BINDING_EVENTS_PER_RUN = 2_000;
/** Length of a binding's value preview. */
export const BINDING_PREVIEW_CHARS = 200;
/** Longest error message kept in a SandboxFailure. */
export const MAX_ERROR_MESSAGE_CHARS = 2_000;
/** Most arguments one host call accepts. */
export const MAX_HOST_CALL_ARGUMENTS = 8;
/** Global names a host tool may not take: the sandbox's own globals and the instrumentation's. */
export const RESERVED_GLOBAL_NAMES: ReadonlySet<string> = new Set([
  'console',
  '__reckonBind',
  '__reckonLine',
  '__reckonMaxDepth',
  '__reckonDepth',
  'globalThis',
]);
/** Deepest nesting accepted in host-call arguments. */
export const MAX_ARGUMENT_DEPTH = 8;

/** Longest preview of one non-string console argument. */
const MAX_LOG_VALUE_CHARS = 10_000;
/** Promise jobs run between two checks of the deadline, cancellation and the program's promise. */
const JOB_BATCH = 500;
/** Buffered log/binding events are sent at least this often while the program runs. */
const EVENT_FLUSH_INTERVAL_MS = 50;
/** Longest stretch of promise jobs before the worker's event loop gets a turn (messages, timers). */
const YIELD_INTERVAL_MS = 50;

const PROGRAM_LOCATION = /program\.js:(\d+)(?::(\d+))?/;

/** What execute() needs for one run. */
export interface QuickJsExecutorRequest {
  /** The classic script (see runSandboxedProgram for the contract). */
  script: string;
  /** Complete limits (resolveSandboxLimits). */
  limits: SandboxLimits;
  /** The host tools' global names and parameter names (the host validates the calls; see HostTools). */
  tools: readonly GuestToolSpec[];
  /** Cancels the run; noticed while the program waits for host calls. */
  signal?: AbortSignal;
  /** Polled by the interrupt handler, so that cancellation also stops a busy program (shared memory). */
  isCancelRequested?: () => boolean;
}

/** How the executor talks to the outside world. */
export interface QuickJsExecutorBridge {
  /**
   * A host call with JSON copies of its arguments; call `respond` once with the tool's result or
   * error (later calls are ignored). `events` are the buffered `log` and `binding` events made
   * before the call (deliver them first), with the console bytes counted so far.
   */
  hostCall(
    call: HostCallRequest,
    respond: (reply: HostCallReply) => void,
    events: SandboxEvent[],
    logBytes: number,
  ): void;
  /** Buffered `log` and `binding` events, in order, with the console bytes counted so far. */
  emit(events: SandboxEvent[], logBytes: number): void;
}

/** Options of a QuickJsExecutor. */
export interface QuickJsExecutorOptions {
  /**
   * How often the module's memory has been found full so far (SandboxQuickJsModule.memoryFullCount):
   * a program left waiting forever after it grew is reported as MemoryLimit, since QuickJS drops a
   * promise job it has no memory to queue. Default: always 0 (such a program is a RuntimeError).
   */
  memoryFullCount?: () => number;
  /**
   * How many runtimes prepareNext() keeps ready. Default: DEFAULT_PREPARED_CONTEXTS (2), so that a
   * run that follows another at once (PyRAG's boosted re-run) finds one ready too.
   */
  preparedContexts?: number;
}

/** Runtimes kept ready by QuickJsExecutor.prepareNext (QuickJsExecutorOptions.preparedContexts). */
export const DEFAULT_PREPARED_CONTEXTS = 2;

/**
 * Executes programs, one fresh QuickJS runtime + context per execute() call (so nothing a program does
 * to builtins survives into the next), under the limits of the request. Handed the WebAssembly module
 * it allocates runtimes from; any object with `newRuntime` will do.
 */
export class QuickJsExecutor {
  readonly #module: Pick<QuickJSWASMModule, 'newRuntime'>;
  readonly #memoryFullCount: () => number;
  /** Runtimes, contexts and helpers made ahead by prepareNext(), oldest first. */
  readonly #ready: FreshContext[] = [];
  readonly #readyCapacity: number;

  constructor(module: Pick<QuickJSWASMModule, 'newRuntime'>, options: QuickJsExecutorOptions = {}) {
    this.#module = module;
    this.#memoryFullCount = options.memoryFullCount ?? (() => 0);
    this.#readyCapacity = Math.max(0, Math.floor(options.preparedContexts ?? DEFAULT_PREPARED_CONTEXTS));
  }

  /** True while prepareNext() would make another runtime (fewer than `preparedContexts` are ready). */
  get wantsPreparation(): boolean {
    return this.#ready.length < this.#readyCapacity;
  }

  /**
   * Makes one more runtime and context for a later run and installs the trusted helpers in them
   * now, while the worker is idle, so that execute() does not wait for them (about 0.5–0.9 ms a
   * run, most of it compiling the prelude). Runs take them oldest first; nothing else runs in them
   * before the program, and each run still gets a runtime of its own. Does nothing when
   * `preparedContexts` are ready (see wantsPreparation). Returns false when the module could not
   * even free what it made (a leaked handle): it should not be trusted any more.
   */
  prepareNext(): boolean {
    if (!this.wantsPreparation) return true;
    let rt: QuickJSRuntime | undefined;
    let ctx: QuickJSContext | undefined;
    try {
      rt = this.#module.newRuntime();
      ctx = rt.newContext();
      this.#ready.push({ rt, ctx, helpers: GuestHelpers.install(ctx) });
      return true;
    } catch {
      // The run makes its own then, and reports why it cannot.
      try {
        ctx?.dispose();
        rt?.dispose();
        return true;
      } catch {
        return false;
      }
    }
  }

  /**
   * Runs `request.script` to completion and resolves with its outcome; never rejects. Every QuickJS
   * handle is disposed before it resolves; when disposing the runtime fails (a leaked handle)
   * `teardownError` says so and the module should not be trusted any more.
   */
  async execute(request: QuickJsExecutorRequest, bridge: QuickJsExecutorBridge): Promise<ExecutorOutcome> {
    const prepared = this.#ready.shift();
    return new ProgramRun(this.#module, this.#memoryFullCount, request, bridge, prepared).execute();
  }
}

/** A runtime and context in which only the trusted prelude has run. */
interface FreshContext {
  rt: QuickJSRuntime;
  ctx: QuickJSContext;
  helpers: GuestHelpers;
}

class InvalidHostArgumentError extends Error {
  override name = 'InvalidHostArgumentError';
}

/** Monotonic ms: the clock of the deadline and of the host-time budget. */
const now = (): number => performance.now();

type RunResult = ExecutorOutcome['result'];

class ProgramRun {
  readonly #module: Pick<QuickJSWASMModule, 'newRuntime'>;
  readonly #memoryFullCount: () => number;
  readonly #memoryFullAtStart: number;
  readonly #request: QuickJsExecutorRequest;
  readonly #bridge: QuickJsExecutorBridge;
  readonly #limits: SandboxLimits;
  readonly #prepared: FreshContext | undefined;
  #rt: QuickJSRuntime | undefined;
  #ctx: QuickJSContext | undefined;
  #helpers: GuestHelpers | undefined;
  #reader: GuestValueReader | undefined;
  #terminal: SandboxFailure | undefined;
  #readPhase = false;
  #finished = false;
  #attempts = 0;
  #nextCallIndex = 0;
  readonly #pending = new Map<number, QuickJSDeferredPromise>();
  #events: SandboxEvent[] = [];
  #lastFlush = Date.now();
  #logBytes = 0;
  #logTruncated = false;
  #bindings = 0;
  #wake: (() => void) | undefined;
  #startedAt = now();
  /** Time spent in waitForWake: waiting for host calls with nothing to run. Not guest time. */
  #hostWaitMs = 0;
  /** When the current wait began, while waiting. */
  #waitingSince: number | undefined;

  constructor(
    module: Pick<QuickJSWASMModule, 'newRuntime'>,
    memoryFullCount: () => number,
    request: QuickJsExecutorRequest,
    bridge: QuickJsExecutorBridge,
    prepared: FreshContext | undefined,
  ) {
    this.#prepared = prepared;
    this.#module = module;
    this.#memoryFullCount = memoryFullCount;
    this.#memoryFullAtStart = memoryFullCount();
    this.#request = request;
    this.#bridge = bridge;
    this.#limits = request.limits;
  }

  async execute(): Promise<ExecutorOutcome> {
    this.#startedAt = now();
    let result: RunResult;
    let maxStackDepth = 0;
    let internalError: string | undefined;
    try {
      const prepared = this.#prepared;
      const rt = prepared?.rt ?? this.#module.newRuntime();
      this.#rt = rt;
      // Set before the context is made when there is none yet, so that its builtins count too.
      rt.setMemoryLimit(this.#limits.memoryBytes);
      rt.setMaxStackSize(this.#limits.stackBytes);
      rt.setInterruptHandler(() => this.#shouldInterrupt());
      this.#ctx = prepared?.ctx ?? rt.newContext();
      this.#helpers = prepared?.helpers;
      result = await this.#runProgram();
      this.#enterReadPhase();
      if (!result.ok && result.error.line === undefined) {
        const line = this.#currentLine();
        if (line !== undefined) result.error.line = line;
      }
      maxStackDepth = this.#readMaxDepth();
    } catch (error) {
      if (error instanceof WasmMemoryExhaustedError) {
        // The program filled the module's fixed memory and left no room for the sandbox's own copies.
        result = { ok: false, error: this.#engineFailure('out of memory')! };
      } else {
        internalError = describeError(error);
        result = { ok: false, error: internalFailure(internalError) };
      }
    }
    this.#finished = true;
    const events = this.#takeEvents();
    const teardownError = this.#teardown();
    return {
      result,
      events,
      maxStackDepth,
      logBytes: this.#logBytes,
      guestMs: this.#guestMs(),
      hostWaitMs: this.#hostWaitMs,
      ...(internalError !== undefined || teardownError !== undefined
        ? { teardownError: teardownError ?? `internal error: ${internalError}` }
        : {}),
    };
  }

  // ---- program lifecycle -------------------------------------------------------------------------

  async #runProgram(): Promise<RunResult> {
    const ctx = this.#ctx!;
    try {
      this.#helpers ??= GuestHelpers.install(ctx);
    } catch (error) {
      if (!(error instanceof GuestHelperError)) throw error;
      return { ok: false, error: this.#engineFailure(error.reason) ?? internalFailure(error.reason) };
    }
    this.#reader = new GuestValueReader(ctx, this.#helpers);
    this.#installGlobals(ctx);

    // Compile first, so that a SyntaxError the program throws at run time (JSON.parse, eval) is not
    // mistaken for a program that does not compile.
    const compiled = ctx.evalCode(this.#request.script, PROGRAM_FILENAME, {
      type: 'global',
      compileOnly: true,
    });
    if (compiled.error) return { ok: false, error: this.#compileFailure(compiled.error) };
    compiled.value.dispose();

    const evaluated = ctx.evalCode(this.#request.script, PROGRAM_FILENAME, { type: 'global' });
    if (evaluated.error) return { ok: false, error: this.#failureFromThrown(evaluated.error) };
    const completion = evaluated.value;
    try {
      return await this.#settle(completion);
    } finally {
      completion.dispose();
    }
  }

  /** Runs promise jobs and waits for host replies until the completion value settles. */
  async #settle(completion: QuickJSHandle): Promise<RunResult> {
    const ctx = this.#ctx!;
    const rt = this.#rt!;
    let lastYield = Date.now();
    for (;;) {
      const stop = this.#stopFailure();
      if (stop) return { ok: false, error: stop };
      const state = ctx.getPromiseState(completion);
      if (state.type === 'fulfilled') {
        if (state.notAPromise) return this.#readResult(completion);
        try {
          return this.#readResult(state.value);
        } finally {
          state.value.dispose();
        }
      }
      if (state.type === 'rejected') return { ok: false, error: this.#failureFromThrown(state.error) };
      if (rt.hasPendingJob()) {
        const jobs = rt.executePendingJobs(JOB_BATCH);
        if (jobs.error) return { ok: false, error: this.#failureFromThrown(jobs.error) };
        if (Date.now() - lastYield >= YIELD_INTERVAL_MS) {
          this.#flush();
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYield = Date.now();
        }
        continue;
      }
      if (this.#pending.size === 0) {
        if (this.#memoryFullCount() > this.#memoryFullAtStart) {
          const failure = this.#engineFailure('out of memory')!;
          const note =
            'QuickJS ran out of memory while queueing its promise jobs, so it could not even create the error for the program.';
          return { ok: false, error: { ...failure, message: `${failure.message} (${note})` } };
        }
        return {
          ok: false,
          error: {
            kind: 'RuntimeError',
            message:
              'The program is waiting for a promise that can never settle: no host call is pending and ' +
              'nothing else is left to run. Make sure every promise it awaits is resolved.',
          },
        };
      }
      this.#flush();
      await this.#waitForWake();
      lastYield = Date.now();
    }
  }

  #readResult(handle: QuickJSHandle): RunResult {
    this.#enterReadPhase();
    try {
      return { ok: true, value: this.#reader!.readJson(handle, RESULT_READ_POLICY, 'result') };
    } catch (error) {
      if (!(error instanceof GuestProxyError)) throw error;
      return {
        ok: false,
        error: {
          kind: 'RuntimeError',
          errorName: 'TypeError',
          message:
            `The program's result is not plain data: ${error.path} is a Proxy, which cannot be read ` +
            'safely. Return strings, numbers, booleans, null, arrays and plain objects.',
        },
      };
    }
  }

  #teardown(): string | undefined {
    for (const deferred of this.#pending.values()) if (deferred.alive) deferred.dispose();
    this.#pending.clear();
    let error: string | undefined;
    try {
      this.#helpers?.dispose();
      this.#ctx?.dispose();
    } catch (caught) {
      error = describeError(caught);
    }
    try {
      this.#rt?.dispose();
    } catch (caught) {
      error ??= describeError(caught);
    }
    return error;
  }

  // ---- stopping ----------------------------------------------------------------------------------

  #shouldInterrupt(): boolean {
    if (this.#events.length > 0 && Date.now() - this.#lastFlush >= EVENT_FLUSH_INTERVAL_MS) this.#flush();
    return this.#stopFailure() !== undefined;
  }

  /** Time the program has run itself: wall time less the time it only waited for host calls. */
  #guestMs(): number {
    return now() - this.#startedAt - this.#hostWaitMs;
  }

  /** Time spent waiting for host calls so far, the current wait included. */
  #hostWaitSoFar(): number {
    return this.#hostWaitMs + (this.#waitingSince === undefined ? 0 : now() - this.#waitingSince);
  }

  /**
   * Why the run must stop now, if it must: a terminal failure, cancellation, the deadline (guest time
   * only) or the host-time budget (time spent waiting for host calls).
   */
  #stopFailure(): SandboxFailure | undefined {
    if (this.#terminal) return this.#terminal;
    if (this.#request.signal?.aborted || this.#request.isCancelRequested?.()) {
      return { kind: 'Cancelled', message: 'The run was cancelled.' };
    }
    if (this.#hostWaitSoFar() >= this.#limits.hostTimeBudgetMs) {
      return {
        kind: 'HostTimeLimit',
        message:
          `The program's tool calls (model answers and searches) took longer than ${formatDuration(this.#limits.hostTimeBudgetMs)} ` +
          'in all, so the run was stopped. The program is not at fault: use a faster model or raise hostTimeBudgetMs.',
      };
    }
    if (this.#guestMs() >= this.#limits.deadlineMs) {
      return {
        kind: 'Timeout',
        message:
          `The program ran for more than ${formatDuration(this.#limits.deadlineMs)} of its own time (time spent ` +
          'waiting for tool calls not counted) and was stopped. Make it do less work (fewer or shorter loops), or raise the deadline.',
      };
    }
    return undefined;
  }

  /** Makes the run end with `failure` even if the program catches the error it is given. */
  #fail(failure: SandboxFailure): void {
    this.#terminal ??= failure;
    this.#wake?.();
  }

  /** Waits for a host reply, cancellation or the end of the host-time budget; the wait is not guest time. */
  #waitForWake(): Promise<void> {
    this.#waitingSince = now();
    return new Promise<void>((resolve) => {
      const signal = this.#request.signal;
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#wake = undefined;
        if (this.#waitingSince !== undefined) this.#hostWaitMs += now() - this.#waitingSince;
        this.#waitingSince = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, this.#limits.hostTimeBudgetMs - this.#hostWaitMs) + 1);
      signal?.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  /** From here on only trusted helpers run: no interrupts, no memory limit (reads are capped). */
  #enterReadPhase(): void {
    if (this.#readPhase || !this.#rt) return;
    this.#readPhase = true;
    this.#rt.removeInterruptHandler();
    this.#rt.setMemoryLimit(-1);
  }

  // ---- failures ----------------------------------------------------------------------------------

  #compileFailure(error: QuickJSHandle): SandboxFailure {
    this.#enterReadPhase();
    try {
      const fields = this.#reader!.readErrorFields(error, MAX_ERROR_MESSAGE_CHARS + 1);
      if (fields?.name !== 'SyntaxError') return this.#classify(error, fields);
      return {
        kind: 'SyntaxError',
        errorName: 'SyntaxError',
        message: capMessage(fields.message ?? 'The program does not compile.'),
        ...parseLocation(fields.stack),
      };
    } finally {
      error.dispose();
    }
  }

  /** The failure for a value the program threw (or an engine error); disposes `error`. */
  #failureFromThrown(error: QuickJSHandle): SandboxFailure {
    try {
      const stop = this.#stopFailure();
      if (stop) return stop;
      this.#enterReadPhase();
      return this.#classify(error, this.#reader!.readErrorFields(error, MAX_ERROR_MESSAGE_CHARS + 1));
    } finally {
      error.dispose();
    }
  }

  #classify(
    error: QuickJSHandle,
    fields: { name?: string; message?: string; stack?: string } | undefined,
  ): SandboxFailure {
    const location = parseLocation(fields?.stack);
    if (fields?.name === 'InternalError' && fields.message !== undefined) {
      const engine = this.#engineFailure(fields.message);
      if (engine) return { ...engine, ...location };
    }
    const ctx = this.#ctx!;
    if (ctx.sameValue(error, ctx.null)) {
      // QuickJS throws null when it runs out of memory while creating the error itself; a program
      // that throws null on purpose is told apart by the note its instrumented `throw` leaves
      // (`__reckonThrewNull`, see prepareProgram). Without the note, it is the memory limit.
      if (this.#helpers!.globalNumber('__reckonThrewNull') === 1) {
        return {
          kind: 'RuntimeError',
          errorName: 'null',
          message:
            'The program threw null (throw null). Throw an Error with a message instead, e.g. throw new Error("what went wrong").',
          ...location,
        };
      }
      const failure = this.#engineFailure('out of memory')!;
      return {
        ...failure,
        message: `${failure.message} (QuickJS could not even create the error.)`,
      };
    }
    if (fields !== undefined && (fields.message !== undefined || fields.stack !== undefined)) {
      return {
        kind: 'RuntimeError',
        message: capMessage(fields.message ?? ''),
        ...(fields.name !== undefined ? { errorName: fields.name } : {}),
        ...location,
      };
    }
    const preview = this.#reader!.renderPreview(error, MAX_ERROR_MESSAGE_CHARS);
    return {
      kind: 'RuntimeError',
      message: capMessage(`The program threw a value that is not an Error: ${preview}`),
      ...(fields?.name !== undefined ? { errorName: fields.name } : {}),
      ...location,
    };
  }

  /** The failure for an error QuickJS raises itself, by its message. */
  #engineFailure(reason: string): SandboxFailure | undefined {
    if (reason === 'interrupted') {
      return (
        this.#stopFailure() ?? {
          kind: 'Timeout',
          message: `The program did not finish within ${formatDuration(this.#limits.deadlineMs)} and was stopped.`,
        }
      );
    }
    if (reason === 'stack overflow') {
      return {
        kind: 'StackOverflow',
        message:
          `The program recursed too deeply (stack limit ${Math.round(this.#limits.stackBytes / 1024)} KiB) and was ` +
          'stopped. Check recursive functions for a missing base case.',
      };
    }
    if (reason === 'out of memory' || reason === 'string too long') {
      return {
        kind: 'MemoryLimit',
        message:
          `The program needed more than ${formatBytes(this.#limits.memoryBytes)} of memory and was stopped` +
          `${reason === 'string too long' ? ' (it built a string longer than QuickJS allows)' : ''}. ` +
          'Avoid building very large arrays, strings or object graphs.',
      };
    }
    return undefined;
  }

  // ---- globals -----------------------------------------------------------------------------------

  #installGlobals(ctx: QuickJSContext): void {
    const define = (
      target: QuickJSHandle,
      name: string,
      fn: (...args: QuickJSHandle[]) => ReturnType<HostFunction>,
    ): void => {
      const handle = ctx.newFunction(name, (...args) => fn(...args));
      ctx.setProp(target, name, handle);
      handle.dispose();
    };
    for (const tool of this.#request.tools)
      define(ctx.global, tool.name, (...args) => this.#hostCall(tool, args));
    define(ctx.global, '__reckonBind', (...args) => this.#bind(args));
    const consoleHandle = ctx.newObject();
    for (const level of ['log', 'warn', 'error'] as const) {
      define(consoleHandle, level, (...args) => this.#log(level, args));
    }
    ctx.setProp(ctx.global, 'console', consoleHandle);
    consoleHandle.dispose();
  }

  #hostCall(spec: GuestToolSpec, args: QuickJSHandle[]): QuickJSHandle | VmCallResult<QuickJSHandle> {
    const tool = spec.name;
    const ctx = this.#ctx!;
    if (this.#terminal)
      return { error: ctx.newError({ name: 'SandboxStopped', message: this.#terminal.message }) };
    const line = this.#currentLine();
    this.#attempts += 1;
    if (this.#attempts > this.#limits.maxHostCalls) {
      const message =
        `The program made more than ${this.#limits.maxHostCalls} host calls (all tools together) and ` +
        'was stopped. Retrieve once and reuse the results, or ask fewer questions inside loops.';
      this.#fail({ kind: 'HostCallLimit', message, ...(line !== undefined ? { line } : {}) });
      return { error: ctx.newError({ name: 'HostCallLimitError', message }) };
    }
    let call: HostCallRequest;
    try {
      call = this.#readCall(spec, args, line);
    } catch (error) {
      if (!(error instanceof InvalidGuestValueError || error instanceof InvalidHostArgumentError))
        throw error;
      const message = capMessage(`${tool}(): ${error.message}.`);
      this.#fail({ kind: 'InvalidHostArgument', message, ...(line !== undefined ? { line } : {}) });
      return { error: ctx.newError({ name: 'InvalidHostArgument', message }) };
    }
    const deferred = ctx.newPromise();
    this.#pending.set(call.callIndex, deferred);
    let responded = false;
    const respond = (reply: HostCallReply): void => {
      if (responded) return;
      responded = true;
      this.#onReply(call, reply);
    };
    // The events before the call go with it: one message, in order.
    this.#bridge.hostCall(call, respond, this.#takeEvents(), this.#logBytes);
    return deferred.handle;
  }

  #onReply(call: HostCallRequest, reply: HostCallReply): void {
    const deferred = this.#pending.get(call.callIndex);
    if (this.#finished || !deferred) return;
    this.#pending.delete(call.callIndex);
    const ctx = this.#ctx!;
    try {
      if (reply.ok) {
        const value = this.#helpers!.parseJson(reply.json);
        try {
          deferred.resolve(value);
        } finally {
          value.dispose();
        }
      } else {
        const message = capMessage(
          reply.invalid ? `${call.tool}(): ${reply.message}` : `${call.tool}() failed: ${reply.message}`,
        );
        const kind = reply.invalid ? 'InvalidHostArgument' : 'HostError';
        this.#fail({ kind, message, ...(call.line !== undefined ? { line: call.line } : {}) });
        const error = ctx.newError({ name: kind, message });
        try {
          deferred.reject(error);
        } finally {
          error.dispose();
        }
      }
    } catch (error) {
      // Only the engine stops a resolution: the interrupt (the loop reports why) or memory.
      if (deferred.alive) deferred.dispose();
      if (
        (error instanceof GuestHelperError && error.reason === 'out of memory') ||
        error instanceof WasmMemoryExhaustedError
      ) {
        this.#fail({
          ...this.#engineFailure('out of memory')!,
          message: `The result of ${call.tool}() did not fit in the program's memory limit (${formatBytes(this.#limits.memoryBytes)}).`,
        });
      } else if (!this.#stopFailure()) {
        this.#fail(internalFailure(describeError(error)));
      }
    }
    this.#wake?.();
  }

  /** Reads a call's arguments as strict JSON copies within the size limit; the host validates them. */
  #readCall(spec: GuestToolSpec, args: QuickJSHandle[], line: number | undefined): HostCallRequest {
    if (args.length > MAX_HOST_CALL_ARGUMENTS) {
      throw new InvalidHostArgumentError(
        `takes at most ${MAX_HOST_CALL_ARGUMENTS} arguments but was given ${args.length}`,
      );
    }
    const policy = this.#argumentPolicy();
    // Plain data is copied in one call into the guest; the rest is read value by value, which
    // finds what is wrong with it.
    let argsJson = this.#helpers!.jsonCopy(args, policy);
    if (argsJson === undefined) {
      const values = this.#reader!.readJsonValues(
        args.map((handle, index) => ({ handle, path: spec.parameters[index] ?? `argument ${index + 1}` })),
        policy,
      );
      // A trailing `undefined` (an optional argument left out) is dropped; inside the list it is null.
      while (values.length > 0 && values.at(-1) === undefined) values.pop();
      argsJson = JSON.stringify(values.map((value) => value ?? null));
    }
    this.#checkArgumentSize(argsJson);
    return { callIndex: this.#nextCallIndex++, line, tool: spec.name, argsJson };
  }

  #argumentPolicy(): GuestReadPolicy {
    return {
      strict: true,
      maxDepth: MAX_ARGUMENT_DEPTH,
      maxStringChars: this.#limits.maxArgumentBytes,
      maxEntries: 1_000,
      maxTotalChars: this.#limits.maxArgumentBytes,
    };
  }

  #checkArgumentSize(argsJson: string): void {
    const bytes = Buffer.byteLength(argsJson);
    if (bytes > this.#limits.maxArgumentBytes) {
      throw new InvalidHostArgumentError(
        `the arguments take ${bytes} bytes, more than the ${this.#limits.maxArgumentBytes}-byte limit`,
      );
    }
  }

  #bind(args: QuickJSHandle[]): undefined {
    const ctx = this.#ctx!;
    const [nameHandle, valueHandle, lineHandle] = args;
    if (
      !nameHandle ||
      !lineHandle ||
      ctx.typeof(nameHandle) !== 'string' ||
      ctx.typeof(lineHandle) !== 'number'
    )
      return;
    this.#bindings += 1;
    if (this.#bindings > MAX_BINDING_EVENTS_PER_RUN) {
      if (this.#bindings === MAX_BINDING_EVENTS_PER_RUN + 1) {
        this.#events.push({
          type: 'log',
          level: 'warn',
          message: `[binding events truncated: the program recorded more than ${MAX_BINDING_EVENTS_PER_RUN} bindings]`,
        });
      }
      return;
    }
    const name = this.#reader!.readString(nameHandle, 100).text;
    const line = ctx.getNumber(lineHandle);
    const preview = valueHandle
      ? this.#reader!.renderPreview(valueHandle, BINDING_PREVIEW_CHARS)
      : 'undefined';
    this.#events.push({ type: 'binding', name, preview, line: Number.isFinite(line) ? line : 0 });
    return undefined;
  }

  #log(level: 'log' | 'warn' | 'error', args: QuickJSHandle[]): undefined {
    if (this.#logTruncated) return;
    const ctx = this.#ctx!;
    const reader = this.#reader!;
    const max = this.#limits.maxLogBytes;
    // Bytes ≥ UTF-16 units, so rendering one more character than bytes remain is enough to overflow.
    let budget = max - this.#logBytes + 1;
    const parts: string[] = [];
    for (const arg of args) {
      if (budget <= 0) break;
      const part =
        ctx.typeof(arg) === 'string'
          ? reader.readString(arg, budget).text
          : reader.renderPreview(arg, Math.min(budget, MAX_LOG_VALUE_CHARS));
      parts.push(part);
      budget -= part.length + 1;
    }
    const message = parts.join(' ');
    const bytes = Buffer.byteLength(message) + 1; // one for the line break, so that empty lines count
    if (this.#logBytes + bytes <= max) {
      this.#events.push({ type: 'log', level, message });
      this.#logBytes += bytes;
      return;
    }
    const kept = truncateUtf8(message, max - this.#logBytes - 1);
    if (kept.length > 0) this.#events.push({ type: 'log', level, message: kept });
    this.#logBytes = max;
    this.#logTruncated = true;
    this.#events.push({
      type: 'log',
      level: 'warn',
      message: `[console output truncated: the program wrote more than ${max} bytes]`,
    });
    return undefined;
  }

  #flush(): void {
    const events = this.#takeEvents();
    if (events.length > 0) this.#bridge.emit(events, this.#logBytes);
  }

  /** The buffered events, to be sent now (by #flush, or with a host call or the outcome). */
  #takeEvents(): SandboxEvent[] {
    this.#lastFlush = Date.now();
    const events = this.#events;
    this.#events = [];
    return events;
  }

  /** `__reckonLine` as a 1-based line, when the program keeps it. */
  #currentLine(): number | undefined {
    if (!this.#helpers) return undefined;
    try {
      const line = this.#helpers.globalNumber('__reckonLine');
      return Number.isInteger(line) && line >= 1 ? line : undefined;
    } catch (error) {
      if (error instanceof GuestHelperError) return undefined;
      throw error;
    }
  }

  #readMaxDepth(): number {
    if (!this.#helpers) return 0;
    const depth = this.#helpers.globalNumber('__reckonMaxDepth');
    return Number.isFinite(depth) && depth > 0 ? Math.floor(depth) : 0;
  }
}

type HostFunction = (...args: QuickJSHandle[]) => QuickJSHandle | VmCallResult<QuickJSHandle> | undefined;

function parseLocation(stack: string | undefined): { line?: number; column?: number } {
  const match = stack === undefined ? null : PROGRAM_LOCATION.exec(stack);
  if (!match) return {};
  const line = Number(match[1]);
  const column = match[2] === undefined ? undefined : Number(match[2]);
  return { line, ...(column !== undefined ? { column } : {}) };
}

function capMessage(message: string): string {
  return message.length > MAX_ERROR_MESSAGE_CHARS
    ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`
    : message;
}

function internalFailure(detail: string): SandboxFailure {
  if (/call stack|stack overflow/i.test(detail)) {
    return { kind: 'StackOverflow', message: 'The program recursed too deeply and was stopped.' };
  }
  return {
    kind: 'RuntimeError',
    errorName: 'InternalError',
    message: capMessage(
      `The sandbox failed while running the program (${detail}). Please report this problem.`,
    ),
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : 'a non-error value was thrown';
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** "1.5 s" from 1500, "300 ms" from 300: durations in user-facing messages. */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/** "16 MiB" from 16777216, "256 KiB" below a mebibyte: sizes in user-facing messages. */
export function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1 ? `${Number(mib.toFixed(1))} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
