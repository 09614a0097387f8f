/**
 * The contract between the engine and the QuickJS sandbox that runs model-written programs.
 * Guest code sees only plain JSON values; every host tool validates its arguments and returns copies.
 */

/** A retrieved passage as the guest sees it (plain JSON). */
export type RetrievedDoc = {
  /** Chunk id in the corpus. */
  id: number;
  title: string;
  text: string;
  score: number;
  /** Where it came from: the document path (and page, when known), for citations. */
  source: string;
};

/** Plain JSON, the only kind of value that crosses the sandbox boundary in either direction. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * One function a program may call, e.g. `retrieve` or `answer`. The sandbox reads the guest's
 * arguments as fresh JSON copies (strict: no proxies, getters, functions or cycles; at most
 * `limits.maxArgumentBytes` in all) and hands them to `validate` on the host thread; `call` runs
 * there too, and what it resolves with is copied back into the guest as JSON. A strategy chooses
 * which tools its programs see by the table it passes (HostTools).
 */
export interface HostTool<Args = readonly JsonValue[]> {
  /**
   * Checks the arguments and returns them in the shape `call` takes. Throws HostArgumentError
   * (from sandboxErrors.ts) with what is wrong; the run then ends with `InvalidHostArgument`.
   */
  validate(args: readonly JsonValue[]): Args;
  /** Does the work on the host thread. A rejection ends the run with `HostError`. */
  call(args: Args, context: HostCallContext): Promise<JsonValue>;
  /** One sentence telling a program how to call the tool; appended to argument errors. */
  usage: string;
  /**
   * Names of the parameters, used in messages about unreadable arguments ("docs[1] is a Proxy").
   * Default: "argument 1", "argument 2", ….
   */
  parameters?: readonly string[];
}

/**
 * The host tools of a run, by the global name the program calls them under. Names must be plain
 * identifiers that do not shadow the sandbox's own globals (console, __reckonBind, …).
 */
// Each tool's argument type is its own; the table only needs the shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostTools = Readonly<Record<string, HostTool<any>>>;

export interface HostCallContext {
  /** 0-based index of this host call within the run. */
  callIndex: number;
  /** 1-based line in the program source of the call site, when known. */
  line: number | undefined;
  signal: AbortSignal;
}

/** Named limits; every one can be overridden. */
export interface SandboxLimits {
  /**
   * QuickJS heap limit, enforced by QuickJS and by the run's WebAssembly memory, which is fixed at this
   * plus 16 MiB for the module's own needs (see newSandboxQuickJsModule). Default:
   * DEFAULT_SANDBOX_LIMITS.memoryBytes (64 MiB).
   */
  memoryBytes: number;
  /** QuickJS stack limit; keep ≤ 256 KiB (larger lets runaway recursion overflow the host stack). Default 256 KiB. */
  stackBytes: number;
  /**
   * Time the program itself may run (guest time): the time spent waiting for host calls (model
   * answers, searches) is not counted here but against `hostTimeBudgetMs`. Default 20 s.
   */
  deadlineMs: number;
  /**
   * Total time the program may spend waiting for host calls, so that a slow model never makes the
   * program look slow. Exceeding it ends the run with `HostTimeLimit`. Default 10 min.
   */
  hostTimeBudgetMs: number;
  /** The worker is terminated at deadline + grace when the interrupt handler did not stop it. Default 2 s. */
  watchdogGraceMs: number;
  /** Host calls (all tools together) per run. Default 64. */
  maxHostCalls: number;
  /** Serialized size of one host call's arguments. Default 32 KiB. */
  maxArgumentBytes: number;
  /** Captured console output per run. Default 64 KiB. */
  maxLogBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  memoryBytes: 64 * 1024 * 1024,
  stackBytes: 256 * 1024,
  deadlineMs: 20_000,
  hostTimeBudgetMs: 10 * 60_000,
  watchdogGraceMs: 2_000,
  maxHostCalls: 64,
  maxArgumentBytes: 32 * 1024,
  maxLogBytes: 64 * 1024,
});

/** Why a program did not complete. Each is a value, never a thrown exception. */
export type SandboxFailureKind =
  | 'SyntaxError'
  | 'RuntimeError'
  | 'Timeout'
  | 'MemoryLimit'
  | 'StackOverflow'
  | 'HostCallLimit'
  | 'InvalidHostArgument'
  /** A host tool itself failed (model unavailable after retries, search error). */
  | 'HostError'
  /** The host calls together took longer than `limits.hostTimeBudgetMs` (a slow model, not the program). */
  | 'HostTimeLimit'
  | 'Cancelled';

export interface SandboxFailure {
  kind: SandboxFailureKind;
  message: string;
  /** Guest error name when the guest threw (TypeError, ReferenceError, …). */
  errorName?: string;
  /** 1-based line in the program source, when known. */
  line?: number;
  column?: number;
}

export type SandboxEvent =
  | {
      type: 'host-call';
      callIndex: number;
      tool: string;
      args: JsonValue[];
      line: number | undefined;
    }
  | {
      type: 'host-result';
      callIndex: number;
      tool: string;
      durationMs: number;
      result?: JsonValue;
      error?: string;
    }
  | { type: 'binding'; name: string; preview: string; line: number }
  | { type: 'log'; level: 'log' | 'warn' | 'error'; message: string };

export interface SandboxMetrics {
  hostCalls: number;
  /** Host calls per tool name (tools never called are absent). */
  hostCallsByTool: Record<string, number>;
  /** Maximum call-stack depth of program functions reached at run time (0 = top level only). */
  maxStackDepth: number;
  /** Wall time of the run, from start to result. */
  durationMs: number;
  /** Time the program ran itself (durationMs less the time it only waited for host calls). */
  guestMs: number;
  /** Time spent waiting for host calls with nothing else to run. */
  hostWaitMs: number;
  logBytes: number;
}

export type SandboxRunResult =
  | { ok: true; value: unknown; metrics: SandboxMetrics }
  | { ok: false; error: SandboxFailure; metrics: SandboxMetrics };
