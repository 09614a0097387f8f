/**
 * PyRAG ("Retrieval is Cheap, Show Me the Code"): multi-hop QA as program synthesis and execution.
 *
 * 1. Decompose the question into single-hop sub-questions (JSON; after 3 failures, the question).
 * 2. Plan: the code model writes a program over retrieve() and answer(); it must parse — a syntax
 *    error goes back to the model with its line and the code (up to 3 tries).
 * 3. Execute in the sandbox; a runtime failure goes back with kind, message, line and code for a
 *    repair (up to 3 rounds).
 * 4. Adaptive retrieval: a sentinel answer ("unknown", …) boosts the retrieve() call that fed it to
 *    k = 10 and re-runs the program once; when only the final answer is a sentinel, the last
 *    retrieve() is boosted.
 * 5. The program's return value is the answer; citations are the chunks the answer() calls used.
 */
import type { ChatMessage } from '../../models/LlmBackend.ts';
import type { RetrievedDoc, SandboxFailure, SandboxRunResult } from '../../sandbox/SandboxTypes.ts';
import type { Citation } from '../../runs/TraceEvent.ts';
import { extractProgram, normalizeProgramText } from '../../programs/extractProgram.ts';
import { prepareProgram, type PreparedProgram } from '../../programs/prepareProgram.ts';
import { callAnswerModel, type ParsedAnswer } from '../answerFormat.ts';
import { matchSentinel } from '../sentinel.ts';
import { traceSandboxEvent } from '../traceSandboxEvent.ts';
import {
  CITATION_EXCERPT_CHARS,
  emptyStrategyMetrics,
  timePhase,
  type StrategyMetrics,
  type StrategyOutcome,
  type StrategyServices,
} from '../Strategy.ts';
import {
  DECOMPOSITION_SCHEMA,
  decomposeMessages,
  fallbackProgram,
  fixMessages,
  planMessages,
} from './pyragPrompts.ts';
import { throwIfAborted } from '../../errors.ts';

export interface PyragOptions {
  /** Passages per retrieve() call unless the program asks otherwise. Default: DEFAULT_PYRAG_TOP_K (5). */
  topK?: number;
  /** k of a boosted retrieve() call. Default: BOOSTED_TOP_K (10). */
  boostedTopK?: number;
  /** Decomposition attempts before falling back to the question itself. Default 3. */
  maxDecomposeAttempts?: number;
  /** Program-writing attempts (syntax errors fed back) per plan or repair. Default 3. */
  maxProgramAttempts?: number;
  /** Repair rounds after runtime failures. Default 3. */
  maxRepairRounds?: number;
  /** Turn off adaptive retrieval (for ablations). Default: true. */
  adaptiveRetrieval?: boolean;
  /** Token budgets per step. Defaults: decompose 256, plan 768, answer 256. */
  maxTokens?: { decompose?: number; plan?: number; answer?: number };
}

export const DEFAULT_PYRAG_TOP_K = 5;
export const BOOSTED_TOP_K = 10;
export const DEFAULT_MAX_DECOMPOSE_ATTEMPTS = 3;
export const DEFAULT_MAX_PROGRAM_ATTEMPTS = 3;
export const DEFAULT_MAX_REPAIR_ROUNDS = 3;
const DEFAULT_MAX_TOKENS = { decompose: 256, plan: 768, answer: 256 };
/** Temperature of decomposition retries (the first try is greedy). */
const RETRY_TEMPERATURE = 0.7;

/** Failures the model can fix by rewriting its program; HostError and Cancelled are not its fault. */
const REPAIRABLE: ReadonlySet<SandboxFailure['kind']> = new Set([
  'SyntaxError',
  'RuntimeError',
  'Timeout',
  'MemoryLimit',
  'StackOverflow',
  'HostCallLimit',
  'InvalidHostArgument',
]);

interface AnswerCall {
  callIndex: number;
  docs: RetrievedDoc[];
  parsed: ParsedAnswer;
}

interface RetrieveCall {
  callIndex: number;
  k: number;
  ids: Set<number>;
}

interface Execution {
  result: SandboxRunResult;
  /** The program's answer when it returned one. */
  answer: string | undefined;
  failure: SandboxFailure | undefined;
  retrieves: RetrieveCall[];
  answers: AnswerCall[];
}

