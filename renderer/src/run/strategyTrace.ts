/**
 * View models of the strategies' own steps, one per method with a dedicated trace view: each reads
 * the `step` events' `kind` and `data` as that strategy writes them (main/engine/strategies/<id>/)
 * and keeps what its view shows. Step data arrives untyped over the contract, so every reader
 * checks each field and skips what does not fit: a step written by another version of a strategy
 * shows less, never breaks the view.
 *
 * Pure: no DOM, no React, no bridge.
 */
import type { StrategyStep } from './runState.ts';

/** A retrieved passage as step data lists it: enough to list it and open it (getChunk). */
export interface StepDoc {
  id: number;
  title: string;
  source: string;
  /** null where the step lists the id alone (FLARE's retrievals). */
  score: number | null;
}

type Data = Record<string, unknown>;

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;
const bool = (value: unknown): boolean | null => (typeof value === 'boolean' ? value : null);
const record = (value: unknown): Data | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Data) : null;
const records = (value: unknown): Data[] =>
  Array.isArray(value)
    ? value.flatMap((item: unknown): Data[] => {
        const r = record(item);
        return r ? [r] : [];
      })
    : [];
const numbers = (value: unknown): number[] =>
  Array.isArray(value)
    ? value.flatMap((item: unknown): number[] => {
        const n = num(item);
        return n === null ? [] : [n];
      })
    : [];

/** The `docs` of step data (id, title, source, score), skipping entries without a numeric id. */
export function docsOf(data: Data | null): StepDoc[] {
  return records(data?.docs).flatMap((doc) => {
    const id = num(doc.id);
    if (id === null) return [];
    return [{ id, title: str(doc.title) ?? '', source: str(doc.source) ?? '', score: num(doc.score) }];
  });
}

/** Passages known by id only: titled from the run's other steps where one lists them. */
function docsById(ids: readonly number[], known: ReadonlyMap<number, StepDoc>): StepDoc[] {
  return ids.map((id) => known.get(id) ?? { id, title: '', source: '', score: null });
}

const ofKind = (steps: readonly StrategyStep[], kind: string): StrategyStep[] =>
  steps.filter((step) => step.kind === kind);

// ---- Self-Ask

export interface SelfAskFollowUp {
  seq: number;
  step: number;
  question: string;
  intermediateAnswer: string;
  docs: StepDoc[];
  newDocIds: number[];
}

export interface SelfAskChain {
  followUps: SelfAskFollowUp[];
  /** null until the chain ends. */
  final: { answer: string; forced: boolean; stopReason: string | null } | null;
}

/** Self-Ask's chain: each follow-up question with its intermediate answer and passages, then the final answer. */
export function selfAskChain(steps: readonly StrategyStep[]): SelfAskChain {
  const followUps = ofKind(steps, 'follow-up').flatMap((step, i): SelfAskFollowUp[] => {
    const question = str(step.data?.question);
    if (question === null) return [];
    return [
      {
        seq: step.seq,
        step: num(step.data?.step) ?? i + 1,
        question,
        intermediateAnswer: str(step.data?.intermediateAnswer) ?? '',
        docs: docsOf(step.data),
        newDocIds: numbers(step.data?.newDocIds),
      },
    ];
  });
  const last = ofKind(steps, 'final-answer').at(-1);
  const answer = str(last?.data?.answer);
  return {
    followUps,
    final:
      last && answer !== null
        ? { answer, forced: bool(last.data?.forced) ?? false, stopReason: str(last.data?.stopReason) }
        : null,
  };
}

// ---- IRCoT

export type IrcotEntry =
  | { kind: 'retrieval'; seq: number; step: number; query: string; docs: StepDoc[]; newDocIds: number[] }
  | { kind: 'thought'; seq: number; step: number; sentence: string; answerSentence: boolean };

export interface IrcotChain {
  /** Retrievals and thoughts interleaved, in trace order (retrieval 0 is with the question). */
  entries: IrcotEntry[];
  /** The passages handed to the reader; null until the reader is called. */
  reader: { docs: StepDoc[]; collected: number } | null;
}

