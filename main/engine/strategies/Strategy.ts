/**
 * What a method (PyRAG, the baselines, …) is to the rest of Reckon: a descriptor — id, label,
 * description, an options schema whose every field has a documented default, the figures it reports
 * — and `run(context)`. Strategies never touch storage, processes or the UI: they call the model and
 * tools the context hands them and emit trace events. The registry (registry.ts) is the only list of
 * strategies; the contract, the CLI, the Ask view, the run store and replay all read it.
 */
import type { z } from 'zod';
import type { LlmBackend } from '../models/LlmBackend.ts';
import type { Reranker } from '../models/Reranker.ts';
import type { PrepareProgramOptions, PrepareProgramResult } from '../programs/prepareProgram.ts';
import type {
  HostTools,
  RetrievedDoc,
  SandboxEvent,
  SandboxLimits,
  SandboxRunResult,
} from '../sandbox/SandboxTypes.ts';
import type { Citation, ProgramMetrics, TraceEventBody } from '../../../preload/TraceEvent.ts';
import type { SolvedExampleMemory } from '../corpus/memory/SolvedExampleMemory.ts';

/** Runs a prepared guest script in the sandbox (runSandboxedProgram, or a test's stand-in). */
export type ProgramRunner = (options: {
  script: string;
  tools: HostTools;
  limits?: Partial<SandboxLimits>;
  signal?: AbortSignal;
  onEvent?: (event: SandboxEvent) => void;
}) => Promise<SandboxRunResult>;

/** What every strategy is handed for one run. */
export interface StrategyContext<Options> {
  /** The user's question (or task text), verbatim. */
  question: string;
  /** The strategy's options, already validated and completed with their defaults. */
  options: Options;
  /** The model, already wrapped with the retry policy and the trace recorder. */
  llm: LlmBackend;
  /** Searches the run's corpus (hybrid by default); empty when the run has no corpus. */
  retrieve(query: string, k: number, signal: AbortSignal): Promise<RetrievedDoc[]>;
  /** Whether the run has a corpus to search. */
  hasCorpus: boolean;
  /**
   * Embeds texts with the embedding model of the run's corpus (unit-length vectors, in order), for
   * methods that measure semantic similarity (PROGRAM). Resolves to null when there is none — no
   * corpus, no embedding model installed, or a corpus ingested without embeddings — so the caller
   * falls back to a lexical measure and says so. Absent in contexts built without it (tests):
   * treat absent like null.
   */
  embed?(texts: readonly string[], signal: AbortSignal): Promise<Float32Array[] | null>;
  /**
   * The installed cross-encoder reranker (a model that reads a question and a passage together and
   * scores their relevance), loaded on first call and kept by the engine; or why there is none — no
   * model in models/rerankers/, or one that would not load. Absent in contexts built without it
   * (tests): treat absent like none installed.
   */
  reranker?(): Promise<Reranker | { unavailable: string }>;
  /** Passages per retrieval the run asks for (the run's `topK`, shared by every method). */
  topK: number;
  /** Runs a program in the sandbox, with the run's limits applied. */
  runProgram: ProgramRunner;
  /**
   * Prepares a program (prepareProgram) off the run's thread, under a deadline — the engine's
   * preparation worker. Absent in contexts built by hand (tests); the program loop then prepares on
   * the calling thread.
   */
  prepareProgram?(code: string, options: PrepareProgramOptions): Promise<PrepareProgramResult>;
  /**
   * Opens a memory of solved examples (ICRAG's R2) by name, read-only; the run closes it when it
   * ends. Throws MemoryNotFoundError ('MEMORY_NOT_FOUND') for a name that is not there. Absent when
   * the run has no data directory to open memories from.
   */
  openMemory?(name: string): SolvedExampleMemory;
  emit(event: TraceEventBody): void;
  now(): number;
  signal: AbortSignal;
}

/** How a figure a strategy reports is shown (Metrics panel, `reckon ask`, evaluation tables). */
export interface StrategyMetricInfo {
  label: string;
  description: string;
}

/** A strategy's own figures: the keys its descriptor declares in `metrics`. */
export type StrategyFigures = Record<string, number | string | boolean | null>;

/** What a strategy gives back; the orchestrator adds the model and timing totals. */
export interface StrategyOutcome {
  /** Null when the method could not produce an answer (see failure). */
  answer: string | null;
  reasoning: string | null;
  citations: Citation[];
  failure: { code: string; message: string } | null;
  metrics: StrategyMetrics;
}

export interface StrategyMetrics {
  /** Wall time per phase. */
  phaseMs: Record<string, number>;
  /** The program loop's figures, for strategies that write programs; null otherwise. */
  program: ProgramMetrics | null;
  /** Values of the figures the descriptor declares. */
  strategy: StrategyFigures;
}

/**
 * A strategy. `options` is a zod object whose every field has `.default(…)` and `.describe(…)` (the
 * registry refuses one that does not), so the CLI, the Ask view and `reckon strategies` can show
 * each option with its default.
 */
export interface StrategyDescriptor<Schema extends z.ZodObject = z.ZodObject> {
  /** Stable id: used on the command line, in saved runs and replay files. Lower-case, dashes. */
  id: string;
  label: string;
  /** One line: what the method does. */
  description: string;
  options: Schema;
  /** The figures `run` reports in `metrics.strategy`, by key. */
  metrics: Record<string, StrategyMetricInfo>;
  /** Whether the method retrieves: 'required' fails a run without a corpus before it starts. */
  corpus: 'required' | 'optional' | 'none';
  run(context: StrategyContext<z.output<Schema>>): Promise<StrategyOutcome>;
}

/** Identity helper that keeps the options type of a descriptor literal. */
export function defineStrategy<Schema extends z.ZodObject>(
  descriptor: StrategyDescriptor<Schema>,
): StrategyDescriptor<Schema> {
  return descriptor;
}

/** Shared by every strategy: how much of each cited chunk the trace keeps. */
export const CITATION_EXCERPT_CHARS = 200;

/** A citation of a retrieved chunk, with a short excerpt. */
export function citationOf(doc: RetrievedDoc): Citation {
  return {
    chunkId: doc.id,
    title: doc.title,
    source: doc.source,
    excerpt:
      doc.text.length > CITATION_EXCERPT_CHARS ? `${doc.text.slice(0, CITATION_EXCERPT_CHARS)}…` : doc.text,
  };
}

/** Runs `fn`, adding its wall time to `phaseMs[phase]`. */
export async function timePhase<T>(
  phaseMs: Record<string, number>,
  phase: string,
  now: () => number,
  fn: () => Promise<T>,
): Promise<T> {
  const started = now();
  try {
    return await fn();
  } finally {
    phaseMs[phase] = (phaseMs[phase] ?? 0) + (now() - started);
  }
}
