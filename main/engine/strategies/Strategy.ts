/**
 * What a method (PyRAG, baselines, …) gets from the run orchestrator and gives back. Strategies
 * never touch storage, processes or the UI: they call the model and tools handed to them and emit
 * trace events.
 */
import type { LlmBackend } from '../models/LlmBackend.ts';
import type {
  HostTools,
  RetrievedDoc,
  SandboxEvent,
  SandboxLimits,
  SandboxRunResult,
} from '../sandbox/SandboxTypes.ts';
import type { Citation, RunMetrics, TraceEventBody } from '../runs/TraceEvent.ts';

export interface StrategyServices {
  /** The model, already wrapped with the retry policy and the trace recorder. */
  llm: LlmBackend;
  /** Searches the run's corpus (hybrid by default); empty when the run has no corpus. */
  retrieve(query: string, k: number, signal: AbortSignal): Promise<RetrievedDoc[]>;
  /** Runs a prepared guest script in the sandbox. */
  runProgram(options: {
    script: string;
    tools: HostTools;
    limits?: Partial<SandboxLimits>;
    signal?: AbortSignal;
    onEvent?: (event: SandboxEvent) => void;
  }): Promise<SandboxRunResult>;
  emit(event: TraceEventBody): void;
  now(): number;
  signal: AbortSignal;
}

/** The parts of RunMetrics a strategy knows; the orchestrator adds model and timing totals. */
export type StrategyMetrics = Pick<
  RunMetrics,
  | 'programAttempts'
  | 'executions'
  | 'repairs'
  | 'boosts'
  | 'hostCalls'
  | 'cyclomaticComplexity'
  | 'maxStackDepth'
  | 'programLines'
  | 'nodeTypeProfile'
  | 'hostCallSites'
  | 'executable'
  | 'exceptionKind'
> & { phaseMs: Record<string, number> };

export interface StrategyOutcome {
  /** Null when the method could not produce an answer (see failure). */
  answer: string | null;
  reasoning: string | null;
  citations: Citation[];
  failure: { code: string; message: string } | null;
  metrics: StrategyMetrics;
}

/** Shared by every strategy: how much of each cited chunk the trace keeps. */
export const CITATION_EXCERPT_CHARS = 200;

export function emptyStrategyMetrics(): StrategyMetrics {
  return {
    programAttempts: 0,
    executions: 0,
    repairs: 0,
    boosts: 0,
    hostCalls: 0,
    cyclomaticComplexity: null,
    maxStackDepth: null,
    programLines: null,
    nodeTypeProfile: null,
    hostCallSites: null,
    executable: null,
    exceptionKind: null,
    phaseMs: {},
  };
}

/** Runs `fn`, adding its wall time to `phaseMs[phase]`. */
export async function timePhase<T>(
  metrics: StrategyMetrics,
  phase: string,
  now: () => number,
  fn: () => Promise<T>,
): Promise<T> {
  const started = now();
  try {
    return await fn();
  } finally {
    metrics.phaseMs[phase] = (metrics.phaseMs[phase] ?? 0) + (now() - started);
  }
}
