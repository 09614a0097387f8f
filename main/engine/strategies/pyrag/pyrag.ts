/**
 * PyRAG ("Retrieval is Cheap, Show Me the Code"): multi-hop QA as program synthesis and execution.
 *
 * 1. Decompose the question into single-hop sub-questions (JSON; after `maxDecomposeAttempts`
 *    failures, the question itself). With `givenSubQuestions` (givenSubQuestions.ts) there is no
 *    decomposition call: the given list, in order, is the decomposition (evaluation's oracle mode
 *    gives the gold one, earlier gold answers substituted for #1, #2 …); the plan, its one
 *    retrieve() and answer() per sub-question, repair and boosting are unchanged, so retrieval and
 *    reading stay the method's own.
 * 2. Plan: the code model writes a program over retrieve() and answer(); it must parse — a syntax
 *    error goes back to the model with its line and the code (`maxProgramAttempts` tries), else the
 *    built-in one-hop program is used.
 * 3. Execute in the sandbox; a runtime failure goes back with kind, message, line and code for a
 *    repair (`maxRepairs` rounds).
 * 4. Adaptive retrieval: every answer() that returned a sentinel ("unknown", …) boosts the retrieve()
 *    that fed it to k = `boostedTopK`; a sentinel as the program's result boosts the last retrieve().
 *    The program then runs once more with all boosts (repaired like the first run if it fails);
 *    calls whose inputs did not change are served from the first run (`reuseUnchangedCalls`).
 * 5. The program's return value is the answer; citations are the chunks its answer() calls used.
 */