export async function runPyrag(
  question: string,
  services: StrategyServices,
  options: PyragOptions = {},
): Promise<StrategyOutcome> {
  const topK = options.topK ?? DEFAULT_PYRAG_TOP_K;
  const boostedTopK = options.boostedTopK ?? BOOSTED_TOP_K;
  const maxTokens = { ...DEFAULT_MAX_TOKENS, ...options.maxTokens };
  const metrics = emptyStrategyMetrics();
  const { emit, now, signal } = services;
  const phase = <T>(name: string, fn: () => Promise<T>): Promise<T> => timePhase(metrics, name, now, fn);

  // 1. Decompose.
  const subQuestions = await phase('decompose', () =>
    decompose(
      question,
      services,
      options.maxDecomposeAttempts ?? DEFAULT_MAX_DECOMPOSE_ATTEMPTS,
      maxTokens.decompose,
    ),
  );

  // 2. Plan.
  const maxProgramAttempts = options.maxProgramAttempts ?? DEFAULT_MAX_PROGRAM_ATTEMPTS;
  let program = await phase('plan', () =>
    writeProgram(planMessages(question, subQuestions), 'plan', {
      question,
      subQuestions,
      services,
      metrics,
      maxProgramAttempts,
      maxTokens: maxTokens.plan,
    }),
  );
  if (!program) {
    const fallback = prepareProgram(fallbackProgram(question));
    if (!fallback.ok)
      throw new Error(`The built-in fallback program does not parse: ${fallback.error.message}`);
    program = fallback.program;
    emit({
      type: 'program-generated',
      attempt: metrics.programAttempts + 1,
      purpose: 'fallback',
      code: program.source,
    });
  }

  // 3. Execute, repairing runtime failures.
  let execution = await phase('execute', () => execute(program!, new Map()));
  let rounds = 0;
  const maxRepairRounds = options.maxRepairRounds ?? DEFAULT_MAX_REPAIR_ROUNDS;
  while (execution.failure && REPAIRABLE.has(execution.failure.kind) && rounds < maxRepairRounds) {
    rounds++;
    metrics.repairs = rounds;
    const failure = execution.failure;
    emit({
      type: 'repair-requested',
      round: rounds,
      kind: failure.kind,
      message: failure.message,
      line: failure.line ?? null,
    });
    const repaired = await phase('repair', () =>
      writeProgram(
        fixMessages(question, subQuestions, program!.source, {
          kind: failure.kind,
          message: failure.message,
          line: failure.line ?? null,
        }),
        'repair',
        { question, subQuestions, services, metrics, maxProgramAttempts, maxTokens: maxTokens.plan },
      ),
    );
    if (!repaired) break;
    program = repaired;
    execution = await phase('execute', () => execute(program!, new Map()));
  }

  // 4. Adaptive retrieval: boost the retrieve() behind a sentinel answer and run once more.
  if (!execution.failure && options.adaptiveRetrieval !== false) {
    const boost = chooseBoost(execution, boostedTopK);
    if (boost) {
      metrics.boosts = 1;
      emit({
        type: 'retrieval-boosted',
        callIndex: boost.callIndex,
        fromK: boost.fromK,
        toK: boostedTopK,
        path: boost.path,
        sentinel: boost.sentinel,
      });
      const boosted = await phase('execute', () =>
        execute(program!, new Map([[boost.ordinal, { k: boostedTopK, callIndex: boost.callIndex }]])),
      );
      // A boosted run that breaks keeps the earlier, working result.
      if (!boosted.failure) execution = boosted;
    }
  }

  // 5. Outcome and metrics of the final program.
  const analysis = program.analysis;
  metrics.cyclomaticComplexity = analysis.cyclomaticComplexity;
  metrics.programLines = analysis.lines;
  metrics.nodeTypeProfile = analysis.nodeTypeProfile;
  metrics.hostCallSites = analysis.hostCallSites;
  metrics.maxStackDepth = execution.result.metrics.maxStackDepth;
  metrics.executable = !execution.failure;
  metrics.exceptionKind = execution.failure?.kind ?? null;
  if (execution.failure) {
    return {
      answer: null,
      reasoning: null,
      citations: [],
      failure: {
        code: execution.failure.kind,
        message: `The program failed${rounds > 0 ? ` after ${rounds} repair round${rounds > 1 ? 's' : ''}` : ''}: ${execution.failure.message}`,
      },
      metrics,
    };
  }
  const finalCall = execution.answers.at(-1);
  return {
    answer: execution.answer ?? '',
    reasoning: finalCall?.parsed.reasoning ?? null,
    citations: citationsOf(execution.answers),
    failure: null,
    metrics,
  };

  async function execute(
    prepared: PreparedProgram,
    boosts: ReadonlyMap<number, { k: number; callIndex: number }>,
  ): Promise<Execution> {
    throwIfAborted(signal);
    metrics.executions++;
    const executionNumber = metrics.executions;
    const retrieves: RetrieveCall[] = [];
    const answers: AnswerCall[] = [];
    emit({
      type: 'execution-started',
      execution: executionNumber,
      boosted: [...boosts.values()].map(({ callIndex, k }) => ({ callIndex, k })),
    });
    const result = await services.runProgram({
      script: prepared.script,
      signal,
      tools: {
        retrieve: async (query, k, context) => {
          const ordinal = retrieves.length;
          const effectiveK = Math.max(boosts.get(ordinal)?.k ?? 0, k ?? topK);
          const call: RetrieveCall = { callIndex: context.callIndex, k: k ?? topK, ids: new Set() };
          retrieves.push(call);
          const docs = await services.retrieve(query, effectiveK, context.signal);
          for (const doc of docs) call.ids.add(doc.id);
          return docs;
        },
        answer: async (q, docs, context) => {
          const parsed = await callAnswerModel(services.llm, q, docs, {
            maxTokens: maxTokens.answer,
            signal: context.signal,
          });
          answers.push({ callIndex: context.callIndex, docs: docs ?? [], parsed });
          return parsed.answer;
        },
      },
      onEvent: (event) => emit(traceSandboxEvent(executionNumber, event)),
    });
    metrics.hostCalls += result.metrics.hostCalls;
    let failure: SandboxFailure | undefined = result.ok ? undefined : result.error;
    let answer: string | undefined;
    if (result.ok) {
      if (result.value === undefined || result.value === null) {
        failure = {
          kind: 'RuntimeError',
          message:
            'The program returned nothing. It must end with: return await answer(`Given: … Answer the question: …`);',
        };
      } else {
        answer = typeof result.value === 'string' ? result.value : JSON.stringify(result.value);
      }
    }
    if (failure) {
      emit({
        type: 'runtime-error',
        execution: executionNumber,
        kind: failure.kind,
        errorName: failure.errorName ?? null,
        message: failure.message,
        line: failure.line ?? null,
      });
    }
    return { result, answer, failure, retrieves, answers };
  }
}