/** IRCoT's interleaved sentences and retrievals, and what the reader read. */
export function ircotChain(steps: readonly StrategyStep[]): IrcotChain {
  const entries: IrcotEntry[] = [];
  let reader: IrcotChain['reader'] = null;
  for (const step of steps) {
    const data = step.data;
    if (step.kind === 'retrieval') {
      entries.push({
        kind: 'retrieval',
        seq: step.seq,
        step: num(data?.step) ?? 0,
        query: str(data?.query) ?? step.detail ?? '',
        docs: docsOf(data),
        newDocIds: numbers(data?.newDocIds),
      });
    } else if (step.kind === 'thought') {
      entries.push({
        kind: 'thought',
        seq: step.seq,
        step: num(data?.step) ?? 0,
        sentence: str(data?.sentence) ?? step.detail ?? '',
        answerSentence: bool(data?.answerSentence) ?? false,
      });
    } else if (step.kind === 'reader') {
      const docs = docsOf(data);
      reader = { docs, collected: num(data?.collected) ?? docs.length };
    }
  }
  return { entries, reader };
}

// ---- ITER-RETGEN

export interface IterRetgenRound {
  seq: number;
  round: number;
  query: string;
  docs: StepDoc[];
  newDocIds: number[];
  answer: string;
  reasoning: string | null;
}

/** ITER-RETGEN's rounds: the query (question + previous generation), the passages, the generation. */
export function iterRetgenRounds(steps: readonly StrategyStep[]): IterRetgenRound[] {
  return ofKind(steps, 'round').map((step, i) => ({
    seq: step.seq,
    round: num(step.data?.round) ?? i + 1,
    query: str(step.data?.query) ?? '',
    docs: docsOf(step.data),
    newDocIds: numbers(step.data?.newDocIds),
    answer: str(step.data?.answer) ?? '',
    reasoning: str(step.data?.reasoning),
  }));
}

// ---- FLARE

export interface FlareToken {
  text: string;
  probability: number;
}

export interface FlareSentence {
  seq: number;
  index: number;
  sentence: string;
  minProbability: number | null;
  triggeredRetrieval: boolean;
  /** The look-ahead sentence whose low-confidence tokens triggered retrieval (the sentence itself otherwise). */
  lookahead: string;
  lowConfidenceTokens: FlareToken[];
  /** The query retrieved with (low-confidence tokens masked); null when nothing was retrieved. */
  query: string | null;
  docs: StepDoc[];
}

export interface FlareTrace {
  initialRetrieval: { query: string; docs: StepDoc[] } | null;
  sentences: FlareSentence[];
}

/** FLARE's sentences: each with its lowest token probability, and for a low-confidence one the masked query and what it found. */
export function flareTrace(steps: readonly StrategyStep[], known: ReadonlyMap<number, StepDoc>): FlareTrace {
  const initial = ofKind(steps, 'retrieval')[0];
  return {
    initialRetrieval: initial
      ? {
          query: str(initial.data?.query) ?? initial.detail ?? '',
          docs: docsById(numbers(initial.data?.retrievedIds), known),
        }
      : null,
    sentences: ofKind(steps, 'sentence').map((step, i) => {
      const data = step.data;
      const sentence = str(data?.sentence) ?? step.detail ?? '';
      return {
        seq: step.seq,
        index: num(data?.index) ?? i + 1,
        sentence,
        minProbability: num(data?.minProbability),
        triggeredRetrieval: bool(data?.triggeredRetrieval) ?? false,
        lookahead: str(data?.lookahead) ?? sentence,
        lowConfidenceTokens: records(data?.lowConfidenceTokens).flatMap((token) => {
          const text = str(token.text);
          const probability = num(token.probability);
          return text !== null && probability !== null ? [{ text, probability }] : [];
        }),
        query: str(data?.query),
        docs: docsById(numbers(data?.retrievedIds), known),
      };
    }),
  };
}

/** A span of a FLARE sentence: plain text, or a low-confidence token with its probability. */
export type TokenSegment = { text: string; probability: number | null };

