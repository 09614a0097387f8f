/**
 * The evaluation runner: every (question × method × model) of a dataset through startRun — so each
 * prediction is a saved run that opens in `reckon runs show` and the app — scored as it finishes
 * and appended to the results file, which is what makes a re-run resume.
 */
import { createHash } from 'node:crypto';
import type { EmbedderChoice, Engine } from '../../createEngine.ts';
import { DEFAULT_MEMORY_FOLDS } from '../../corpus/memory/SolvedExampleMemory.ts';
import type { SearchMode } from '../../corpus/search/searchCorpus.ts';
import { CancelledError, ReckonError } from '../../errors.ts';
import type { LlmBackend, LlmProvider } from '../../models/LlmBackend.ts';
import { withRetry, type RetryPolicyOptions } from '../../models/RetryPolicy.ts';
import type { RunStore } from '../../runs/RunStore.ts';
import {
  DEFAULT_RUN_SEARCH_MODE,
  DEFAULT_RUN_TOP_K,
  startRun,
  type RunHandle,
  type RunResult,
} from '../../runs/startRun.ts';
import type { SandboxLimits } from '../../sandbox/SandboxTypes.ts';
import type { SolvedPair } from '../../strategies/icrag/buildSolvedExampleMemory.ts';
import { strategyRegistry, type StrategyRegistry } from '../../strategies/registry.ts';
import type { EvalDataset, EvalItem } from '../datasets/EvalItem.ts';
import { GIVEN_SUB_QUESTIONS_OPTION, MAX_GIVEN_SUB_QUESTIONS } from '../../strategies/givenSubQuestions.ts';
import { goldSubQuestions } from './measureOracleRecall.ts';
import {
  EVAL_MEMORY_EXCLUDE_OPTION,
  EVAL_MEMORY_OPTION,
  buildEvalMemory,
  describeEvalMemory,
  evalMemoryName,
  usesSolvedExampleMemory,
  type EvalMemoryBuild,
  type EvalMemoryProgress,
} from './buildEvalMemory.ts';
import { scoreQuestion } from '../scoring/scoreQuestion.ts';
import { EVAL_RECORD_VERSION, evalConfigKey, type EvalConfig, type EvalRecord } from './EvalRecord.ts';
import type { EvalResultsFile } from './EvalResultsFile.ts';
import { retrievedTitlesOf } from './retrievedTitlesOf.ts';

/** Questions run at once when no concurrency is given. */
export const DEFAULT_EVAL_CONCURRENCY = 1;

/** One method to evaluate: a registry id and its options as given (defaults are filled in). */
export interface EvalMethodSpec {
  id: string;
  options?: Record<string, unknown>;
}

/** What itemOptions is asked about. */
export interface EvalItemOptionsContext {
  method: string;
  /** The method's options, completed with defaults. */
  options: Record<string, unknown>;
  item: EvalItem;
  dataset: EvalDataset;
  strategies: StrategyRegistry;
}

/** One dataset of an evaluation and the corpus its retrieval methods search. */
export interface EvalDatasetPart {
  /** The dataset, already sampled (loadEvalDataset with limit and seed). */
  dataset: EvalDataset;
  /** sha256 of the dataset file's bytes (hex); the first 16 characters go into the config key. */
  datasetHash: string;
  /** Corpus retrieve() searches (the dataset's own from prepareEvalCorpus, or the user's); null: none. */
  corpus: string | null;
}

export interface RunEvaluationOptions extends EvalDatasetPart, EvalRunSettings {}

/** Several datasets evaluated in one pass: the same methods, models and settings on each. */
export interface RunEvaluationsOptions extends EvalRunSettings {
  /** In report order; each keeps its own records, so each resumes on its own. */
  datasets: readonly EvalDatasetPart[];
}