import { z } from 'zod';
import type { HostCallContext, HostTools, JsonValue, RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import { callAnswerModel, type ParsedAnswer } from '../answerFormat.ts';
import { matchSentinel } from '../sentinel.ts';
import { answerTool, retrieveTool } from '../retrievalTools.ts';
import { ProgramLoop } from '../ProgramLoop.ts';
import { answerCallKey, retrieveCallKey, ToolResultCache } from '../ToolResultCache.ts';
import { citationOf, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';
import type { Citation } from '../../../../preload/TraceEvent.ts';
import {
  emitGivenSubQuestions,
  givenSubQuestionsOf,
  givenSubQuestionsOptions,
} from '../givenSubQuestions.ts';
import {
  DECOMPOSITION_SCHEMA,
  decomposeMessages,
  fallbackProgram,
  fixMessages,
  planMessages,
} from './pyragPrompts.ts';

/** k of a boosted retrieve() call (the paper's 10). */
export const BOOSTED_TOP_K = 10;
/** Decomposition attempts before falling back to the question itself (the paper's 3). */
export const DEFAULT_MAX_DECOMPOSE_ATTEMPTS = 3;
/** Temperature of decomposition retries (the first try is greedy). */
const RETRY_TEMPERATURE = 0.7;

export const pyragOptionsSchema = z
  .object({
    boostedTopK: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(BOOSTED_TOP_K)
      .describe('k of a retrieve() call boosted after a sentinel answer. Default 10 (the paper).'),
    adaptiveRetrieval: z
      .boolean()
      .default(true)
      .describe('Boost the retrieval behind a sentinel answer and run the program again. Default true.'),
    reuseUnchangedCalls: z
      .boolean()
      .default(true)
      .describe(
        'In the boosted re-run, serve tool calls whose inputs did not change from the first run instead of asking again (answers are greedy, so the model would say the same). Default true.',
      ),
    maxDecomposeAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(DEFAULT_MAX_DECOMPOSE_ATTEMPTS)
      .describe('Decomposition attempts before the question itself is used. Default 3.'),
    maxProgramAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe('Program-writing attempts per plan or repair (syntax errors fed back). Default 3.'),
    maxRepairs: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe('Repair rounds after a runtime failure. Default 3.'),
    constrainPrograms: z
      .boolean()
      .default(true)
      .describe(
        'Generate programs under a grammar of the allowed program subset where the model backend supports it (local GGUF models), so every program parses. Default true.',
      ),
    decomposeMaxTokens: z
      .number()
      .int()
      .min(16)
      .max(8192)
      .default(256)
      .describe('Token budget of decomposition. Default 256.'),
    planMaxTokens: z
      .number()
      .int()
      .min(64)
      .max(8192)
      .default(768)
      .describe('Token budget of one program. Default 768.'),
    answerMaxTokens: z
      .number()
      .int()
      .min(16)
      .max(8192)
      .default(256)
      .describe('Token budget of one answer() call. Default 256.'),
    ...givenSubQuestionsOptions,
  })
  .strict();
export type PyragOptions = z.output<typeof pyragOptionsSchema>;

/** The figures PyRAG reports besides the program loop's. */
export const PYRAG_METRICS = {
  boosts: { label: 'Boosts', description: 'retrieve() calls boosted to a larger k after a sentinel answer' },
  boostPath: {
    label: 'Boost path',
    description: 'Which adaptive-retrieval path fired: sentinel-answer, sentinel-final, both, or none',
  },
  cachedCalls: {
    label: 'Cached calls',
    description: 'Tool calls of the boosted re-run served from the first run (inputs unchanged)',
  },
  decompositionFallback: {
    label: 'Decomposition fallback',
    description: 'Whether decomposition failed and the question itself was used',
  },
  givenSubQuestions: {
    label: 'Given sub-questions',
    description:
      'Sub-questions given instead of decomposed (givenSubQuestions; the gold ones in an oracle evaluation); 0 when the model decomposed',
  },
  constrainedPrograms: {
    label: 'Grammar-constrained programs',
    description:
      'Whether programs were generated under the program grammar (a backend that enforces grammars)',
  },
  fallbackProgram: {
    label: 'Fallback program',
    description: 'Whether no written program parsed and the built-in one-hop program ran',
  },
} as const;

interface RetrieveRecord {
  ordinal: number;
  callIndex: number;
  /** k the program asked for (the run's k when it gave none). */
  k: number;
  docs: RetrievedDoc[];
}

interface AnswerRecord {
  callIndex: number;
  docs: RetrievedDoc[];
  parsed: ParsedAnswer;
}

/** What one execution's tools saw, and the cache of its calls for a re-run. */
interface ExecutionLog {
  retrieves: RetrieveRecord[];
  answers: AnswerRecord[];
  /** Results by call inputs, and the calls served from the previous execution's. */
  calls: ToolResultCache<RetrievedDoc[] | ParsedAnswer>;
}

interface Boost {
  ordinal: number;
  callIndex: number;
  fromK: number;
  path: 'sentinel-answer' | 'sentinel-final';
  sentinel: string;
}

export async function runPyrag(context: StrategyContext<PyragOptions>): Promise<StrategyOutcome> {
  const { question, options, emit, now } = context;
  const phaseMs: Record<string, number> = {};
  const loop = new ProgramLoop(context, phaseMs, {
    maxAttempts: options.maxProgramAttempts,
    maxTokens: options.planMaxTokens,
    constrain: options.constrainPrograms,
    checkResult: (value) =>
      value === undefined || value === null
        ? {
            kind: 'RuntimeError',
            message:
              'The program returned nothing. It must end with: return await answer(`Given: … Answer the question: …`);',
          }
        : undefined,
  });
  const figures = {
    boosts: 0,
    boostPath: 'none',
    cachedCalls: 0,
    decompositionFallback: false,
    givenSubQuestions: givenSubQuestionsOf(options.givenSubQuestions).length,
    fallbackProgram: false,
    constrainedPrograms: loop.constrained,
  };

  // 1. Decompose.
  const decomposition =
    givenSubQuestionsOf(options.givenSubQuestions).length > 0
      ? useGivenSubQuestions(context)
      : await timePhase(phaseMs, 'decompose', now, () => decompose(context));
  const subQuestions = decomposition.subQuestions;
  figures.decompositionFallback = decomposition.fallback;
  const fix = (code: string, problem: Parameters<typeof fixMessages>[3]): ReturnType<typeof fixMessages> =>
    fixMessages(question, subQuestions, code, problem);

  // 2. Plan.
  let program = await loop.write({
    messages: planMessages(question, subQuestions),
    purpose: 'plan',
    feedback: fix,
  });
  if (!program) {
    const fallback = await loop.adopt(fallbackProgram(question), 'fallback');
    if (!('script' in fallback))
      throw new Error(`The built-in fallback program does not parse: ${fallback.message}`);
    program = fallback;
    figures.fallbackProgram = true;
  }

  // 3. Execute, repairing runtime failures.
  let log = newLog();
  const first = await loop.executeWithRepairs(program, {
    tools: () => {
      log = newLog();
      return { tools: pyragTools(context, log, new Map()) };
    },
    repair: fix,
    maxRepairs: options.maxRepairs,
  });
  program = first.program;
  let execution = first.execution;
  let finalLog = log;

  // 4. Adaptive retrieval: boost every retrieve() behind a sentinel and run once more.
  if (!execution.failure && options.adaptiveRetrieval) {
    const boosts = chooseBoosts(finalLog, execution.value, options.boostedTopK);
    if (boosts.length > 0) {
      figures.boosts = boosts.length;
      const paths = new Set(boosts.map((boost) => boost.path));
      figures.boostPath = paths.size > 1 ? 'both' : boosts[0]!.path;
      for (const boost of boosts) {
        emit({
          type: 'retrieval-boosted',
          callIndex: boost.callIndex,
          fromK: boost.fromK,
          toK: options.boostedTopK,
          path: boost.path,
          sentinel: boost.sentinel,
        });
      }
      const boostedK = new Map(boosts.map((boost) => [boost.ordinal, options.boostedTopK]));
      const previous = options.reuseUnchangedCalls ? finalLog : undefined;
      const before = { program, execution, log: finalLog };
      const boosted = await loop.executeWithRepairs(program, {
        tools: () => {
          log = newLog(previous);
          const calls = log.calls;
          return {
            tools: pyragTools(context, log, boostedK),
            boosted: boosts.map((boost) => ({ callIndex: boost.callIndex, k: options.boostedTopK })),
            isCached: (callIndex) => calls.isCached(callIndex),
          };
        },
        repair: fix,
        maxRepairs: options.maxRepairs,
      });
      figures.cachedCalls = log.calls.cached.size;
      if (boosted.execution.failure) {
        // A boosted run that still fails after its repairs keeps the earlier, working result.
        loop.settle(before.program, before.execution);
        program = before.program;
        execution = before.execution;
        finalLog = before.log;
      } else {
        program = boosted.program;
        execution = boosted.execution;
        finalLog = log;
      }
    }
  }

  // 5. Outcome.
  const metrics = { phaseMs, program: loop.metrics, strategy: figures };
  if (execution.failure) {
    return {
      answer: null,
      reasoning: null,
      citations: [],
      failure: loop.failureOf(execution.failure),
      metrics,
    };
  }
  const answer = answerText(execution.value);
  const finalCall = [...finalLog.answers].reverse().find((call) => call.parsed.answer === answer);
  return {
    answer,
    reasoning: finalCall?.parsed.reasoning ?? null,
    citations: citationsOf(finalLog),
    failure: null,
    metrics,
  };
}

/** A fresh log; with `previous`, calls whose inputs equal one of its calls are served from it. */
function newLog(previous?: ExecutionLog): ExecutionLog {
  return { retrieves: [], answers: [], calls: new ToolResultCache(previous?.calls.results) };
}

/** The program's value as the answer text. */
function answerText(value: JsonValue | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? '');
}

/**
 * The retrieve() and answer() tools of one execution. `boostedK` raises the k of retrieve calls by
 * ordinal; a call whose inputs equal one of the previous execution's (the log's cache) is served
 * from it (in order) and marked cached.
 */
function pyragTools(
  context: StrategyContext<PyragOptions>,
  log: ExecutionLog,
  boostedK: ReadonlyMap<number, number>,
): HostTools {
  const { calls } = log;
  return {
    retrieve: retrieveTool(async ({ query, k }, call: HostCallContext) => {
      const ordinal = log.retrieves.length;
      const requested = k ?? context.topK;
      const effective = Math.max(boostedK.get(ordinal) ?? 0, requested);
      const record: RetrieveRecord = { ordinal, callIndex: call.callIndex, k: requested, docs: [] };
      log.retrieves.push(record);
      const key = retrieveCallKey(query, effective);
      const docs =
        (calls.reuse(key, call.callIndex) as RetrievedDoc[] | undefined) ??
        (await context.retrieve(query, effective, call.signal));
      record.docs = docs;
      calls.remember(key, docs);
      return docs;
    }),
    answer: answerTool(async ({ question, docs }, call: HostCallContext) => {
      const given = docs ?? [];
      const key = answerCallKey(question, given);
      const parsed =
        (calls.reuse(key, call.callIndex) as ParsedAnswer | undefined) ??
        (await callAnswerModel(context.llm, question, docs, {
          maxTokens: context.options.answerMaxTokens,
          signal: call.signal,
        }));
      log.answers.push({ callIndex: call.callIndex, docs: given, parsed });
      calls.remember(key, parsed);
      return parsed.answer;
    }),
  };
}

/**
 * PyRAG's two adaptive-retrieval paths: every answer() whose answer is a sentinel boosts the
 * retrieve() that fed it; a sentinel as the program's result boosts the last retrieve(). Calls
 * already at or above `boostedTopK` are left alone; each retrieve is boosted once.
 */
function chooseBoosts(log: ExecutionLog, value: JsonValue | undefined, boostedTopK: number): Boost[] {
  const boosts = new Map<number, Boost>();
  const add = (ordinal: number | undefined, path: Boost['path'], sentinel: string): void => {
    if (ordinal === undefined || boosts.has(ordinal)) return;
    const target = log.retrieves[ordinal]!;
    if (target.k >= boostedTopK) return;
    boosts.set(ordinal, { ordinal, callIndex: target.callIndex, fromK: target.k, path, sentinel });
  };
  for (const call of log.answers) {
    const sentinel = matchSentinel(call.parsed.answer);
    if (!sentinel || call.docs.length === 0) continue;
    for (const ordinal of feedingRetrieves(log.retrieves, call.docs))
      add(ordinal, 'sentinel-answer', sentinel);
  }
  const finalSentinel = matchSentinel(answerText(value));
  if (finalSentinel && log.retrieves.length > 0)
    add(log.retrieves.length - 1, 'sentinel-final', finalSentinel);
  return [...boosts.values()].sort((a, b) => a.ordinal - b.ordinal);
}

/**
 * The retrieve() calls that fed an answer(): those whose results overlap most with the documents it
 * was given, a call whose results are exactly those documents (same order) ahead of the rest. When
 * several calls remain tied (two searches that found the same passages), all of them are returned,
 * so that the one that really fed the answer is boosted. Documents the program passed as strings
 * (id -1) are matched by their text, so `answer(q, docs.map(d => d.text))` still maps back.
 */
function feedingRetrieves(retrieves: readonly RetrieveRecord[], docs: readonly RetrievedDoc[]): number[] {
  const key = (doc: RetrievedDoc): string => (doc.id >= 0 ? `#${doc.id}` : doc.text);
  const given = docs.map(key);
  let best: number[] = [];
  let bestScore = 0;
  for (const call of retrieves) {
    const found = call.docs.map((doc) => [`#${doc.id}`, doc.text]);
    const overlap = given.filter((k) => found.some((pair) => pair.includes(k))).length;
    const exact = given.length === found.length && given.every((k, i) => found[i]!.includes(k)) ? 0.5 : 0;
    const score = overlap + exact;
    if (overlap === 0 || score < bestScore) continue;
    if (score > bestScore) best = [];
    best.push(call.ordinal);
    bestScore = score;
  }
  return best;
}

/**
 * Chunks the answers relied on: those cited as [n], or all given documents when none were cited;
 * never the documents of a sentinel answer. A document the program passed as a string is cited as
 * the retrieved chunk with the same text.
 */
function citationsOf(log: ExecutionLog): Citation[] {
  const byText = new Map<string, RetrievedDoc>();
  for (const call of log.retrieves)
    for (const doc of call.docs) if (!byText.has(doc.text)) byText.set(doc.text, doc);
  const seen = new Map<number, Citation>();
  for (const call of log.answers) {
    if (call.docs.length === 0 || matchSentinel(call.parsed.answer)) continue;
    const cited = call.parsed.citedDocs
      .map((n) => call.docs[n - 1])
      .filter((doc): doc is RetrievedDoc => doc !== undefined);
    for (const given of cited.length > 0 ? cited : call.docs) {
      const doc = given.id >= 0 ? given : byText.get(given.text);
      if (!doc || doc.id < 0 || seen.has(doc.id)) continue;
      seen.set(doc.id, citationOf(doc));
    }
  }
  return [...seen.values()];
}

/** The given sub-questions as the decomposition, said in the trace (no model call). */
function useGivenSubQuestions(context: StrategyContext<PyragOptions>): {
  subQuestions: string[];
  fallback: boolean;
} {
  const subQuestions = givenSubQuestionsOf(context.options.givenSubQuestions);
  const source = context.options.givenSubQuestionsSource;
  emitGivenSubQuestions(context, {
    subQuestions,
    source,
    detail: 'The program is written over them: one retrieve() and one answer() per sub-question.',
  });
  // attempts 0: no decomposition call was made.
  context.emit({ type: 'decomposition', subQuestions, attempts: 0, fallback: false });
  return { subQuestions, fallback: false };
}

async function decompose(
  context: StrategyContext<PyragOptions>,
): Promise<{ subQuestions: string[]; fallback: boolean }> {
  const { question, options, llm, emit, signal } = context;
  for (let attempt = 1; attempt <= options.maxDecomposeAttempts; attempt++) {
    const output = await llm.generate({
      role: 'decompose',
      messages: decomposeMessages(question),
      jsonSchema: DECOMPOSITION_SCHEMA,
      maxTokens: options.decomposeMaxTokens,
      temperature: attempt === 1 ? 0 : RETRY_TEMPERATURE,
      signal,
    });
    const parsed = parseSubQuestions(output.text);
    if (parsed) {
      emit({ type: 'decomposition', subQuestions: parsed, attempts: attempt, fallback: false });
      return { subQuestions: parsed, fallback: false };
    }
  }
  emit({
    type: 'decomposition',
    subQuestions: [question],
    attempts: options.maxDecomposeAttempts,
    fallback: true,
  });
  return { subQuestions: [question], fallback: true };
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
