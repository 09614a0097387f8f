/**
 * Run orchestration: turns a question (or a user's program) into a traced, persisted run. Returns the
 * run id at once; the caller follows the run through `on(listener)` and awaits `done`. Every model
 * call goes through the retry policy and the recorder, so the trace shows each retry and backoff and
 * the run can be exported as a replay file that reproduces it.
 */
import type { Engine, Retriever } from '../createEngine.ts';
import type { LlmBackend } from '../models/LlmBackend.ts';
import { withRetry, type RetryPolicyOptions } from '../models/RetryPolicy.ts';
import type { SearchMode } from '../corpus/search/searchCorpus.ts';
import type { RetrievedDoc, SandboxLimits } from '../sandbox/SandboxTypes.ts';
import { runSandboxedProgram } from '../sandbox/runSandboxedProgram.ts';
import { runPyrag, type PyragOptions } from '../strategies/pyrag/pyrag.ts';
import { runUserProgram } from '../strategies/userProgram.ts';
import type { StrategyOutcome, StrategyServices } from '../strategies/Strategy.ts';
import { CancelledError, ReckonError, toReckonError } from '../errors.ts';
import { TraceRecorder } from './TraceRecorder.ts';
import { recordingBackend, retryEventsTo } from './recordingBackend.ts';
import type { RunStore } from './RunStore.ts';
import type { Citation, RunMetrics, TraceEvent } from './TraceEvent.ts';
import { newRunId } from './ids.ts';

