/**
 * PROGRAM ("Programmatic Retrieval Optimization with Generative Reasoning and Augmented
 * Multi-queries"): retrieval as typed reasoning programs, keeping those the evidence supports.
 *
 * 1. Types. The model picks the program types that apply to the question from the configured set
 *    (programTypes.ts), as JSON under a schema; at most `maxPrograms`, each one program.
 *    With `givenSubQuestions` (givenSubQuestions.ts) steps 1 and 2 are skipped: each given
 *    sub-question, in order, is one program of type "Given sub-question" (GIVEN_SUB_QUESTION_TYPE)
 *    whose sub-query is that sub-question — all of them, `maxPrograms` does not apply — and steps 3
 *    and 4 run unchanged. Evaluation's oracle mode gives the gold decomposition (earlier gold answers
 *    substituted for #1, #2 …), so decomposition is the oracle's and retrieval and reading the method's.
 * 2. Sub-query. Per type the model writes M candidate sub-queries (JSON). Each is scored
 *    IG + α·sim: IG is the KL divergence between the evidence distribution retrieved for
 *    "<type>: <candidate>" and for the type alone (programStatistics.evidenceKl over the top-n of
 *    each), divided by its maximum ln(|U|/ε) when `igNormalize` is on so both terms lie in [0, 1];
 *    sim is the similarity of the candidate to the question. The argmax is the program's sub-query,
 *    which retrieves the run's top-k as the program's first evidence.
 * 3. Pruning, for up to T rounds. A program's support sample is the similarity of its sub-query to
 *    each document it holds; its support score is their mean. Each active program's sample is
 *    t-tested (one-sample, one-sided: is its mean below?) against the group mean — the mean support of the
 *    surviving (active and locked) programs — and pruned when p < `pruneLevel`. Samples of fewer
 *    than 2 documents, zero variance, or a group of fewer than 2 programs with evidence mean no test
 *    (and no pruning). The model then judges each remaining active program's evidence (JSON); a
 *    sufficient one is locked: it keeps its evidence and stops retrieving. The others retrieve more:
 *    `next-page` asks for the sub-query's next k passages (k·(page+1), keeping the new ones);
 *    `new-query` retrieves k with the query the judgement proposed (the next page when it proposed
 *    none). Stop after round T, when at most one program is active, or when no active program found
 *    a new document.
 * 4. Answer. The evidence of every surviving program is pooled (each chunk once), reranked against
 *    the question, and the top k answered with a few-shot chain of thought in the shared answer
 *    format. The reranker (`reranker` option, programReranker.ts) is by default the installed
 *    cross-encoder, else embedding similarity, else the lexical fallback (TF-IDF cosine); the trace
 *    says which (`cross-encoder:<id>`, `embedding`, `lexical`, or `retrieval-order` for none).
 *
 * Without an embedding model every similarity above is the lexical fallback (programSimilarity.ts),
 * named in the trace ("similarity" step) and in the figures.
 */
