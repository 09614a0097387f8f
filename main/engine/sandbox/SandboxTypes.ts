/**
 * The contract between the engine and the QuickJS sandbox that runs model-written programs.
 * Guest code sees only plain JSON values; every host tool validates its arguments and returns copies.
 */

/** A retrieved passage as the guest sees it (plain JSON). */
export interface RetrievedDoc {
  /** Chunk id in the corpus. */
  id: number;
  title: string;
  text: string;
  score: number;
  /** Where it came from: the document path (and page, when known), for citations. */
  source: string;
}

/**
 * The host tools a program may call. They run in the main thread (the sandbox worker forwards
 * calls); arguments have already been validated and size-capped when they arrive here.
 */
export interface HostTools {
  retrieve(query: string, k: number | undefined, context: HostCallContext): Promise<RetrievedDoc[]>;
  answer(question: string, docs: RetrievedDoc[] | undefined, context: HostCallContext): Promise<string>;
}

export interface HostCallContext {
  /** 0-based index of this host call within the run. */
  callIndex: number;
  /** 1-based line in the program source of the call site, when known. */
  line: number | undefined;
  signal: AbortSignal;
}

/** Named limits; every one can be overridden. */
export interface SandboxLimits {
  /** QuickJS heap limit. Default: DEFAULT_SANDBOX_LIMITS.memoryBytes (64 MiB). */
  memoryBytes: number;
  /** QuickJS stack limit; keep ≤ 256 KiB (larger lets runaway recursion overflow the host stack). Default 256 KiB. */
  stackBytes: number;
  /** Wall-clock budget for the whole program, host calls included. Default 20 s. */
  deadlineMs: number;
  /** The worker is terminated at deadline + grace when the interrupt handler did not stop it. Default 2 s. */
  watchdogGraceMs: number;
  /** Host calls (retrieve + answer) per run. Default 64. */
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
      tool: 'retrieve' | 'answer';
      args: unknown[];
      line: number | undefined;
    }
  | {
      type: 'host-result';
      callIndex: number;
      tool: 'retrieve' | 'answer';
      durationMs: number;
      result?: unknown;
      error?: string;
    }
  | { type: 'binding'; name: string; preview: string; line: number }
  | { type: 'log'; level: 'log' | 'warn' | 'error'; message: string };

export interface SandboxMetrics {
  hostCalls: number;
  hostCallsByTool: { retrieve: number; answer: number };
  /** Maximum call-stack depth of program functions reached at run time (0 = top level only). */
  maxStackDepth: number;
  durationMs: number;
  logBytes: number;
}

export type SandboxRunResult =
  | { ok: true; value: unknown; metrics: SandboxMetrics }
  | { ok: false; error: SandboxFailure; metrics: SandboxMetrics };