/** What an evaluation runs besides its dataset(s). */
export interface EvalRunSettings {
  methods: readonly EvalMethodSpec[];
  /** Model specs, evaluated one after another (one model loaded at a time). */
  models: readonly string[];
  /** Where records are read from and appended to. */
  results: EvalResultsFile;
  /** Passages per retrieve(). Default: DEFAULT_RUN_TOP_K (5). */
  topK?: number;
  /** Default: DEFAULT_RUN_SEARCH_MODE ('hybrid'). */
  searchMode?: SearchMode;
  /**
   * Runs at once per model: at most the backend's `parallelism` for local and replay models (a
   * replay file is consumed in order, so replay runs one at a time), exactly this many for an
   * OpenAI-compatible server (the user knows their server). Default: DEFAULT_EVAL_CONCURRENCY (1).
   */
  concurrency?: number;
  /** The model calls' retry policy. Default: startRun's. Not in the config key (it changes no answer, only whether a flaky call ends in an error). */
  retry?: Omit<RetryPolicyOptions, 'onRetry'>;
  /** Sandbox limits for program methods. Default: DEFAULT_SANDBOX_LIMITS. In the config key when given. */
  sandboxLimits?: Partial<SandboxLimits>;
  /**
   * Strategy options added per question, on top of the method's options; kept in the record, not in
   * the config key (they must follow from the item alone). Default: none.
   */
  itemOptions?: (context: EvalItemOptionsContext) => Record<string, unknown> | undefined;
  /**
   * Oracle-decomposition mode: every method that takes `givenSubQuestions` (PyRAG, PROGRAM) runs
   * under its own config (`oracle: 'decomposition'`, a key of its own) and is given each question's
   * gold decomposition by oracleDecompositionItemOptions, composed after `itemOptions`; a question
   * without one runs as usual. Other methods run as they always do. EVAL_ORACLE_UNSUPPORTED when no
   * method takes `givenSubQuestions`, or one is given its own `givenSubQuestions` already. Default false.
   */
  oracleDecomposition?: boolean;
  /**
   * k of the k-fold memory of solved examples (R2) built for each method that searches one
   * (usesSolvedExampleMemory: ICRAG) and was given no `memory`: per dataset and model, from all the
   * evaluated items (buildEvalMemory), passed to the method as `memory` with `memoryExclude:
   * own-fold`. Default DEFAULT_MEMORY_FOLDS (5).
   */
  kFold?: number;
  /** Embedder of those memories' task vectors, as `reckon memory build` picks one. Default 'auto'. */
  memoryEmbedder?: EmbedderChoice;
  signal?: AbortSignal;
  onProgress?: (event: EvalProgressEvent) => void;
}

export interface RunEvaluationDependencies {
  engine: Engine;
  /** Hands out each model; called once per model spec, released when that model's questions are done. */
  llm: LlmProvider;
  /** Saves every run; without it runs are not saved and records link to nothing. */
  store?: RunStore;
  /** Default: strategyRegistry. */
  strategies?: StrategyRegistry;
  /** Default: Date.now. */
  now?: () => number;
}

/** After each finished question (and once at the start, with no record). */
export interface EvalProgressEvent {
  /** Measurements of this evaluation (questions × methods × models). */
  total: number;
  /** Already in the results file when the evaluation started (resumed, not run again). */
  resumed: number;
  /** Finished in this session. */
  done: number;
  /** Still to run. */
  remaining: number;
  /** Seconds left, from this session's pace; undefined before the first finishes. */
  etaSeconds: number | undefined;
  /** Concurrency in force for the current model. */
  concurrency: number;
  /** The record just written, if any. */
  record?: EvalRecord;
  /** The memory-building phase (R2, before a model's questions): the example just handled. */
  memory?: EvalMemoryProgress;
}

export interface RunEvaluationResult {
  /** The configs evaluated (one per method × model), in method-major order. */
  configs: { configKey: string; config: EvalConfig }[];
  /** The records of this evaluation's questions (resumed and new), in config then dataset order. */
  records: EvalRecord[];
  resumed: number;
  completed: number;
  /** The evaluation was stopped (signal) before every question was done. */
  cancelled: boolean;
  /** The k-fold memories (R2) this session built or continued (see kFold); none when no method needs one. */
  memories: EvalMemoryBuild[];
}

export interface RunEvaluationsResult {
  /** Per dataset, in the given order: its configs and records, as runEvaluation gives them. */
  parts: { dataset: EvalDataset; configs: RunEvaluationResult['configs']; records: EvalRecord[] }[];
  resumed: number;
  completed: number;
  cancelled: boolean;
  memories: EvalMemoryBuild[];
}

