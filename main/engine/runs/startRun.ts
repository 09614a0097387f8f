/**
 * Run orchestration: turns a question (or a user's program) into a traced, persisted run. Returns the
 * run id at once; the caller follows the run through `on(listener)` and awaits `done`. Every model
 * call goes through the retry policy and the recorder, so the trace shows each retry and backoff and
 * the run can be exported as a replay file that reproduces it.
 */
import type { Engine, Retriever } from '../createEngine.ts';
import type { LlmBackend, LlmProvider } from '../models/LlmBackend.ts';
import { withRetry, type RetryPolicyOptions } from '../models/RetryPolicy.ts';
import { denseUnavailableError, type SearchMode } from '../corpus/search/searchCorpus.ts';
import type { SolvedExampleMemory } from '../corpus/memory/SolvedExampleMemory.ts';
import type { RetrievedDoc, SandboxLimits } from '../sandbox/SandboxTypes.ts';
import { runUserProgram, type UserProgramToolResult } from '../strategies/userProgram.ts';
import type { ToolResultsByKey } from '../strategies/ToolResultCache.ts';
import type { ProgramRunner, StrategyContext, StrategyOutcome } from '../strategies/Strategy.ts';
import { strategyRegistry, type StrategyRegistry } from '../strategies/registry.ts';
import { CancelledError, ReckonError, toReckonError } from '../errors.ts';
import { TraceRecorder } from './TraceRecorder.ts';
import {
  countingBackend,
  failedAttemptRecorder,
  recordingBackend,
  retryEventsTo,
} from './recordingBackend.ts';
import type { RunStore } from './RunStore.ts';
import type { Citation, RunMetrics, TraceEvent } from '../../../preload/TraceEvent.ts';
import { newRunId } from './ids.ts';

/** Passages a retrieve() call returns when the program gives no k. */
export const DEFAULT_RUN_TOP_K = 5;
/**
 * What a run of a user's program (run-program) records as its strategy. Not a registered strategy
 * id (runs saved before PROGRAM was registered recorded "program"; replayRequestFor tells them apart
 * by their recorded request kind).
 */
export const USER_PROGRAM_STRATEGY = 'user-program';
/** What a run of a program edited from a saved run's (rerunProgram) records as its strategy. */
export const PROGRAM_EDIT_STRATEGY = 'program-edit';
/** Search mode behind retrieve(). */
export const DEFAULT_RUN_SEARCH_MODE: SearchMode = 'hybrid';

export type RunRequest =
  | (CommonRunRequest & {
      kind: 'question';
      question: string;
      /** A registered strategy id (strategyRegistry). */
      strategy: string;
      /** The strategy's options; absent ones take their defaults, unknown ones are an error. */
      options?: Record<string, unknown>;
      model: string;
    })
  | (CommonRunRequest & {
      kind: 'program';
      code: string;
      model: string | null;
      /** The question the program answers, shown in History. Default: "(user program)". */
      question?: string;
      /** The run this program was edited from; the run is then recorded as PROGRAM_EDIT_STRATEGY. Default: none. */
      parentRunId?: string;
      /** Recorded tool results that unchanged calls are served from (not stored with the run). Default: none. */
      reuse?: ToolResultsByKey<UserProgramToolResult>;
    });

interface CommonRunRequest {
  /** Corpus searched by retrieve(); null runs without one (retrieve() returns nothing). */
  corpus: string | null;
  topK?: number;
  searchMode?: SearchMode;
  retry?: Omit<RetryPolicyOptions, 'onRetry'>;
  sandboxLimits?: Partial<SandboxLimits>;
}

export type { LlmProvider };