/** Which retrieve() to boost, if any (PyRAG's two paths). */
function chooseBoost(
  execution: Execution,
  boostedTopK: number,
):
  | {
      ordinal: number;
      callIndex: number;
      fromK: number;
      path: 'sentinel-answer' | 'sentinel-final';
      sentinel: string;
    }
  | undefined {
  if (execution.retrieves.length === 0) return undefined;
  const intermediate = execution.answers.slice(0, -1);
  for (const call of intermediate) {
    const sentinel = matchSentinel(call.parsed.answer);
    if (!sentinel) continue;
    const ordinal = feedingRetrieve(execution.retrieves, call.docs);
    if (ordinal === undefined) continue;
    const target = execution.retrieves[ordinal]!;
    if (target.k >= boostedTopK) continue;
    return { ordinal, callIndex: target.callIndex, fromK: target.k, path: 'sentinel-answer', sentinel };
  }
  const finalSentinel = matchSentinel(execution.answer ?? '');
  if (finalSentinel) {
    const ordinal = execution.retrieves.length - 1;
    const target = execution.retrieves[ordinal]!;
    if (target.k < boostedTopK) {
      return {
        ordinal,
        callIndex: target.callIndex,
        fromK: target.k,
        path: 'sentinel-final',
        sentinel: finalSentinel,
      };
    }
  }
  return undefined;
}