/** sha256 of a dataset file's bytes, hex (use with RunEvaluationOptions.datasetHash). */
export function hashDatasetBytes(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Whether a registry method takes given sub-questions (GIVEN_SUB_QUESTIONS_OPTION). */
export function takesGivenSubQuestions(strategies: StrategyRegistry, method: string): boolean {
  const info = strategies.list().find((strategy) => strategy.id === method);
  return info?.options.some((option) => option.key === GIVEN_SUB_QUESTIONS_OPTION) ?? false;
}

/**
 * The oracle-decomposition hook: a method that takes `givenSubQuestions` gets the item's gold
 * sub-questions, earlier gold answers substituted for #1, #2 … (goldSubQuestions), marked as the
 * gold decomposition. Nothing for other methods, for an item without a decomposition, and for one
 * longer than MAX_GIVEN_SUB_QUESTIONS steps (those run as usual).
 */
export function oracleDecompositionItemOptions(
  context: EvalItemOptionsContext,
): Record<string, unknown> | undefined {
  const steps = context.item.gold.decomposition ?? [];
  if (steps.length === 0 || steps.length > MAX_GIVEN_SUB_QUESTIONS) return undefined;
  if (!takesGivenSubQuestions(context.strategies, context.method)) return undefined;
  return {
    [GIVEN_SUB_QUESTIONS_OPTION]: goldSubQuestions(steps),
    givenSubQuestionsSource: 'gold-decomposition',
  };
}

/** Per-question hooks applied in order, later ones' options over earlier ones'; undefined when none gives any. */
export function composeItemOptions(
  ...hooks: readonly ((context: EvalItemOptionsContext) => Record<string, unknown> | undefined)[]
): (context: EvalItemOptionsContext) => Record<string, unknown> | undefined {
  return (context) => {
    const given = hooks.map((hook) => hook(context)).filter((options) => options !== undefined);
    return given.length === 0 ? undefined : Object.assign({}, ...given);
  };
}

/**
 * The text a method is asked: the dataset's few-shot prompt (BBH) before the question, and the
 * answer options, one per line as "(A) text", after it where the item has options that its
 * question does not already list.
 */
export function evalQuestionText(dataset: Pick<EvalDataset, 'fewShotPrompt'>, item: EvalItem): string {
  let text = item.input.question;
  const options = item.input.options ?? [];
  if (options.length > 0 && !options.every((option) => text.includes(option.text))) {
    text += `\nOptions:\n${options.map((option) => `${labelOf(option.label)} ${option.text}`).join('\n')}`;
  }
  return dataset.fewShotPrompt ? `${dataset.fewShotPrompt.trimEnd()}\n\nQ: ${text}\nA:` : text;
}

function labelOf(label: string): string {
  return label.startsWith('(') ? label : `(${label})`;
}

interface Task {
  part: EvalDatasetPart;
  configKey: string;
  config: EvalConfig;
  item: EvalItem;
  itemOptions: Record<string, unknown> | undefined;
}

/**
 * Runs the evaluation of one dataset: runEvaluations with `datasets: [options]` (see there).
 */
export async function runEvaluation(
  options: RunEvaluationOptions,
  deps: RunEvaluationDependencies,
): Promise<RunEvaluationResult> {
  const { dataset, datasetHash, corpus, ...settings } = options;
  const outcome = await runEvaluations({ ...settings, datasets: [{ dataset, datasetHash, corpus }] }, deps);
  const [part] = outcome.parts;
  return {
    configs: part!.configs,
    records: part!.records,
    resumed: outcome.resumed,
    completed: outcome.completed,
    cancelled: outcome.cancelled,
    memories: outcome.memories,
  };
}

/**
 * Runs the evaluation of one or more datasets. Measurements already in `results` (same config key
 * and item id) are not run again; a dataset's config key holds its file's hash, so each dataset
 * resumes on its own. Models go one after another, each loaded once for every dataset and shared by
 * its runs; within a model, datasets go in the given order, questions in dataset order and each
 * question's methods in the given order, `concurrency` at a time. A run that fails is a finished
 * question (its error recorded, scored as missing). When `signal` aborts, no run starts, the runs in
 * flight are cancelled, and none of them is recorded: the results file holds only whole questions,
 * and the same call later does the rest. A method that searches solved examples and was given no
 * `memory` (ICRAG) first gets, per dataset and model, a memory built k-fold from the evaluated items
 * (see kFold; buildEvalMemory), reported in `memories` and as `memory` progress; a cancelled build
 * keeps what it made. Before anything runs, every method and its options are
 * checked (UNKNOWN_STRATEGY, INVALID_STRATEGY_OPTIONS) and so is the corpus a method needs on every
 * dataset (CORPUS_REQUIRED).
 */
export async function runEvaluations(
  options: RunEvaluationsOptions,
  deps: RunEvaluationDependencies,
): Promise<RunEvaluationsResult> {
  const strategies = deps.strategies ?? strategyRegistry;
  const now = deps.now ?? Date.now;
  const { results, signal } = options;
  const topK = options.topK ?? DEFAULT_RUN_TOP_K;
  const searchMode = options.searchMode ?? DEFAULT_RUN_SEARCH_MODE;
  const oracle = options.oracleDecomposition ?? false;
  const given = options.itemOptions;
  const itemOptionsOf = oracle
    ? composeItemOptions(...(given ? [given] : []), oracleDecompositionItemOptions)
    : (given ?? (() => undefined));
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_EVAL_CONCURRENCY));

  if (options.methods.length === 0 || options.models.length === 0 || options.datasets.length === 0)
    throw new ReckonError(
      'EVAL_NOTHING_TO_RUN',
      'Choose at least one dataset (--dataset), one method (--methods) and one model (--model).',
    );
  const methods = options.methods.map((method) => {
    const descriptor = strategies.get(method.id);
    for (const { dataset, corpus } of options.datasets)
      if (descriptor.corpus === 'required' && !corpus)
        throw new ReckonError(
          'CORPUS_REQUIRED',
          `${descriptor.label} retrieves from a corpus, and ${dataset.name} has no context paragraphs to build one from; pass --corpus <name>.`,
        );
    const parsed = strategies.parseOptions(method.id, method.options ?? {});
    const oracleRun = oracle && takesGivenSubQuestions(strategies, method.id);
    const own = parsed[GIVEN_SUB_QUESTIONS_OPTION];
    if (oracleRun && Array.isArray(own) && own.length > 0)
      throw new ReckonError(
        'EVAL_ORACLE_UNSUPPORTED',
        `--oracle-decomposition gives ${method.id} each question's gold sub-questions; drop its ${GIVEN_SUB_QUESTIONS_OPTION} option, or drop --oracle-decomposition to use your own.`,
      );
    // A method that searches solved examples and was given none runs on a k-fold memory of the evaluated items.
    const buildsMemory =
      usesSolvedExampleMemory(strategies, method.id) &&
      String(parsed[EVAL_MEMORY_OPTION] ?? '').trim() === '';
    const exclude = method.options?.[EVAL_MEMORY_EXCLUDE_OPTION];
    if (buildsMemory && exclude !== undefined && exclude !== 'own-fold')
      throw new ReckonError(
        'EVAL_MEMORY_EXCLUDE',
        `${method.id} runs on a memory built k-fold from the evaluated questions, so each question must leave out its own fold; drop ${EVAL_MEMORY_EXCLUDE_OPTION}=${String(exclude)}, or give the method a memory of your own (${EVAL_MEMORY_OPTION}=<name>).`,
      );
    return {
      id: method.id,
      options: parsed,
      retrieves: descriptor.corpus !== 'none',
      oracleRun,
      buildsMemory,
    };
  });
  if (oracle && !methods.some((method) => method.oracleRun))
    throw new ReckonError(
      'EVAL_ORACLE_UNSUPPORTED',
      `--oracle-decomposition feeds gold sub-questions to the methods that take ${GIVEN_SUB_QUESTIONS_OPTION} (${strategies
        .ids()
        .filter((id) => takesGivenSubQuestions(strategies, id))
        .join(', ')}); none of the chosen methods does. Add one to --methods.`,
    );

  const kFold = options.kFold ?? DEFAULT_MEMORY_FOLDS;
  if (methods.some((method) => method.buildsMemory) && (!Number.isInteger(kFold) || kFold < 2))
    throw new ReckonError(
      'INVALID_ARGUMENT',
      `--k-fold must be a whole number ≥ 2 (each question's own fold is left out of its memory); got ${kFold}.`,
    );

  const configsOfPart = new Map<EvalDatasetPart, RunEvaluationResult['configs']>(
    options.datasets.map((part) => [part, []]),
  );
  const tasksByModel = new Map<string, Task[]>();
  const memoriesByModel = new Map<string, { part: EvalDatasetPart; memory: string }[]>();
  for (const model of options.models) {
    const tasks: Task[] = [];
    const memories: { part: EvalDatasetPart; memory: string }[] = [];
    for (const part of options.datasets) {
      const { dataset } = part;
      const memory = methods.some((method) => method.buildsMemory)
        ? evalMemoryName({
            datasetHash: part.datasetHash,
            itemIds: dataset.items.map((item) => item.id),
            model,
            folds: kFold,
          })
        : null;
      if (memory) memories.push({ part, memory });
      const configsOfModel = methods.map((method) => {
        const config: EvalConfig = {
          datasetHash: part.datasetHash.slice(0, 16),
          datasetFormat: dataset.format,
          method: method.id,
          model,
          options:
            method.buildsMemory && memory
              ? {
                  ...method.options,
                  [EVAL_MEMORY_OPTION]: memory,
                  [EVAL_MEMORY_EXCLUDE_OPTION]: 'own-fold',
                }
              : method.options,
          // A method that never retrieves gives the same answers with any corpus: keep its key apart from it.
          corpus: method.retrieves ? part.corpus : null,
          topK,
          searchMode,
          ...(options.sandboxLimits ? { sandboxLimits: options.sandboxLimits } : {}),
          ...(method.oracleRun ? { oracle: 'decomposition' as const } : {}),
        };
        return { configKey: evalConfigKey(config), config };
      });
      for (const item of dataset.items)
        for (const { configKey, config } of configsOfModel) {
          if (results.has(configKey, item.id)) continue;
          const itemOptions = itemOptionsOf({
            method: config.method,
            options: config.options,
            item,
            dataset,
            strategies,
          });
          // An item option that the method rejects fails here, before the first run.
          if (itemOptions) strategies.parseOptions(config.method, { ...config.options, ...itemOptions });
          tasks.push({ part, configKey, config, item, itemOptions });
        }
      configsOfPart.get(part)!.push(...configsOfModel);
    }
    tasksByModel.set(model, tasks);
    memoriesByModel.set(model, memories);
  }
  // Reported in method-major order (the report's rows), whatever order the runs went in.
  for (const configs of configsOfPart.values())
    configs.sort(
      (a, b) =>
        methods.findIndex((m) => m.id === a.config.method) -
          methods.findIndex((m) => m.id === b.config.method) ||
        options.models.indexOf(a.config.model) - options.models.indexOf(b.config.model),
    );

  let total = 0;
  for (const [part, configs] of configsOfPart) total += configs.length * part.dataset.items.length;
  const pending = [...tasksByModel.values()].reduce((sum, tasks) => sum + tasks.length, 0);
  const resumed = total - pending;
  let done = 0;
  const started = now();
  let currentConcurrency = concurrency;
  const progress = (record?: EvalRecord, memory?: EvalMemoryProgress): void => {
    const remaining = pending - done;
    const elapsed = (now() - started) / 1000;
    options.onProgress?.({
      total,
      resumed,
      done,
      remaining,
      etaSeconds: done > 0 ? (elapsed / done) * remaining : undefined,
      concurrency: currentConcurrency,
      ...(record ? { record } : {}),
      ...(memory ? { memory } : {}),
    });
  };
  progress();

  const built: EvalMemoryBuild[] = [];
  const inFlight = new Set<RunHandle>();
  const cancelAll = (): void => {
    for (const handle of inFlight) handle.cancel();
  };
  signal?.addEventListener('abort', cancelAll);
  try {
    for (const model of options.models) {
      const tasks = tasksByModel.get(model) ?? [];
      if (tasks.length === 0) continue;
      if (signal?.aborted) break;
      const lease = await deps.llm(model, signal ?? new AbortController().signal);
      try {
        // R2 first: a memory only its finished questions use is not touched (resumed runs call no model for it).
        for (const { part, memory } of memoriesByModel.get(model) ?? []) {
          if (signal?.aborted) break;
          if (!tasks.some((task) => task.part === part && task.config.options[EVAL_MEMORY_OPTION] === memory))
            continue;
          built.push(
            await buildEvalMemory({
              engine: deps.engine,
              llm: withRetry(lease.backend, options.retry ?? {}),
              memory,
              dataset: part.dataset.name,
              model,
              pairs: solvedPairsOf(part.dataset),
              folds: kFold,
              ...(options.memoryEmbedder ? { embedder: options.memoryEmbedder } : {}),
              ...(signal ? { signal } : {}),
              onProgress: (event) => progress(undefined, event),
            }),
          );
        }
        if (signal?.aborted) break;
        const shared = sharedProvider(lease.backend);
        currentConcurrency = lease.backend.id.startsWith('openai:')
          ? concurrency
          : Math.min(concurrency, Math.max(1, lease.backend.parallelism));
        let next = 0;
        const worker = async (): Promise<void> => {
          while (!signal?.aborted && next < tasks.length) {
            const task = tasks[next++]!;
            const record = await runTask(task, shared);
            if (!record) continue;
            results.append(record);
            done++;
            progress(record);
          }
        };
        await Promise.all(Array.from({ length: Math.min(currentConcurrency, tasks.length) }, worker));
      } finally {
        await lease.release();
      }
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    signal?.removeEventListener('abort', cancelAll);
  }

  let recorded = 0;
  const parts = options.datasets.map((part) => {
    const configs = configsOfPart.get(part)!;
    const records: EvalRecord[] = [];
    for (const { configKey } of configs)
      for (const item of part.dataset.items) {
        const record = results.get(configKey, item.id);
        if (record) records.push(record);
      }
    recorded += records.length;
    return { dataset: part.dataset, configs, records };
  });
  // The memories whose questions were all done before report as they are (no build ran for them).
  for (const [model, memories] of memoriesByModel)
    for (const { part, memory } of memories) {
      if (built.some((entry) => entry.memory === memory)) continue;
      const described = describeEvalMemory(deps.engine, {
        memory,
        dataset: part.dataset.name,
        model,
        folds: kFold,
        pairs: solvedPairsOf(part.dataset).length,
      });
      if (described) built.push(described);
    }
  return { parts, resumed, completed: done, cancelled: recorded < total, memories: built };

  /** Runs one question; undefined when it was cancelled (nothing to record). */
  async function runTask(task: Task, llm: LlmProvider): Promise<EvalRecord | undefined> {
    const { config, item } = task;
    const handle = startRun(
      {
        kind: 'question',
        question: evalQuestionText(task.part.dataset, item),
        strategy: config.method,
        options: { ...config.options, ...task.itemOptions },
        model: config.model,
        corpus: config.corpus,
        topK: config.topK,
        searchMode: config.searchMode,
        ...(options.retry ? { retry: options.retry } : {}),
        ...(config.sandboxLimits ? { sandboxLimits: config.sandboxLimits } : {}),
      },
      { engine: deps.engine, llm, strategies, now, ...(deps.store ? { store: deps.store } : {}) },
    );
    inFlight.add(handle);
    if (signal?.aborted) handle.cancel();
    let result: RunResult;
    try {
      result = await handle.done;
    } finally {
      inFlight.delete(handle);
    }
    if (result.status === 'cancelled' || signal?.aborted) return undefined;
    return buildRecord(task, result);
  }

  function buildRecord(task: Task, result: RunResult): EvalRecord {
    const { config, configKey, item } = task;
    const { dataset } = task.part;
    const retrievedTitles = retrievedTitlesOf(result.events);
    const retrieves = config.corpus !== null;
    const score = scoreQuestion(
      item,
      { answer: result.answer, retrievedTitles },
      { withRetrieval: retrieves, withSupportingFacts: false },
    );
    const program = result.metrics.program;
    return {
      version: EVAL_RECORD_VERSION,
      configKey,
      config,
      dataset: dataset.name,
      itemId: item.id,
      category: item.category ?? null,
      question: item.input.question,
      golds: [...item.gold.answers],
      prediction: result.answer,
      score,
      runId: result.runId,
      status: result.status === 'succeeded' ? 'succeeded' : 'failed',
      error: result.error ? { code: result.error.code, message: result.error.message } : null,
      llmCalls: result.metrics.llmCalls,
      promptTokens: result.metrics.promptTokens,
      completionTokens: result.metrics.completionTokens,
      tokensEstimated: result.metrics.tokensEstimated,
      seconds: result.metrics.totalMs / 1000,
      retries: result.metrics.retries,
      program: program
        ? {
            repairs: program.repairs,
            programAttempts: program.programAttempts,
            executable: program.executable,
            exceptionKind: program.exceptionKind,
            cyclomaticComplexity: program.cyclomaticComplexity,
            maxStackDepth: program.maxStackDepth,
          }
        : null,
      figures: { ...result.metrics.strategy },
      retrievedTitles: retrieves ? retrievedTitles : [],
      ...(task.itemOptions ? { itemOptions: task.itemOptions } : {}),
      finishedAt: now(),
    };
  }
}

/** A dataset's items as solved pairs for its k-fold memory: those with a gold answer, in sample order. */
function solvedPairsOf(dataset: EvalDataset): SolvedPair[] {
  return dataset.items.flatMap((item) => {
    const answer = item.gold.answers[0];
    // The task text the method is asked, so a run finds its own example (and fold) by it.
    return answer === undefined ? [] : [{ id: item.id, task: evalQuestionText(dataset, item), answer }];
  });
}

/** A provider that hands every run the one loaded backend; a run's release leaves it loaded. */
function sharedProvider(backend: LlmBackend): LlmProvider {
  return async (_spec, signal) => {
    if (signal.aborted) throw new CancelledError();
    return { backend, release: async () => {} };
  };
}