export interface RunDependencies {
  engine: Engine;
  /** Hands out the run's model. Default: the engine's (EngineOptions.llmProvider). */
  llm?: LlmProvider;
  /** Persists runs; without it a run lives only in memory. */
  store?: RunStore;
  /** Runs programs. Default: the engine's sandbox (engine.runProgram). */
  runProgram?: ProgramRunner;
  /** The strategies a run may use. Default: strategyRegistry. */
  strategies?: StrategyRegistry;
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

/**
 * Starts a run and returns its handle at once. The strategy and its options are checked first, so a
 * run that cannot start (an unknown strategy, an invalid option) throws a ReckonError
 * (UNKNOWN_STRATEGY, INVALID_STRATEGY_OPTIONS) and is never recorded.
 */
export function startRun(request: RunRequest, deps: RunDependencies): RunHandle {
  const registry = deps.strategies ?? strategyRegistry;
  const descriptor = request.kind === 'question' ? registry.get(request.strategy) : undefined;
  const strategyOptions =
    request.kind === 'question' ? registry.parseOptions(request.strategy, request.options ?? {}) : {};
  if (descriptor?.corpus === 'required' && !request.corpus) {
    throw new ReckonError(
      'CORPUS_REQUIRED',
      `The ${descriptor.label} strategy retrieves from a corpus; choose one to search.`,
    );
  }
  const now = deps.now ?? Date.now;
  const runId = (deps.newId ?? (() => newRunId(now)))();
  const controller = new AbortController();
  const recorder = new TraceRecorder({ runId, ...(deps.store ? { store: deps.store } : {}), now });
  const modelSpec = request.model ?? 'none';
  const question = request.kind === 'question' ? request.question : (request.question ?? '(user program)');
  const parentRunId = request.kind === 'program' ? request.parentRunId : undefined;
  const strategy =
    request.kind === 'question'
      ? request.strategy
      : parentRunId !== undefined
        ? PROGRAM_EDIT_STRATEGY
        : USER_PROGRAM_STRATEGY;
  deps.store?.createRun({
    id: runId,
    question,
    corpus: request.corpus,
    strategy,
    model: modelSpec,
    options: request.kind === 'question' ? { ...request, options: strategyOptions } : withoutReuse(request),
    ...(parentRunId !== undefined ? { parentRunId } : {}),
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
    const memories: SolvedExampleMemory[] = [];
    let llmLease: Awaited<ReturnType<LlmProvider>> | undefined;
    let recording: ReturnType<typeof recordingBackend> | undefined;
    let counting: ReturnType<typeof countingBackend> | undefined;
    let retries = 0;
    let outcome: StrategyOutcome | undefined;
    let error: ReckonError | undefined;
    // A warning (dense search unavailable, a replay played anyway…) describes the run, not a call.
    const warned = new Set<string>();
    const warnOnce = (message: string): void => {
      if (warned.has(message)) return;
      warned.add(message);
      recorder.emit({ type: 'warning', message });
    };
    recorder.emit({
      type: 'run-started',
      question,
      corpus: request.corpus,
      strategy,
      model: modelSpec,
      ...(parentRunId !== undefined ? { parentRunId } : {}),
    });
    try {
      if (request.corpus) retriever = deps.engine.openRetriever(request.corpus);
      // Dense asked for by name never quietly becomes BM25: the run stops before its first call.
      if (retriever && request.searchMode === 'dense') {
        const reason = (await retriever.denseUnavailable?.()) ?? null;
        if (reason !== null) throw denseUnavailableError(reason);
      }
      if (request.model) {
        const provider = deps.llm ?? deps.engine.llmProvider;
        if (!provider)
          throw new ReckonError(
            'NO_MODEL_PROVIDER',
            'This engine was created without a model provider, so runs cannot load a model.',
          );
        llmLease = await provider(request.model, signal);
        const onRetry = retryEventsTo(recorder);
        // Attempts are counted inside the retry policy, so that failed and retried calls count too.
        counting = countingBackend(failedAttemptRecorder(llmLease.backend));
        const retried = withRetry(counting, {
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
      const limits = request.sandboxLimits;
      const runProgram: ProgramRunner = deps.runProgram ?? deps.engine.runProgram;
      const context: StrategyContext<Record<string, unknown>> = {
        question,
        options: strategyOptions,
        llm: recording ?? noModel(),
        retrieve: (query, k, callSignal) =>
          retrieve(retriever, query, k, request.searchMode, callSignal, warnOnce),
        hasCorpus: retriever !== undefined,
        embed: async (texts, callSignal) => (await retriever?.embed?.(texts, { signal: callSignal })) ?? null,
        reranker: () => deps.engine.reranker(),
        topK: request.topK ?? DEFAULT_RUN_TOP_K,
        prepareProgram: (code, prepareOptions) => deps.engine.prepareProgram(code, prepareOptions),
        runProgram: limits
          ? (options) => runProgram({ ...options, limits: { ...limits, ...options.limits } })
          : runProgram,
        openMemory: (name) => {
          const memory = deps.engine.memories.open(name);
          memories.push(memory);
          return memory;
        },
        emit: (body) => void recorder.emit(body),
        now,
        signal,
      };
      outcome = descriptor
        ? await descriptor.run(context)
        : request.kind === 'program'
          ? await runUserProgram(request.code, context, request.reuse ? { reuse: request.reuse } : {})
          : await runUserProgram('', context);
      if (signal.aborted) throw new CancelledError();
    } catch (caught) {
      error = signal.aborted ? new CancelledError('The run was cancelled.') : toReckonError(caught);
    } finally {
      retriever?.close();
      for (const memory of memories) memory.close();
      await llmLease?.release();
    }

    const stats = counting?.stats() ?? {
      llmCalls: 0,
      promptTokens: 0,
      completionTokens: 0,
      tokensEstimated: false,
    };
    const metrics: RunMetrics = {
      llmCalls: stats.llmCalls,
      promptTokens: stats.promptTokens,
      completionTokens: stats.completionTokens,
      tokensEstimated: stats.tokensEstimated,
      retries,
      phaseMs: outcome?.metrics.phaseMs ?? {},
      totalMs: now() - started,
      program: outcome?.metrics.program ?? null,
      strategy: outcome?.metrics.strategy ?? {},
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

/** A program request as stored with its run: the recorded results it reuses are the parent's, not its own. */
function withoutReuse(request: Extract<RunRequest, { kind: 'program' }>): Record<string, unknown> {
  const { reuse: _reuse, ...stored } = request;
  return stored;
}

async function retrieve(
  retriever: Retriever | undefined,
  query: string,
  k: number,
  mode: SearchMode | undefined,
  signal: AbortSignal,
  warn: (message: string) => void,
): Promise<RetrievedDoc[]> {
  if (!retriever) return [];
  const result = await retriever.search(query, { k, mode: mode ?? DEFAULT_RUN_SEARCH_MODE, signal });
  for (const warning of result.warnings) warn(warning);
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