import { z } from 'zod';
import type { ChatMessage, JsonSchema } from '../../models/LlmBackend.ts';
import type { RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import { ReckonError } from '../../errors.ts';
import { DEFAULT_ANSWER_MAX_TOKENS, parseAnswerOutput } from '../answerFormat.ts';
import { citationsOfAnswer, DocumentPool, retrievalStep, summarizeDocs } from '../retrievalStep.ts';
import { defineStrategy, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';
import {
  candidatesMessages,
  candidatesSchema,
  programAnswerMessages,
  SUFFICIENCY_SCHEMA,
  sufficiencyMessages,
  typeSelectionMessages,
  typeSelectionSchema,
} from './programPrompts.ts';
import { createSimilarity, type Similarity } from './programSimilarity.ts';
import {
  choosePoolReranker,
  describePoolReranker,
  PROGRAM_RERANKER_CHOICES,
  type PoolReranker,
} from './programReranker.ts';
import { evidenceKl, mean, oneSampleTTestLess, type TTestResult } from './programStatistics.ts';
import {
  GIVEN_SUB_QUESTION_TYPE,
  PROGRAM_TYPE_SETS,
  programTypesOf,
  type ProgramType,
} from './programTypes.ts';
import {
  emitGivenSubQuestions,
  givenSubQuestionsOf,
  givenSubQuestionsOptions,
} from '../givenSubQuestions.ts';

/** Candidate sub-queries per type (the paper's M). */
export const DEFAULT_PROGRAM_CANDIDATES = 3;
/** Rounds of active program pruning (the paper's T). */
export const DEFAULT_PROGRAM_MAX_ROUNDS = 7;
/** Significance level of the pruning t-test. */
export const DEFAULT_PROGRAM_PRUNE_LEVEL = 0.05;
/** Weight α of semantic similarity against information gain. */
export const DEFAULT_PROGRAM_ALPHA = 1;
/** Length n of each top-n list the information-gain estimate compares. */
export const DEFAULT_PROGRAM_IG_TOP_N = 10;
/** Softmax temperature over min-max-normalized retrieval scores. */
export const DEFAULT_PROGRAM_IG_TEMPERATURE = 0.5;
/** Uniform smoothing ε of the evidence distributions. */
export const DEFAULT_PROGRAM_IG_SMOOTHING = 0.05;
/** Most program types (programs) per question. */
export const DEFAULT_PROGRAM_MAX_PROGRAMS = 4;
/** Tries of each JSON request (type selection, candidates, judgement) before its fallback. */
export const DEFAULT_PROGRAM_JSON_ATTEMPTS = 3;
/** Temperature of JSON retries (the first try is greedy). */
const RETRY_TEMPERATURE = 0.7;

export const programOptionsSchema = z
  .object({
    typeSet: z
      .enum(PROGRAM_TYPE_SETS)
      .default('basic+advanced')
      .describe(
        'Program types the model may pick: basic (the 10 basic types), basic+advanced (plus the 10 general advanced types: Multi-hop, Entity Linking, Relation Extraction, Bridge Entity, Multi-Task, Causal Chain, Scientific Reasoning, Knowledge Integration, Analogical Reasoning, Hypothesis Testing) or all (plus the domain-specific ones: Diagnosis, Symptom Analysis, Treatment Reasoning, Medical Condition, Domain-Specific). Default basic+advanced.',
      ),
    maxPrograms: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(DEFAULT_PROGRAM_MAX_PROGRAMS)
      .describe(
        `Most program types kept from the model's pick, in its order (one program each). Default ${DEFAULT_PROGRAM_MAX_PROGRAMS}.`,
      ),
    candidates: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(DEFAULT_PROGRAM_CANDIDATES)
      .describe(
        `Candidate sub-queries the model writes per type (M). Default ${DEFAULT_PROGRAM_CANDIDATES}.`,
      ),
    alpha: z
      .number()
      .min(0)
      .max(10)
      .default(DEFAULT_PROGRAM_ALPHA)
      .describe(
        `Weight α of a candidate's similarity to the question in score = information gain + α·similarity. Default ${DEFAULT_PROGRAM_ALPHA}.`,
      ),
    igTopN: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(DEFAULT_PROGRAM_IG_TOP_N)
      .describe(
        `Passages n retrieved for the candidate+type query and for the type alone, whose score distributions the information gain compares. Default ${DEFAULT_PROGRAM_IG_TOP_N}.`,
      ),
    igTemperature: z
      .number()
      .min(0.01)
      .max(10)
      .default(DEFAULT_PROGRAM_IG_TEMPERATURE)
      .describe(
        `Softmax temperature over each list's min-max-normalized retrieval scores (lower is peakier). Default ${DEFAULT_PROGRAM_IG_TEMPERATURE}.`,
      ),
    igSmoothing: z
      .number()
      .min(0.001)
      .max(0.5)
      .default(DEFAULT_PROGRAM_IG_SMOOTHING)
      .describe(
        `Share ε of probability spread uniformly over the union of both lists, so the KL divergence stays finite. Default ${DEFAULT_PROGRAM_IG_SMOOTHING}.`,
      ),
    igNormalize: z
      .boolean()
      .default(true)
      .describe(
        'Divide the KL divergence by its maximum ln(|union| / ε), so information gain lies in [0, 1] like similarity. Default true.',
      ),
    typePriorQuery: z
      .enum(['type', 'type-and-question'])
      .default('type')
      .describe(
        'The query of the "type alone" distribution: the type name and description (type, the paper\'s definition) or the type name and the question (type-and-question: gain over what the question itself retrieves). Default type.',
      ),
    maxRounds: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(DEFAULT_PROGRAM_MAX_ROUNDS)
      .describe(`Rounds of active program pruning (T). Default ${DEFAULT_PROGRAM_MAX_ROUNDS}.`),
    pruneLevel: z
      .number()
      .min(0.0001)
      .max(0.5)
      .default(DEFAULT_PROGRAM_PRUNE_LEVEL)
      .describe(
        `Significance level of the one-sided one-sample t-test of a program's support against the group mean; p below it prunes the program. Default ${DEFAULT_PROGRAM_PRUNE_LEVEL}.`,
      ),
    moreEvidence: z
      .enum(['next-page', 'new-query'])
      .default('next-page')
      .describe(
        "How an insufficient program retrieves more: next-page (the sub-query's next k passages) or new-query (the query the sufficiency judgement proposed; the next page when it proposed none). Default next-page.",
      ),
    reranker: z
      .enum(PROGRAM_RERANKER_CHOICES)
      .default('auto')
      .describe(
        "What reranks the pooled evidence against the question: auto (the installed cross-encoder, else embedding similarity, else BM25 — each passage's Okapi BM25 score for the question, IDF over the pool), cross-encoder (an error when none is installed), embedding (an error when the corpus has no embedding model), bm25, or none (keep the order of retrieval scores). Default auto.",
      ),
    finalTopK: z
      .number()
      .int()
      .min(0)
      .max(50)
      .default(0)
      .describe("Pooled passages kept after reranking for the answer; 0 means the run's top-k. Default 0."),
    jsonAttempts: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(DEFAULT_PROGRAM_JSON_ATTEMPTS)
      .describe(
        `Tries of each JSON request before its fallback: type selection fails the run, candidates fall back to the question, a judgement counts as insufficient. Default ${DEFAULT_PROGRAM_JSON_ATTEMPTS}.`,
      ),
    typesMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(2048)
      .default(128)
      .describe('Token budget of type selection. Default 128.'),
    candidatesMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(2048)
      .default(256)
      .describe("Token budget of one type's candidate sub-queries. Default 256."),
    judgeMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(2048)
      .default(128)
      .describe('Token budget of one sufficiency judgement. Default 128.'),
    answerMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(8192)
      .default(DEFAULT_ANSWER_MAX_TOKENS)
      .describe(`Token budget of the chain-of-thought answer. Default ${DEFAULT_ANSWER_MAX_TOKENS}.`),
    ...givenSubQuestionsOptions,
  })
  .strict();
export type ProgramOptions = z.output<typeof programOptionsSchema>;

export const PROGRAM_METRICS = {
  types: {
    label: 'Program types',
    description: 'The types the model picked, in its order ("Given sub-question" for given ones)',
  },
  givenSubQuestions: {
    label: 'Given sub-questions',
    description:
      'Sub-questions given as programs instead of picked types and candidates (givenSubQuestions; the gold ones in an oracle evaluation); 0 when the model chose',
  },
  programs: { label: 'Programs', description: 'Programs run (one per picked type)' },
  rounds: { label: 'Rounds', description: 'Pruning rounds run' },
  pruned: { label: 'Pruned', description: 'Programs pruned by the t-test' },
  locked: { label: 'Locked', description: 'Programs whose evidence the model judged sufficient' },
  activeAtEnd: { label: 'Active at end', description: 'Programs still active when the rounds stopped' },
  stopReason: {
    label: 'Stop reason',
    description: 'Why the rounds ended: max-rounds, one-active, all-locked or no-new-evidence',
  },
  similarity: {
    label: 'Similarity',
    description: 'embedding (the corpus embedding model) or lexical (TF-IDF cosine fallback)',
  },
  reranker: {
    label: 'Reranker',
    description:
      'What reranked the pool: cross-encoder:<model>, embedding, bm25, or retrieval-order (reranker=none)',
  },
  retrievals: { label: 'Retrievals', description: 'Retrieval calls, information-gain lists included' },
  documentsPooled: { label: 'Documents pooled', description: 'Distinct passages of the surviving programs' },
  documentsRead: { label: 'Documents read', description: 'Passages kept after reranking and answered over' },
  candidateFallbacks: {
    label: 'Candidate fallbacks',
    description: 'Types whose candidates were never valid JSON, so the question was the sub-query',
  },
  judgementFailures: {
    label: 'Judgement failures',
    description: 'Sufficiency judgements never valid JSON (counted as insufficient)',
  },
} as const;

type ProgramStatus = 'active' | 'locked' | 'pruned';
type StopReason = 'max-rounds' | 'one-active' | 'all-locked' | 'no-new-evidence';

interface ProgramState {
  index: number;
  type: ProgramType;
  subQuery: string;
  pool: DocumentPool;
  status: ProgramStatus;
  /** Pages of the sub-query retrieved so far (next-page asks for k·(page+1)). */
  page: number;
  /** Queries already retrieved with (new-query never repeats one). */
  queries: Set<string>;
  /** Similarity of the sub-query to each held document, by chunk id (cached across rounds). */
  similarities: Map<number, number>;
  /** The query the last judgement proposed. */
  nextQuery: string;
}

/** One program's line of a round's table, as the "program-round" step carries it. */
export interface ProgramRoundRow {
  program: number;
  type: string;
  subQuery: string;
  documents: number;
  support: number | null;
  test: 'performed' | 'too-few' | 'zero-variance' | 'small-group' | 'locked';
  t: number | null;
  df: number | null;
  pValue: number | null;
  sufficient: boolean | null;
  judgementFailed: boolean;
  status: ProgramStatus;
}

/**
 * Runs PROGRAM (roles: "program-types", "program-candidates", "program-sufficiency",
 * "program-answer"). Steps: "similarity", "program-types", "program-candidates" (one per type),
 * "program-retrieval", "program-round" (one per round: the program table), "program-pool",
 * "program-rerank". Throws ReckonError CORPUS_REQUIRED without a corpus, RERANKER_UNAVAILABLE (before
 * any model call) when the `reranker` asked for by name is not there; returns a failure
 * (`invalid_json`) when type selection never yields valid JSON; model and retrieval errors propagate.
 */
export async function runProgramStrategy(context: StrategyContext<ProgramOptions>): Promise<StrategyOutcome> {
  const { question, options, llm, emit, now, signal, topK } = context;
  if (!context.hasCorpus)
    throw new ReckonError(
      'CORPUS_REQUIRED',
      'The PROGRAM strategy retrieves evidence for each program from a corpus; choose one to search.',
    );
  const phaseMs: Record<string, number> = {};
  let retrievals = 0;
  const search = (query: string, k: number): Promise<RetrievedDoc[]> => {
    retrievals++;
    return context.retrieve(query, k, signal);
  };

  // Which similarity the whole run uses, decided once and said once.
  const similarity = await timePhase(phaseMs, 'similarity', now, () => createSimilarity(context, question));
  // The reranker too, so a reranker asked for by name that is not there fails before any model call.
  const reranker = await timePhase(phaseMs, 'load-reranker', now, () =>
    choosePoolReranker(context, options.reranker, similarity),
  );
  emit({
    type: 'step',
    kind: 'similarity',
    title: `${
      similarity.kind === 'embedding'
        ? 'Similarity: cosine of the corpus embedding model'
        : 'Similarity: lexical fallback (TF-IDF cosine) — this corpus has no embedding model'
    }; reranker: ${describePoolReranker(reranker)}`,
    detail: reranker.crossEncoderUnavailable && `No cross-encoder: ${reranker.crossEncoderUnavailable}`,
    data: {
      similarity: similarity.kind,
      reranker: reranker.label,
      rerankerChoice: options.reranker,
      crossEncoder: reranker.kind === 'cross-encoder',
      crossEncoderUnavailable: reranker.crossEncoderUnavailable,
    },
  });

  // 1–2. Programs: the given sub-questions, or picked types and their best candidate sub-queries.
  let types: ProgramType[];
  const programs: ProgramState[] = [];
  let candidateFallbacks = 0;
  const addProgram = (type: ProgramType, subQuery: string): void => {
    programs.push({
      index: programs.length,
      type,
      subQuery,
      pool: new DocumentPool(),
      status: 'active',
      page: 1,
      queries: new Set([subQuery]),
      similarities: new Map(),
      nextQuery: '',
    });
  };
  if (givenSubQuestionsOf(options.givenSubQuestions).length > 0) {
    const given = givenSubQuestionsOf(options.givenSubQuestions);
    types = given.map(() => GIVEN_SUB_QUESTION_TYPE);
    emitGivenSubQuestions(context, {
      subQuestions: given,
      source: options.givenSubQuestionsSource,
      detail: `Each is one program of type "${GIVEN_SUB_QUESTION_TYPE.name}" in place of type selection and candidate sub-queries; pruning, locking, rerank and answer are unchanged.`,
    });
    emit({
      type: 'step',
      kind: 'program-types',
      title: `Program types: none picked — ${given.length} given sub-question${given.length === 1 ? '' : 's'}, one program each`,
      detail: null,
      data: {
        typeSet: options.typeSet,
        offered: 0,
        attempts: 0,
        types: types.map((type) => type.name),
        given: true,
        source: options.givenSubQuestionsSource,
      },
    });
    for (const subQuestion of given) addProgram(GIVEN_SUB_QUESTION_TYPE, subQuestion);
  } else {
    const offered = programTypesOf(options.typeSet);
    const selection = await timePhase(phaseMs, 'select-types', now, () =>
      requestJson(context, {
        role: 'program-types',
        messages: typeSelectionMessages(question, offered),
        schema: typeSelectionSchema(offered, options.maxPrograms),
        maxTokens: options.typesMaxTokens,
        read: (value) => readTypes(value, offered),
      }),
    );
    if (!selection.value) {
      emit({
        type: 'step',
        kind: 'program-types',
        title: 'Program types: no valid choice',
        detail: selection.lastOutput,
        data: { typeSet: options.typeSet, offered: offered.length, attempts: selection.attempts, types: [] },
      });
      return failed(
        phaseMs,
        'invalid_json',
        `The model did not pick program types as valid JSON in ${selection.attempts} tr${selection.attempts === 1 ? 'y' : 'ies'}. Try a larger model, or another strategy.`,
        similarity,
        reranker,
        retrievals,
      );
    }
    types = selection.value.slice(0, options.maxPrograms);
    emit({
      type: 'step',
      kind: 'program-types',
      title: `Program types: ${types.map((type) => type.name).join(', ')}`,
      detail: null,
      data: {
        typeSet: options.typeSet,
        offered: offered.length,
        attempts: selection.attempts,
        types: types.map((type) => type.name),
        dropped: selection.value.slice(options.maxPrograms).map((type) => type.name),
      },
    });

    // 2. Candidate sub-queries, scored; the argmax becomes the program's sub-query.
    for (const [index, type] of types.entries()) {
      const chosen = await timePhase(phaseMs, 'candidates', now, () =>
        chooseSubQuery(context, { index, type, similarity, search }),
      );
      if (chosen.fallback) candidateFallbacks++;
      addProgram(type, chosen.subQuery);
    }
  }
  for (const program of programs) {
    retrievals++;
    await timePhase(phaseMs, 'retrieve', now, () =>
      retrievalStep(context, {
        query: program.subQuery,
        k: topK,
        kind: 'program-retrieval',
        title: `Program ${program.index + 1} (${program.type.name}) retrieved`,
        data: { program: program.index, type: program.type.name, round: 0 },
        pool: program.pool,
      }),
    );
  }

  // 3. Active program pruning.
  let rounds = 0;
  let judgementFailures = 0;
  let stopReason: StopReason = activeOf(programs).length <= 1 ? 'one-active' : 'max-rounds';
  while (activeOf(programs).length > 1 && rounds < options.maxRounds) {
    rounds++;
    const round = rounds;
    const { rows, groupMean } = await timePhase(phaseMs, 'prune', now, () =>
      pruneRound(programs, similarity, options, signal),
    );
    for (const program of activeOf(programs)) {
      const judged = await timePhase(phaseMs, 'judge', now, () => judge(context, program));
      const row = rows.find((candidate) => candidate.program === program.index)!;
      row.sufficient = judged.sufficient;
      row.judgementFailed = judged.failed;
      if (judged.failed) judgementFailures++;
      program.nextQuery = judged.nextQuery;
      if (judged.sufficient) program.status = 'locked';
      row.status = program.status;
    }
    const active = activeOf(programs);
    emit({
      type: 'step',
      kind: 'program-round',
      title: `Round ${round}: ${active.length} active, ${count(programs, 'locked')} locked, ${count(programs, 'pruned')} pruned`,
      detail: null,
      data: {
        round,
        level: options.pruneLevel,
        groupMean,
        programs: rows,
        prunedNow: rows
          .filter((row) => row.status === 'pruned' && row.test === 'performed')
          .map((r) => r.program),
        lockedNow: rows.filter((row) => row.sufficient === true).map((row) => row.program),
      },
    });
    if (active.length === 0) {
      stopReason = 'all-locked';
      break;
    }
    if (active.length === 1) {
      stopReason = 'one-active';
      break;
    }
    if (round === options.maxRounds) {
      stopReason = 'max-rounds';
      break;
    }
    let found = 0;
    for (const program of active) {
      retrievals++;
      found += await timePhase(phaseMs, 'retrieve', now, () => retrieveMore(context, program, round));
    }
    if (found === 0) {
      stopReason = 'no-new-evidence';
      break;
    }
  }

  // 4. Pool, rerank, answer.
  const survivors = programs.filter((program) => program.status !== 'pruned');
  const pool = new DocumentPool();
  for (const program of survivors) pool.add(program.pool.docs());
  const pooled = pool.docs();
  emit({
    type: 'step',
    kind: 'program-pool',
    title: `Pooled ${pooled.length} passage${pooled.length === 1 ? '' : 's'} of ${survivors.length} surviving program${survivors.length === 1 ? '' : 's'} (${stopReason})`,
    detail: null,
    data: {
      stopReason,
      rounds,
      programs: programs.map((program) => ({
        program: program.index,
        type: program.type.name,
        subQuery: program.subQuery,
        status: program.status,
        documents: program.pool.size,
      })),
      docs: summarizeDocs(pooled),
    },
  });
  const keep = options.finalTopK > 0 ? options.finalTopK : topK;
  const reranked = await timePhase(phaseMs, 'rerank', now, async () => {
    const scores = await reranker.scores(question, pooled, signal);
    return pooled
      .map((doc, i) => ({ doc, score: scores[i]!, poolRank: i + 1 }))
      .sort((a, b) => b.score - a.score || a.poolRank - b.poolRank);
  });
  const readerDocs = reranked.slice(0, keep).map((entry) => entry.doc);
  emit({
    type: 'step',
    kind: 'program-rerank',
    title: `Reranked by ${describePoolReranker(reranker)}; kept ${readerDocs.length} of ${pooled.length}`,
    detail: null,
    data: {
      reranker: reranker.label,
      kept: readerDocs.length,
      // The kept passages with their rerank scores (what trace printers list).
      docs: reranked
        .slice(0, keep)
        .map((entry) => ({ ...summarizeDocs([entry.doc])[0]!, score: entry.score })),
      order: reranked.map((entry, i) => ({
        id: entry.doc.id,
        title: entry.doc.title,
        score: entry.score,
        // The same score under its earlier name, which the Ask view reads.
        similarity: entry.score,
        poolRank: entry.poolRank,
        kept: i < keep,
      })),
    },
  });
  const output = await timePhase(phaseMs, 'answer', now, () =>
    llm.generate({
      role: 'program-answer',
      messages: programAnswerMessages(question, readerDocs),
      maxTokens: options.answerMaxTokens,
      signal,
    }),
  );
  const parsed = parseAnswerOutput(output.text);
  return {
    answer: parsed.answer,
    reasoning: parsed.reasoning,
    citations: citationsOfAnswer(parsed, readerDocs),
    failure: null,
    metrics: {
      phaseMs,
      program: null,
      strategy: {
        types: types.map((type) => type.name).join(', '),
        givenSubQuestions: givenSubQuestionsOf(options.givenSubQuestions).length,
        programs: programs.length,
        rounds,
        pruned: count(programs, 'pruned'),
        locked: count(programs, 'locked'),
        activeAtEnd: count(programs, 'active'),
        stopReason,
        similarity: similarity.kind,
        reranker: reranker.label,
        retrievals,
        documentsPooled: pooled.length,
        documentsRead: readerDocs.length,
        candidateFallbacks,
        judgementFailures,
      },
    },
  };
}

function activeOf(programs: readonly ProgramState[]): ProgramState[] {
  return programs.filter((program) => program.status === 'active');
}

function count(programs: readonly ProgramState[], status: ProgramStatus): number {
  return programs.filter((program) => program.status === status).length;
}

/**
 * One round's support scores and t-tests; prunes the active programs whose support is significantly
 * below the group mean. The group is every program not pruned before this round (active and
 * locked) that holds evidence; its mean is the mean of their support scores. Locked programs count
 * towards the group but are not tested.
 */
async function pruneRound(
  programs: readonly ProgramState[],
  similarity: Similarity,
  options: ProgramOptions,
  signal: AbortSignal,
): Promise<{ rows: ProgramRoundRow[]; groupMean: number | null }> {
  const surviving = programs.filter((program) => program.status !== 'pruned');
  const samples = new Map<number, number[]>();
  for (const program of surviving)
    samples.set(program.index, await supportSample(program, similarity, signal));
  const supports = surviving.flatMap((program) => {
    const support = mean(samples.get(program.index)!);
    return support === null ? [] : [support];
  });
  const groupMean = mean(supports);
  const rows = surviving.map((program): ProgramRoundRow => {
    const sample = samples.get(program.index)!;
    const row: ProgramRoundRow = {
      program: program.index,
      type: program.type.name,
      subQuery: program.subQuery,
      documents: program.pool.size,
      support: mean(sample),
      test: 'locked',
      t: null,
      df: null,
      pValue: null,
      sufficient: null,
      judgementFailed: false,
      status: program.status,
    };
    if (program.status === 'locked') return row;
    if (groupMean === null || supports.length < 2) return { ...row, test: 'small-group' };
    const test: TTestResult = oneSampleTTestLess(sample, groupMean);
    if (!test.performed) return { ...row, test: test.reason };
    if (test.pValue < options.pruneLevel) program.status = 'pruned';
    return { ...row, test: 'performed', t: test.t, df: test.df, pValue: test.pValue, status: program.status };
  });
  return { rows, groupMean };
}

/** Similarity of the program's sub-query to each document it holds (new documents measured once). */
async function supportSample(
  program: ProgramState,
  similarity: Similarity,
  signal: AbortSignal,
): Promise<number[]> {
  const docs = program.pool.docs();
  const fresh = docs.filter((doc) => !program.similarities.has(doc.id));
  const scores = await similarity.scores(
    program.subQuery,
    fresh.map((doc) => doc.text),
    signal,
  );
  fresh.forEach((doc, i) => program.similarities.set(doc.id, scores[i]!));
  return docs.map((doc) => program.similarities.get(doc.id)!);
}

/** The model's verdict on one program's evidence; invalid JSON after every try counts as insufficient. */
async function judge(
  context: StrategyContext<ProgramOptions>,
  program: ProgramState,
): Promise<{ sufficient: boolean; nextQuery: string; failed: boolean }> {
  const reply = await requestJson(context, {
    role: 'program-sufficiency',
    messages: sufficiencyMessages(context.question, program.type, program.subQuery, program.pool.docs()),
    schema: SUFFICIENCY_SCHEMA,
    maxTokens: context.options.judgeMaxTokens,
    read: readSufficiency,
  });
  return reply.value ? { ...reply.value, failed: false } : { sufficient: false, nextQuery: '', failed: true };
}

/** An insufficient program's next evidence (see moreEvidence); returns how many documents were new. */
async function retrieveMore(
  context: StrategyContext<ProgramOptions>,
  program: ProgramState,
  round: number,
): Promise<number> {
  const { options } = context;
  const proposed = program.nextQuery.trim();
  const useQuery = options.moreEvidence === 'new-query' && proposed !== '' && !program.queries.has(proposed);
  const query = useQuery ? proposed : program.subQuery;
  const k = useQuery ? context.topK : context.topK * (program.page + 1);
  if (useQuery) program.queries.add(proposed);
  else program.page++;
  const before = program.pool.size;
  await retrievalStep(context, {
    query,
    k,
    kind: 'program-retrieval',
    title: `Program ${program.index + 1} (${program.type.name}) retrieved more (${useQuery ? 'new query' : `page ${program.page}`})`,
    data: {
      program: program.index,
      type: program.type.name,
      round,
      how: useQuery ? 'new-query' : 'next-page',
    },
    pool: program.pool,
  });
  return program.pool.size - before;
}

/** M candidates for one type, each scored IG + α·sim; the argmax (first on ties) is chosen. */
async function chooseSubQuery(
  context: StrategyContext<ProgramOptions>,
  {
    index,
    type,
    similarity,
    search,
  }: {
    index: number;
    type: ProgramType;
    similarity: Similarity;
    search: (query: string, k: number) => Promise<RetrievedDoc[]>;
  },
): Promise<{ subQuery: string; fallback: boolean }> {
  const { question, options, emit, signal } = context;
  const reply = await requestJson(context, {
    role: 'program-candidates',
    messages: candidatesMessages(question, type, options.candidates),
    schema: candidatesSchema(options.candidates),
    maxTokens: options.candidatesMaxTokens,
    read: (value) => readCandidates(value, options.candidates),
  });
  const candidates = reply.value ?? [question];
  const priorQuery =
    options.typePriorQuery === 'type' ? `${type.name}: ${type.description}` : `${type.name}: ${question}`;
  const prior = await search(priorQuery, options.igTopN);
  const similarities = await similarity.scores(question, candidates, signal);
  const scored = [];
  for (const [i, candidate] of candidates.entries()) {
    const retrievalQuery = `${type.name}: ${candidate}`;
    const docs = await search(retrievalQuery, options.igTopN);
    const kl = evidenceKl(docs, prior, {
      temperature: options.igTemperature,
      smoothing: options.igSmoothing,
    });
    const informationGain = options.igNormalize ? (kl.maxKl > 0 ? kl.kl / kl.maxKl : 0) : kl.kl;
    const sim = similarities[i]!;
    scored.push({
      query: candidate,
      retrievalQuery,
      informationGain,
      klNats: kl.kl,
      maxKlNats: kl.maxKl,
      union: kl.union,
      shared: kl.shared,
      similarity: sim,
      score: informationGain + options.alpha * sim,
    });
  }
  const best = scored.reduce((a, b) => (b.score > a.score ? b : a));
  emit({
    type: 'step',
    kind: 'program-candidates',
    title: `Program ${index + 1} (${type.name}): ${best.query}`,
    detail: best.query,
    data: {
      program: index,
      type: type.name,
      priorQuery,
      alpha: options.alpha,
      similarity: similarity.kind,
      igNormalized: options.igNormalize,
      attempts: reply.attempts,
      fallback: !reply.value,
      candidates: scored,
      chosen: best.query,
    },
  });
  return { subQuery: best.query, fallback: !reply.value };
}

/**
 * Asks for JSON under `schema` up to `jsonAttempts` times (greedy first, then warmer); `read`
 * turns the parsed value into the result or undefined when it does not fit. Model errors propagate.
 */
async function requestJson<T>(
  context: StrategyContext<ProgramOptions>,
  request: {
    role: string;
    messages: ChatMessage[];
    schema: JsonSchema;
    maxTokens: number;
    read: (value: unknown) => T | undefined;
  },
): Promise<{ value: T | undefined; attempts: number; lastOutput: string | null }> {
  let lastOutput: string | null = null;
  const attempts = context.options.jsonAttempts;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const output = await context.llm.generate({
      role: request.role,
      messages: request.messages,
      jsonSchema: request.schema,
      maxTokens: request.maxTokens,
      temperature: attempt === 1 ? 0 : RETRY_TEMPERATURE,
      signal: context.signal,
    });
    lastOutput = output.text;
    const value = parseJsonObject(output.text);
    const read = value === undefined ? undefined : request.read(value);
    if (read !== undefined) return { value: read, attempts: attempt, lastOutput };
  }
  return { value: undefined, attempts, lastOutput };
}

/** The first {...} object in a model's output, parsed; undefined when there is none. */
export function parseJsonObject(output: string): unknown {
  const start = output.indexOf('{');
  const end = output.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(output.slice(start, end + 1)) as unknown;
  } catch {
    return undefined;
  }
}