export const STRATEGIES = ['pyrag'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** Passages a retrieve() call returns when the program gives no k. */
export const DEFAULT_RUN_TOP_K = 5;
/** Search mode behind retrieve(). */
export const DEFAULT_RUN_SEARCH_MODE: SearchMode = 'hybrid';

export type RunRequest =
  | (CommonRunRequest & {
      kind: 'question';
      question: string;
      strategy: StrategyName;
      model: string;
      pyrag?: PyragOptions;
    })
  | (CommonRunRequest & { kind: 'program'; code: string; model: string | null });

interface CommonRunRequest {
  /** Corpus searched by retrieve(); null runs without one (retrieve() returns nothing). */
  corpus: string | null;
  topK?: number;
  searchMode?: SearchMode;
  retry?: Omit<RetryPolicyOptions, 'onRetry'>;
  sandboxLimits?: Partial<SandboxLimits>;
}

/** Hands out a model backend for a spec; `release` is called when the run ends. */
export type LlmProvider = (
  spec: string,
  signal: AbortSignal,
) => Promise<{ backend: LlmBackend; release(): Promise<void> }>;

export interface RunDependencies {
  engine: Engine;
  llm: LlmProvider;
  /** Persists runs; without it a run lives only in memory. */
  store?: RunStore;
  runProgram?: StrategyServices['runProgram'];
  now?: () => number;
  newId?: () => string;
}

export interface RunResult {
  runId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  answer: string | null;
  citations: Citation[];
  metrics: RunMetrics;
  error: { name: string; code: string; message: string } | null;
  events: TraceEvent[];
}

export interface RunHandle {
  runId: string;
  /** Listens to this run's events as they are recorded; returns the unsubscribe function. */
  on(listener: (event: TraceEvent) => void): () => void;
  cancel(): void;
  done: Promise<RunResult>;
}

export function startRun(request: RunRequest, deps: RunDependencies): RunHandle {
  const now = deps.now ?? Date.now;
  const runId = (deps.newId ?? (() => newRunId(now)))();
  const controller = new AbortController();
  const recorder = new TraceRecorder({ runId, ...(deps.store ? { store: deps.store } : {}), now });
  const modelSpec = request.model ?? 'none';
  const question = request.kind === 'question' ? request.question : '(user program)';
  const strategy = request.kind === 'question' ? request.strategy : 'program';
  deps.store?.createRun({
    id: runId,
    question,
    corpus: request.corpus,
    strategy,
    model: modelSpec,
    options: request,
    createdAt: now(),
  });
  // Let the caller subscribe before the first event: the work starts on the next tick.
  const done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => execute());
  return {
    runId,
    on: (listener) => recorder.on(listener),
    cancel: () => controller.abort(),
    done,
  };

  async function execute(): Promise<RunResult> {
    const started = now();
    const signal = controller.signal;
    let retriever: Retriever | undefined;
    let llmLease: Awaited<ReturnType<LlmProvider>> | undefined;
    let recording: ReturnType<typeof recordingBackend> | undefined;
    let retries = 0;
    let outcome: StrategyOutcome | undefined;
    let error: ReckonError | undefined;
    recorder.emit({ type: 'run-started', question, corpus: request.corpus, strategy, model: modelSpec });
    try {
      if (request.corpus) retriever = deps.engine.openRetriever(request.corpus);
      if (request.model) {
        llmLease = await deps.llm(request.model, signal);
        const onRetry = retryEventsTo(recorder);
        const retried = withRetry(llmLease.backend, {
          ...request.retry,
          onRetry: (event) => {
            retries++;
            onRetry(event);
          },
        });
        recording = recordingBackend(retried, recorder, {
          ...(deps.store ? { store: deps.store } : {}),
          now,
        });
      }
      const services: StrategyServices = {
        llm: recording ?? noModel(),
        retrieve: (query, k, callSignal) =>
          retrieve(retriever, query, k, request.searchMode, callSignal, recorder),
        runProgram: deps.runProgram ?? runSandboxedProgram,
        emit: (body) => void recorder.emit(body),
        now,
        signal,
      };
      const limits = request.sandboxLimits;
      const wrapped: StrategyServices = limits
        ? {
            ...services,
            runProgram: (options) =>
              services.runProgram({ ...options, limits: { ...limits, ...options.limits } }),
          }
        : services;
      outcome =
        request.kind === 'question'
          ? await runPyrag(request.question, wrapped, {
              topK: request.topK ?? DEFAULT_RUN_TOP_K,
              ...request.pyrag,
            })
          : await runUserProgram(request.code, wrapped, { topK: request.topK ?? DEFAULT_RUN_TOP_K });
      if (signal.aborted) throw new CancelledError();
    } catch (caught) {
      error = signal.aborted ? new CancelledError('The run was cancelled.') : toReckonError(caught);
    } finally {
      retriever?.close();
      await llmLease?.release();
    }

    const stats = recording?.stats() ?? { llmCalls: 0, promptTokens: 0, completionTokens: 0 };
    const strategyMetrics = outcome?.metrics;
    const metrics: RunMetrics = {
      llmCalls: stats.llmCalls,
      promptTokens: stats.promptTokens,
      completionTokens: stats.completionTokens,
      retries,
      phaseMs: strategyMetrics?.phaseMs ?? {},
      totalMs: now() - started,
      programAttempts: strategyMetrics?.programAttempts ?? 0,
      executions: strategyMetrics?.executions ?? 0,
      repairs: strategyMetrics?.repairs ?? 0,
      boosts: strategyMetrics?.boosts ?? 0,
      hostCalls: strategyMetrics?.hostCalls ?? 0,
      cyclomaticComplexity: strategyMetrics?.cyclomaticComplexity ?? null,
      maxStackDepth: strategyMetrics?.maxStackDepth ?? null,
      programLines: strategyMetrics?.programLines ?? null,
      nodeTypeProfile: strategyMetrics?.nodeTypeProfile ?? null,
      hostCallSites: strategyMetrics?.hostCallSites ?? null,
      executable: strategyMetrics?.executable ?? null,
      exceptionKind: strategyMetrics?.exceptionKind ?? null,
    };
    if (!error && outcome?.failure) {
      error = new ReckonError(`PROGRAM_${outcome.failure.code.toUpperCase()}`, outcome.failure.message);
      error.name = 'ProgramFailedError';
    }
    if (!error && outcome && outcome.answer !== null) {
      recorder.emit({
        type: 'final-answer',
        answer: outcome.answer,
        reasoning: outcome.reasoning,
        citations: outcome.citations,
      });
    }
    recorder.emit({ type: 'metrics', metrics });
    const status: RunResult['status'] = error
      ? error.code === 'CANCELLED'
        ? 'cancelled'
        : 'failed'
      : 'succeeded';
    const errorJson = error ? error.toJSON() : null;
    recorder.emit({ type: 'run-finished', status, error: errorJson });
    return {
      runId,
      status,
      answer: error ? null : (outcome?.answer ?? null),
      citations: error ? [] : (outcome?.citations ?? []),
      metrics,
      error: errorJson,
      events: recorder.events(),
    };
  }
}

async function retrieve(
  retriever: Retriever | undefined,
  query: string,
  k: number,
  mode: SearchMode | undefined,
  signal: AbortSignal,
  recorder: TraceRecorder,
): Promise<RetrievedDoc[]> {
  if (!retriever) return [];
  const result = await retriever.search(query, { k, mode: mode ?? DEFAULT_RUN_SEARCH_MODE, signal });
  for (const warning of result.warnings) recorder.emit({ type: 'warning', message: warning });
  return result.hits.map((hit) => ({
    id: hit.chunkId,
    title: hit.title,
    text: hit.text,
    score: hit.score,
    source: hit.page !== null ? `${hit.path}#page=${hit.page}` : hit.path,
  }));
}

/** The model stand-in for runs without one: answer() fails with a clear message. */
function noModel(): LlmBackend {
  return {
    id: 'none',
    parallelism: 1,
    async generate() {
      throw new ReckonError(
        'NO_MODEL',
        'This run has no model, so answer() cannot be used. Pass --model <gguf file | openai:… | replay:…>.',
      );
    },
    async dispose() {},
  };
}