/** The retrieve() call whose results overlap most with the documents an answer() was given. */
function feedingRetrieve(
  retrieves: readonly RetrieveCall[],
  docs: readonly RetrievedDoc[],
): number | undefined {
  let best: number | undefined;
  let bestOverlap = 0;
  retrieves.forEach((call, ordinal) => {
    const overlap = docs.filter((doc) => call.ids.has(doc.id)).length;
    if (overlap > bestOverlap) {
      best = ordinal;
      bestOverlap = overlap;
    }
  });
  return best;
}

/** Chunks the answers relied on: those cited as [n], or all given documents when none were cited. */
function citationsOf(answers: readonly AnswerCall[]): Citation[] {
  const seen = new Map<number, Citation>();
  for (const call of answers) {
    if (call.docs.length === 0 || matchSentinel(call.parsed.answer)) continue;
    const cited = call.parsed.citedDocs
      .map((n) => call.docs[n - 1])
      .filter((doc): doc is RetrievedDoc => doc !== undefined);
    for (const doc of cited.length > 0 ? cited : call.docs) {
      if (doc.id < 0 || seen.has(doc.id)) continue;
      seen.set(doc.id, {
        chunkId: doc.id,
        title: doc.title,
        source: doc.source,
        excerpt:
          doc.text.length > CITATION_EXCERPT_CHARS
            ? `${doc.text.slice(0, CITATION_EXCERPT_CHARS)}…`
            : doc.text,
      });
    }
  }
  return [...seen.values()];
}

async function decompose(
  question: string,
  services: StrategyServices,
  maxAttempts: number,
  maxTokens: number,
): Promise<string[]> {
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const output = await services.llm.generate({
      role: 'decompose',
      messages: decomposeMessages(question),
      jsonSchema: DECOMPOSITION_SCHEMA,
      maxTokens,
      temperature: attempt === 1 ? 0 : RETRY_TEMPERATURE,
      signal: services.signal,
    });
    const parsed = parseSubQuestions(output.text);
    if (parsed) {
      services.emit({ type: 'decomposition', subQuestions: parsed, attempts: attempt, fallback: false });
      return parsed;
    }
  }
  services.emit({ type: 'decomposition', subQuestions: [question], attempts: maxAttempts, fallback: true });
  return [question];
}

/** A JSON array of 1–6 non-empty strings somewhere in the output, or undefined. */
export function parseSubQuestions(output: string): string[] | undefined {
  const start = output.indexOf('[');
  const end = output.lastIndexOf(']');
  if (start < 0 || end <= start) return undefined;
  try {
    const value: unknown = JSON.parse(output.slice(start, end + 1));
    if (!Array.isArray(value) || value.length === 0 || value.length > 6) return undefined;
    const strings = value.map((item) => (typeof item === 'string' ? item.trim() : ''));
    return strings.every((s) => s.length > 0) ? strings : undefined;
  } catch {
    return undefined;
  }
}

/** Asks for a program until one parses (syntax errors are fed back), at most maxProgramAttempts times. */
async function writeProgram(
  firstMessages: ChatMessage[],
  purpose: 'plan' | 'repair',
  context: {
    question: string;
    subQuestions: readonly string[];
    services: StrategyServices;
    metrics: StrategyMetrics;
    maxProgramAttempts: number;
    maxTokens: number;
  },
): Promise<PreparedProgram | undefined> {
  const { services, metrics } = context;
  let messages = firstMessages;
  for (let attempt = 1; attempt <= context.maxProgramAttempts; attempt++) {
    const output = await services.llm.generate({
      role: purpose,
      messages,
      maxTokens: context.maxTokens,
      signal: services.signal,
    });
    metrics.programAttempts++;
    const extracted = extractProgram(output.text);
    const code = normalizeProgramText(extracted?.code ?? output.text);
    services.emit({ type: 'program-generated', attempt: metrics.programAttempts, purpose, code });
    const prepared = prepareProgram(code);
    if (prepared.ok) return prepared.program;
    services.emit({
      type: 'syntax-error',
      attempt: metrics.programAttempts,
      message: prepared.error.message,
      line: prepared.error.line ?? null,
      column: prepared.error.column ?? null,
    });
    messages = fixMessages(context.question, context.subQuestions, code, {
      kind: 'SyntaxError',
      message: prepared.error.message,
      line: prepared.error.line ?? null,
    });
  }
  return undefined;
}