/** {"types": [...]} → the offered types named (case-insensitively), each once, in order; unknown names skipped. */
export function readTypes(value: unknown, offered: readonly ProgramType[]): ProgramType[] | undefined {
  const names = (value as { types?: unknown } | null)?.types;
  if (!Array.isArray(names)) return undefined;
  const byName = new Map(offered.map((type) => [type.name.toLowerCase(), type]));
  const types = [
    ...new Set(
      names.flatMap((name) => (typeof name === 'string' ? [byName.get(name.trim().toLowerCase())] : [])),
    ),
  ].filter((type): type is ProgramType => type !== undefined);
  return types.length > 0 ? types : undefined;
}

/** {"queries": [...]} → up to `count` distinct non-empty queries. */
export function readCandidates(value: unknown, count: number): string[] | undefined {
  const queries = (value as { queries?: unknown } | null)?.queries;
  if (!Array.isArray(queries)) return undefined;
  const strings = [
    ...new Set(queries.flatMap((query) => (typeof query === 'string' && query.trim() ? [query.trim()] : []))),
  ].slice(0, count);
  return strings.length > 0 ? strings : undefined;
}

/** {"sufficient": boolean, "nextQuery"?: string}. */
export function readSufficiency(value: unknown): { sufficient: boolean; nextQuery: string } | undefined {
  const reply = value as { sufficient?: unknown; nextQuery?: unknown } | null;
  if (typeof reply?.sufficient !== 'boolean') return undefined;
  return {
    sufficient: reply.sufficient,
    nextQuery: typeof reply.nextQuery === 'string' ? reply.nextQuery : '',
  };
}

function failed(
  phaseMs: Record<string, number>,
  code: string,
  message: string,
  similarity: Similarity,
  reranker: PoolReranker,
  retrievals: number,
): StrategyOutcome {
  return {
    answer: null,
    reasoning: null,
    citations: [],
    failure: { code, message },
    metrics: {
      phaseMs,
      program: null,
      strategy: {
        types: '',
        programs: 0,
        rounds: 0,
        similarity: similarity.kind,
        reranker: reranker.label,
        retrievals,
      },
    },
  };
}

export const programStrategy = defineStrategy({
  id: 'program',
  label: 'PROGRAM (typed programs, statistical pruning)',
  description:
    'Picks program types, chooses a sub-query per type by information gain + similarity, prunes programs by a t-test on their support while locking sufficient ones, then answers over the reranked pool.',
  options: programOptionsSchema,
  metrics: PROGRAM_METRICS,
  corpus: 'required',
  run: runProgramStrategy,
});