/**
 * The text cut into segments with each low-confidence token marked: tokens are found in order, each
 * after the one before (a token not found is skipped), so a word repeated earlier is not marked.
 */
export function markTokens(text: string, tokens: readonly FlareToken[]): TokenSegment[] {
  const segments: TokenSegment[] = [];
  let from = 0;
  for (const token of tokens) {
    const needle = token.text.trim();
    if (needle === '') continue;
    const at = text.indexOf(needle, from);
    if (at < 0) continue;
    if (at > from) segments.push({ text: text.slice(from, at), probability: null });
    segments.push({ text: needle, probability: token.probability });
    from = at + needle.length;
  }
  if (from < text.length) segments.push({ text: text.slice(from), probability: null });
  return segments;
}

// ---- Chain-of-Code and ICRAG: simulated calls

export interface SimulatedCall {
  seq: number;
  name: string;
  /** null for a read of an undeclared name (a simulated value, not a call). */
  args: unknown[] | null;
  line: number | null;
  value: unknown;
  attempts: number;
}

/** The helper calls (and undeclared names) the model simulated while the program ran. */
export function simulatedCalls(steps: readonly StrategyStep[]): SimulatedCall[] {
  return ofKind(steps, 'simulated-call').flatMap((step) => {
    const name = str(step.data?.name);
    if (name === null) return [];
    const args = step.data?.args;
    return [
      {
        seq: step.seq,
        name,
        args: Array.isArray(args) ? (args as unknown[]) : null,
        line: num(step.data?.line),
        value: step.data?.value,
        attempts: num(step.data?.attempts) ?? 1,
      },
    ];
  });
}

// ---- PROGRAM

export interface ProgramCandidate {
  query: string;
  informationGain: number | null;
  similarity: number | null;
  score: number | null;
  chosen: boolean;
}

export type ProgramStatus = 'active' | 'locked' | 'pruned';

export interface ProgramRow {
  program: number;
  type: string;
  subQuery: string;
  support: number | null;
  /** How the t-test went: performed, or why not (too-few, zero-variance, small-group, locked). */
  test: string;
  t: number | null;
  pValue: number | null;
  sufficient: boolean | null;
  status: ProgramStatus;
  /** The passages the program held when the round was judged. */
  docs: StepDoc[];
}

export interface ProgramRound {
  seq: number;
  round: number;
  level: number | null;
  groupMean: number | null;
  rows: ProgramRow[];
}

export interface ProgramTrace {
  types: string[];
  /** Per program (by index): its type, the candidates scored and the one chosen. */
  candidates: { program: number; type: string; alpha: number | null; candidates: ProgramCandidate[] }[];
  rounds: ProgramRound[];
  pool: { stopReason: string | null; docs: StepDoc[] } | null;
  rerank: {
    reranker: string | null;
    /** Each passage's rerank score (cross-encoder logit, similarity, or retrieval score), higher first. */
    order: { doc: StepDoc; score: number | null; poolRank: number | null; kept: boolean }[];
  } | null;
}

const STATUSES: readonly ProgramStatus[] = ['active', 'locked', 'pruned'];

/**
 * PROGRAM's trace: the types picked, each program's candidates with IG and similarity, the program
 * table of every round — with the passages each program held then: those its retrievals found
 * before that round (the round-0 retrieval, then one per round it stayed active) — the pool and the
 * rerank order.
 */
export function programTrace(steps: readonly StrategyStep[]): ProgramTrace {
  const typesStep = ofKind(steps, 'program-types').at(-1);
  const types = Array.isArray(typesStep?.data?.types)
    ? (typesStep.data.types as unknown[]).flatMap((t) => str(t) ?? [])
    : [];

  const candidates = ofKind(steps, 'program-candidates').flatMap((step) => {
    const program = num(step.data?.program);
    if (program === null) return [];
    const chosen = str(step.data?.chosen);
    return [
      {
        program,
        type: str(step.data?.type) ?? '',
        alpha: num(step.data?.alpha),
        candidates: records(step.data?.candidates).map((c) => ({
          query: str(c.query) ?? '',
          informationGain: num(c.informationGain),
          similarity: num(c.similarity),
          score: num(c.score),
          chosen: str(c.query) === chosen,
        })),
      },
    ];
  });

  // Each retrieval, by program, with the round it ran after (0 = before the first round).
  const retrievals = ofKind(steps, 'program-retrieval').flatMap((step) => {
    const program = num(step.data?.program);
    return program === null ? [] : [{ program, round: num(step.data?.round) ?? 0, docs: docsOf(step.data) }];
  });
  const heldBefore = (program: number, round: number): StepDoc[] => {
    const held = new Map<number, StepDoc>();
    for (const r of retrievals)
      if (r.program === program && r.round < round)
        for (const doc of r.docs) if (!held.has(doc.id)) held.set(doc.id, doc);
    return [...held.values()];
  };

  const rounds = ofKind(steps, 'program-round').flatMap((step, i): ProgramRound[] => {
    const round = num(step.data?.round) ?? i + 1;
    return [
      {
        seq: step.seq,
        round,
        level: num(step.data?.level),
        groupMean: num(step.data?.groupMean),
        rows: records(step.data?.programs).flatMap((row): ProgramRow[] => {
          const program = num(row.program);
          const status = STATUSES.find((s) => s === row.status);
          if (program === null || status === undefined) return [];
          return [
            {
              program,
              type: str(row.type) ?? '',
              subQuery: str(row.subQuery) ?? '',
              support: num(row.support),
              test: str(row.test) ?? '',
              t: num(row.t),
              pValue: num(row.pValue),
              sufficient: bool(row.sufficient),
              status,
              docs: heldBefore(program, round),
            },
          ];
        }),
      },
    ];
  });

  const poolStep = ofKind(steps, 'program-pool').at(-1);
  const rerankStep = ofKind(steps, 'program-rerank').at(-1);
  const known = new Map<number, StepDoc>();
  for (const doc of docsOf(poolStep?.data ?? null)) known.set(doc.id, doc);
  return {
    types,
    candidates,
    rounds,
    pool: poolStep ? { stopReason: str(poolStep.data?.stopReason), docs: docsOf(poolStep.data) } : null,
    rerank: rerankStep
      ? {
          reranker: str(rerankStep.data?.reranker),
          order: records(rerankStep.data?.order).flatMap((entry) => {
            const id = num(entry.id);
            if (id === null) return [];
            const doc = known.get(id) ?? { id, title: str(entry.title) ?? '', source: '', score: null };
            return [
              {
                doc,
                score: num(entry.score) ?? num(entry.similarity),
                poolRank: num(entry.poolRank),
                kept: bool(entry.kept) ?? false,
              },
            ];
          }),
        }
      : null,
  };
}

/** Every passage any step lists with its title, by id (to title passages other steps list by id only). */
export function stepDocs(steps: readonly StrategyStep[]): Map<number, StepDoc> {
  const known = new Map<number, StepDoc>();
  for (const step of steps)
    for (const doc of docsOf(step.data)) if (!known.has(doc.id)) known.set(doc.id, doc);
  return known;
}

/** The step kinds each dedicated view reads, by strategy id; other strategies get the generic step list. */
export const STRATEGY_VIEW_KINDS: Readonly<Record<string, readonly string[]>> = {
  'self-ask': ['follow-up', 'final-answer'],
  ircot: ['retrieval', 'thought', 'reader'],
  'iter-retgen': ['round'],
  flare: ['retrieval', 'sentence'],
  coc: ['simulated-call'],
  program: ['program-types', 'program-candidates', 'program-round', 'program-pool', 'program-rerank'],
  icrag: ['icrag-version'],
};

/** Whether a run of `strategy` with these steps gets its dedicated view (it has at least one step the view reads). */
export function hasDedicatedView(strategy: string | null, steps: readonly StrategyStep[]): boolean {
  const kinds = strategy === null ? undefined : STRATEGY_VIEW_KINDS[strategy];
  return kinds !== undefined && steps.some((step) => kinds.includes(step.kind));
}
