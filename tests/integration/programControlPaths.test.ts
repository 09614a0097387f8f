/**
 * Every control path of the PROGRAM strategy, driven by scripted outputs through the real replay
 * backend, with a hand-written retrieval table and fixed embeddings (each text's vector is chosen so
 * its cosine with a sub-query is a known number). Each script must be consumed exactly.
 * Covered: type selection parsing and its typed failure, the IG + α·similarity argmax, pruning by the
 * t-test's p-value, small samples and zero variance, locking (a locked program stops retrieving),
 * stop at T / at one active / when all are locked / when nothing new is found, next-page and
 * new-query retrieval, pooling and rerank (cross-encoder, embedding, BM25, retrieval order, and a
 * reranker asked for that is not there), the lexical fallback without an embedder, JSON retries and
 * fallbacks, no corpus, given sub-questions in place of types and candidates, and the whole run
 * through startRun.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Engine, Retriever } from '../../main/engine/createEngine.ts';
import type { GenerateOptions, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import type { Reranker } from '../../main/engine/models/Reranker.ts';
import { createReplayBackend } from '../../main/engine/models/ReplayBackend.ts';
import { startRun } from '../../main/engine/runs/startRun.ts';
import type { RetrievedDoc } from '../../main/engine/sandbox/SandboxTypes.ts';
import type { SearchResult } from '../../main/engine/corpus/search/searchCorpus.ts';
import type { StrategyContext, StrategyOutcome } from '../../main/engine/strategies/Strategy.ts';
import {
  programStrategy,
  type ProgramOptions,
  type ProgramRoundRow,
} from '../../main/engine/strategies/program/programStrategy.ts';
import { evidenceKl, oneSampleTTestLess } from '../../main/engine/strategies/program/programStatistics.ts';
import { strategyRegistry } from '../../main/engine/strategies/registry.ts';
import type { TraceEventBody, TraceEventOf } from '../../preload/TraceEvent.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-program-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const QUESTION = 'Which river flows through the capital of France?';

// ---- fixed embeddings: a sub-query is e1; a document "s=0.83 …" is (s, √(1−s²), 0), so its cosine
// with any sub-query (and with the question) is exactly s. Any other text is e3.
const E1 = [1, 0, 0];
const vectorOf = (text: string): Float32Array => {
  const match = /^s=([\d.]+) /.exec(text);
  if (match) {
    const s = Number(match[1]);
    return Float32Array.from([s, Math.sqrt(1 - s * s), 0]);
  }
  return Float32Array.from(/query|^Which river/.test(text) ? E1 : [0, 0, 1]);
};
const fixedEmbed = async (texts: readonly string[]): Promise<Float32Array[]> => texts.map(vectorOf);

let nextDocId = 1;
/** Documents whose similarity to any sub-query is each of `sims`, in order. */
function docsWith(name: string, sims: number[]): RetrievedDoc[] {
  return sims.map((s, i) => {
    const id = nextDocId++;
    return {
      id,
      title: `${name} ${i + 1}`,
      text: `s=${s} ${name} passage ${i + 1}`,
      score: 0,
      source: `${name}.md`,
    };
  });
}

/** A retrieval table: query → ranked documents (scores descending); k takes the first k. */
type Table = Record<string, RetrievedDoc[]>;
const tableSearch =
  (table: Table) =>
  (query: string, k: number): RetrievedDoc[] =>
    (table[query] ?? []).slice(0, k).map((doc, i, all) => ({ ...doc, score: all.length - i }));

type Line = { role: string; output: string };
const types = (...names: string[]): Line => ({
  role: 'program-types',
  output: JSON.stringify({ types: names }),
});
const candidates = (...queries: string[]): Line => ({
  role: 'program-candidates',
  output: JSON.stringify({ queries }),
});
const judge = (sufficient: boolean, nextQuery = ''): Line => ({
  role: 'program-sufficiency',
  output: JSON.stringify({ sufficient, nextQuery }),
});
const final = (text: string): Line => ({
  role: 'program-answer',
  output: `The river through Paris is the Seine [1].\n<answer>${text}</answer>`,
});
const garbage = (role: string): Line => ({
  role,
  output: 'I think the types are Simple Fact and Comparison.',
});

let scriptCount = 0;
async function replayOf(lines: Line[]): Promise<{ llm: LlmBackend; requests: GenerateOptions[] }> {
  const file = path.join(tmp, `script-${++scriptCount}.jsonl`);
  fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  const replay = await createReplayBackend({ file });
  const requests: GenerateOptions[] = [];
  const llm: LlmBackend = {
    id: replay.id,
    parallelism: 1,
    generate: (request) => {
      requests.push(request);
      return replay.generate(request);
    },
    dispose: () => replay.dispose(),
  };
  return { llm, requests };
}

async function expectConsumed(llm: LlmBackend): Promise<void> {
  await expect(llm.generate({ role: 'program-answer', messages: [] })).rejects.toThrow(/has none/);
}

interface Setup {
  table: Table;
  /** 'fixed' (default): the fixed embeddings; 'absent': no embed in the context; 'null': embed resolves null. */
  embed?: 'fixed' | 'absent' | 'null';
  topK?: number;
  hasCorpus?: boolean;
  /** The context's cross-encoder; absent by default (as in contexts built without one). */
  reranker?: StrategyContext<unknown>['reranker'];
}

interface Scripted {
  outcome: StrategyOutcome;
  events: TraceEventBody[];
  requests: GenerateOptions[];
  retrieves: { query: string; k: number }[];
}

async function runScripted(lines: Line[], options: Partial<ProgramOptions>, setup: Setup): Promise<Scripted> {
  const { llm, requests } = await replayOf(lines);
  const events: TraceEventBody[] = [];
  const retrieves: { query: string; k: number }[] = [];
  const embedMode = setup.embed ?? 'fixed';
  const context: StrategyContext<ProgramOptions> = {
    question: QUESTION,
    options: strategyRegistry.parseOptions('program', options) as ProgramOptions,
    llm,
    retrieve: async (query, k) => {
      retrieves.push({ query, k });
      return tableSearch(setup.table)(query, k);
    },
    hasCorpus: setup.hasCorpus ?? true,
    topK: setup.topK ?? 3,
    runProgram: () => Promise.reject(new Error('PROGRAM runs no sandboxed programs')),
    emit: (event) => events.push(event),
    now: () => 0,
    signal: new AbortController().signal,
    ...(setup.reranker ? { reranker: setup.reranker } : {}),
    ...(embedMode === 'fixed'
      ? { embed: fixedEmbed }
      : embedMode === 'null'
        ? { embed: async () => null }
        : {}),
  };
  const outcome = await programStrategy.run(context);
  const asked = [...requests];
  await expectConsumed(llm);
  return { outcome, events, requests: asked, retrieves };
}

function steps(events: readonly TraceEventBody[], kind: string): TraceEventOf<'step'>[] {
  return events.filter(
    (event): event is TraceEventOf<'step'> => event.type === 'step' && event.kind === kind,
  );
}
const rounds = (events: readonly TraceEventBody[]) =>
  steps(events, 'program-round').map(
    (step) => step.data as { round: number; groupMean: number | null; programs: ProgramRoundRow[] },
  );
const rowOf = (rows: ProgramRoundRow[], program: number): ProgramRoundRow =>
  rows.find((row) => row.program === program)!;

describe('program: sub-query choice', () => {
  const prior = 'Simple Fact: look up one fact about one entity';
  const [p1, p2, p3, p4, p5] = docsWith('pool', [0.9, 0.8, 0.7, 0.6, 0.5]);
  const table: Table = {
    [prior]: [p1!, p2!],
    'Simple Fact: capital of France query': [p1!, p2!], // the prior's evidence: no gain
    'Simple Fact: Jazz music query': [p4!, p5!], // disjoint from the prior: the most gain
    'Simple Fact: Seine river query': [p2!, p3!],
    'capital of France query': [p1!, p2!, p3!],
    'Jazz music query': [p4!, p5!],
  };
  // Fixed similarities to the question: the question and every "query" text are e1, so to tell the
  // candidates apart, α = 0 decides by information gain alone and α = 10 by similarity with ties
  // broken by gain — the lexical fallback (below) gives them different similarities.
  const script = (answer: string): Line[] => [
    types('Simple Fact'),
    candidates('capital of France query', 'Jazz music query', 'Seine river query'),
    final(answer),
  ];

  it('scores each of the M candidates as IG + α·similarity and keeps the argmax', async () => {
    const { events, retrieves, outcome } = await runScripted(script('the Seine'), { alpha: 0 }, { table });
    const [chosen] = steps(events, 'program-candidates');
    const data = chosen!.data as {
      priorQuery: string;
      alpha: number;
      candidates: {
        query: string;
        informationGain: number;
        similarity: number;
        score: number;
        klNats: number;
      }[];
      chosen: string;
    };
    expect(data.priorQuery).toBe(prior);
    expect(data.candidates.map((c) => c.query)).toEqual([
      'capital of France query',
      'Jazz music query',
      'Seine river query',
    ]);
    for (const c of data.candidates)
      expect(c.score).toBeCloseTo(c.informationGain + data.alpha * c.similarity, 12);
    // The same evidence as the prior: exactly no gain. Disjoint evidence: the most.
    expect(data.candidates[0]!.klNats).toBe(0);
    const scoredDocs = (docs: RetrievedDoc[]) =>
      docs.map((doc, i) => ({ id: doc.id, score: docs.length - i }));
    const kl = evidenceKl(scoredDocs([p4!, p5!]), scoredDocs([p1!, p2!]), {
      temperature: 0.5,
      smoothing: 0.05,
    });
    expect(data.candidates[1]!.informationGain).toBeCloseTo(kl.kl / kl.maxKl, 12);
    expect(data.chosen).toBe('Jazz music query');
    // One prior list and M candidate lists of n = 10, then the chosen sub-query at the run's k.
    expect(retrieves).toEqual([
      { query: prior, k: 10 },
      { query: 'Simple Fact: capital of France query', k: 10 },
      { query: 'Simple Fact: Jazz music query', k: 10 },
      { query: 'Simple Fact: Seine river query', k: 10 },
      { query: 'Jazz music query', k: 3 },
    ]);
    // One program: no pruning rounds, its evidence goes straight to the pool.
    expect(outcome.metrics.strategy).toMatchObject({
      types: 'Simple Fact',
      programs: 1,
      rounds: 0,
      stopReason: 'one-active',
      similarity: 'embedding',
      retrievals: 5,
      documentsPooled: 2,
    });
    expect(outcome.answer).toBe('the Seine');
  });

  it('lets similarity decide when α is large (lexical similarity, no embedder)', async () => {
    const { events } = await runScripted(script('the Seine'), { alpha: 10 }, { table, embed: 'absent' });
    const data = steps(events, 'program-candidates')[0]!.data as {
      similarity: string;
      candidates: { query: string; similarity: number; score: number }[];
      chosen: string;
    };
    expect(data.similarity).toBe('lexical');
    const best = data.candidates.reduce((a, b) => (b.score > a.score ? b : a));
    expect(data.chosen).toBe(best.query);
    // "capital … France" shares two content words with the question, "Seine river" one, "Jazz music" none.
    expect(data.chosen).toBe('capital of France query');
    expect(data.candidates.find((c) => c.query === 'Jazz music query')!.similarity).toBe(0);
  });
});

/** Three programs with one candidate each: sub-queries "alpha query", "beta query", "gamma query". */
const THREE = [
  types('Simple Fact', 'Bridge Entity', 'Comparison'),
  candidates('alpha query'),
  candidates('beta query'),
  candidates('gamma query'),
];

describe('program: active program pruning', () => {
  it('prunes a program whose support is significantly below the group mean (p in the trace), locks a sufficient one, stops at one active', async () => {
    const a = docsWith('alpha', [0.9, 0.85, 0.95]);
    const b = docsWith('beta', [0.8, 0.9, 0.85]);
    const c = docsWith('gamma', [0.1, 0.15, 0.05]);
    const table: Table = { 'alpha query': a, 'beta query': b, 'gamma query': c };
    const { events, outcome, retrieves } = await runScripted(
      [...THREE, judge(true), judge(false), final('the Seine')],
      {},
      { table },
    );
    const [round] = rounds(events);
    // Float32 vectors: equal to the mean support of the three programs to about 1e-7.
    expect(round!.groupMean).toBeCloseTo((0.9 + 0.85 + 0.1) / 3, 6);
    const gamma = rowOf(round!.programs, 2);
    const expected = oneSampleTTestLess([0.1, 0.15, 0.05], round!.groupMean!);
    expect(expected.performed && expected.pValue).toBeLessThan(0.05);
    expect(gamma).toMatchObject({ test: 'performed', status: 'pruned', df: 2, sufficient: null });
    expect(gamma.pValue).toBeCloseTo(expected.performed ? expected.pValue : NaN, 8);
    expect(gamma.t!).toBeLessThan(0);
    expect(rowOf(round!.programs, 0)).toMatchObject({
      status: 'locked',
      sufficient: true,
      test: 'performed',
    });
    expect(rowOf(round!.programs, 0).pValue!).toBeGreaterThan(0.05);
    expect(rowOf(round!.programs, 1)).toMatchObject({ status: 'active', sufficient: false });
    // Only alpha and beta were judged (gamma was pruned first).
    expect(outcome.metrics.strategy).toMatchObject({
      rounds: 1,
      pruned: 1,
      locked: 1,
      activeAtEnd: 1,
      stopReason: 'one-active',
      documentsPooled: 6,
      documentsRead: 3,
    });
    // No retrieval after the round: one active program left.
    expect(retrieves.map((r) => r.query).filter((q) => !q.includes(':'))).toEqual([
      'alpha query',
      'beta query',
      'gamma query',
    ]);
    // The pool holds the survivors' evidence only; the rerank keeps the k most similar to the question.
    const pool = steps(events, 'program-pool')[0]!.data as { docs: { id: number }[] };
    expect(pool.docs.map((d) => d.id).sort()).toEqual([...a, ...b].map((d) => d.id).sort());
    const rerank = steps(events, 'program-rerank')[0]!.data as {
      reranker: string;
      order: { id: number; similarity: number; kept: boolean }[];
    };
    expect(rerank.reranker).toBe('embedding');
    expect(rerank.order.map((o) => o.similarity)).toEqual(
      [0.95, 0.9, 0.9, 0.85, 0.85, 0.8].map((s) => expect.closeTo(s, 6)),
    );
    expect(rerank.order.filter((o) => o.kept).map((o) => o.id)).toEqual([a[2]!.id, a[0]!.id, b[1]!.id]);
    expect(outcome.citations.map((citation) => citation.chunkId)).toEqual([a[2]!.id]);
  });

  it('never tests a sample of one document, zero variance, or a group of one', async () => {
    const table: Table = {
      'alpha query': docsWith('alpha', [0.9]),
      'beta query': docsWith('beta', [0.5, 0.5]),
      'gamma query': docsWith('gamma', [0.2, 0.3, 0.25]),
    };
    const { events, outcome } = await runScripted(
      [...THREE, judge(false), judge(false), final('unknown')],
      { maxRounds: 1 },
      { table },
    );
    const [round] = rounds(events);
    expect(rowOf(round!.programs, 0)).toMatchObject({ test: 'too-few', pValue: null, status: 'active' });
    // Below the group mean, but without variance there is no test and no pruning.
    expect(rowOf(round!.programs, 1)).toMatchObject({
      test: 'zero-variance',
      support: expect.closeTo(0.5, 6),
      status: 'active',
    });
    expect(rowOf(round!.programs, 2)).toMatchObject({ test: 'performed', status: 'pruned' });
    expect(outcome.metrics.strategy).toMatchObject({ rounds: 1, pruned: 1, stopReason: 'max-rounds' });

    const lonely: Table = { 'alpha query': docsWith('alpha', [0.9, 0.2]) };
    const two = await runScripted(
      [
        types('Simple Fact', 'Count'),
        candidates('alpha query'),
        candidates('empty query'),
        judge(false),
        judge(false),
        final('unknown'),
      ],
      { maxRounds: 1 },
      { table: lonely },
    );
    const rows = rounds(two.events)[0]!.programs;
    expect(rows.map((row) => [row.test, row.support])).toEqual([
      ['small-group', expect.closeTo(0.55, 6)],
      ['small-group', null],
    ]);
  });

  it('stops at T; a locked program keeps its evidence and stops retrieving, the others page on', async () => {
    const table: Table = {
      'alpha query': docsWith('alpha', [0.8, 0.6, 0.7, 0.75, 0.65, 0.7]),
      'beta query': docsWith('beta', [0.7, 0.75, 0.72, 0.68, 0.7, 0.71]),
      'gamma query': docsWith('gamma', [0.65, 0.8, 0.7, 0.74, 0.72, 0.66]),
    };
    const { events, outcome, retrieves } = await runScripted(
      [...THREE, judge(true), judge(false), judge(false), judge(false), judge(false), final('the Seine')],
      { maxRounds: 2 },
      { table, topK: 2 },
    );
    const program = retrieves.filter((r) => !r.query.includes(':'));
    expect(program).toEqual([
      { query: 'alpha query', k: 2 },
      { query: 'beta query', k: 2 },
      { query: 'gamma query', k: 2 },
      // Round 1: alpha is locked; beta and gamma ask for their second page.
      { query: 'beta query', k: 4 },
      { query: 'gamma query', k: 4 },
    ]);
    const [first, second] = rounds(events);
    for (const row of [...first!.programs, ...second!.programs]) expect(row.status).not.toBe('pruned');
    expect(rowOf(second!.programs, 0)).toMatchObject({
      status: 'locked',
      test: 'locked',
      documents: 2,
      sufficient: null,
    });
    expect(rowOf(second!.programs, 1)).toMatchObject({ documents: 4, test: 'performed' });
    expect(outcome.metrics.strategy).toMatchObject({
      rounds: 2,
      locked: 1,
      activeAtEnd: 2,
      pruned: 0,
      stopReason: 'max-rounds',
      documentsPooled: 10,
      documentsRead: 2,
    });
    const retrievalSteps = steps(events, 'program-retrieval');
    expect(retrievalSteps.at(-1)!.data).toMatchObject({ program: 2, round: 1, how: 'next-page', k: 4 });
  });

  it('stops when every active program is locked', async () => {
    const table: Table = {
      'alpha query': docsWith('alpha', [0.8, 0.7]),
      'beta query': docsWith('beta', [0.75, 0.7]),
    };
    const { outcome } = await runScripted(
      [
        types('Simple Fact', 'Temporal'),
        candidates('alpha query'),
        candidates('beta query'),
        judge(true),
        judge(true),
        final('the Seine'),
      ],
      {},
      { table },
    );
    expect(outcome.metrics.strategy).toMatchObject({
      rounds: 1,
      locked: 2,
      activeAtEnd: 0,
      stopReason: 'all-locked',
    });
  });

  it('stops when no active program finds a new document', async () => {
    const table: Table = {
      'alpha query': docsWith('alpha', [0.8, 0.7]),
      'beta query': docsWith('beta', [0.75, 0.7]),
    };
    const { outcome, retrieves } = await runScripted(
      [
        types('Simple Fact', 'Temporal'),
        candidates('alpha query'),
        candidates('beta query'),
        judge(false),
        judge(false),
        final('unknown'),
      ],
      {},
      { table },
    );
    expect(retrieves.filter((r) => r.query === 'alpha query').map((r) => r.k)).toEqual([3, 6]);
    expect(outcome.metrics.strategy).toMatchObject({
      rounds: 1,
      stopReason: 'no-new-evidence',
      activeAtEnd: 2,
    });
  });

  it('retrieves with the query the judgement proposed (new-query), else the next page', async () => {
    const table: Table = {
      'alpha query': docsWith('alpha', [0.8, 0.7]),
      'alpha follow-up query': docsWith('alpha more', [0.75, 0.72]),
      'beta query': docsWith('beta', [0.75, 0.7, 0.74]),
    };
    const { retrieves, outcome } = await runScripted(
      [
        types('Simple Fact', 'Temporal'),
        candidates('alpha query'),
        candidates('beta query'),
        judge(false, 'alpha follow-up query'),
        judge(false, ''),
        judge(true),
        judge(true),
        final('the Seine'),
      ],
      { moreEvidence: 'new-query' },
      { table, topK: 2 },
    );
    expect(retrieves.filter((r) => !r.query.includes(':'))).toEqual([
      { query: 'alpha query', k: 2 },
      { query: 'beta query', k: 2 },
      { query: 'alpha follow-up query', k: 2 },
      { query: 'beta query', k: 4 },
    ]);
    expect(outcome.metrics.strategy).toMatchObject({
      rounds: 2,
      stopReason: 'all-locked',
      documentsPooled: 7,
    });
  });
});

describe('program: without an embedding model', () => {
  const table: Table = {
    'Seine river': [
      {
        id: 901,
        title: 'Seine',
        text: 'The Seine river flows through Paris, the capital of France.',
        score: 0,
        source: 's.md',
      },
      { id: 902, title: 'Jazz', text: 'Jazz began in New Orleans.', score: 0, source: 'j.md' },
    ],
  };
  for (const embed of ['absent', 'null'] as const) {
    it(`falls back to lexical similarity and says so (embed ${embed})`, async () => {
      const { events, outcome } = await runScripted(
        [types('Simple Fact'), candidates('Seine river'), final('the Seine')],
        {},
        { table, embed },
      );
      const [similarity] = steps(events, 'similarity');
      expect(similarity!.title).toMatch(/lexical fallback \(TF-IDF cosine\)/);
      expect(similarity!.data).toMatchObject({
        similarity: 'lexical',
        reranker: 'bm25',
        crossEncoder: false,
      });
      // The pool is reranked by each passage's BM25 score for the question (the last resort).
      const rerank = steps(events, 'program-rerank')[0]!;
      expect(rerank.title).toMatch(/BM25 score for the question/);
      const order = (rerank.data as { order: { id: number; similarity: number }[] }).order;
      expect(order.map((o) => o.id)).toEqual([901, 902]);
      expect(order[0]!.similarity).toBeGreaterThan(0);
      expect(order[1]!.similarity).toBe(0);
      expect(outcome.metrics.strategy).toMatchObject({ similarity: 'lexical', reranker: 'bm25' });
    });
  }
});

describe('program: the final reranker', () => {
  const script = (): Line[] => [types('Simple Fact'), candidates('alpha query'), final('the Seine')];
  const rerankOf = (events: readonly TraceEventBody[]) =>
    steps(events, 'program-rerank')[0]!.data as {
      reranker: string;
      order: { id: number; score: number; similarity: number; kept: boolean }[];
    };
  /** A hand-written cross-encoder that ranks a "s=…" document the opposite way to its similarity. */
  const reversing = (queries: string[]): Reranker => ({
    modelId: 'fake-ce',
    score: async (query, passages) => {
      queries.push(query);
      return passages.map((text) => 1 - Number(/^s=([\d.]+) /.exec(text)![1]));
    },
    dispose: async () => {},
  });

  it('uses the installed cross-encoder by default, orders the pool by its scores and names it', async () => {
    const alpha = docsWith('alpha', [0.9, 0.5, 0.7]);
    const queries: string[] = [];
    const { events, outcome } = await runScripted(
      script(),
      { finalTopK: 2 },
      { table: { 'alpha query': alpha }, reranker: async () => reversing(queries) },
    );
    expect(steps(events, 'similarity')[0]!.data).toMatchObject({
      similarity: 'embedding',
      reranker: 'cross-encoder:fake-ce',
      rerankerChoice: 'auto',
      crossEncoder: true,
      crossEncoderUnavailable: null,
    });
    const rerank = rerankOf(events);
    expect(rerank.reranker).toBe('cross-encoder:fake-ce');
    // Embedding similarity would keep 0.9 first; the cross-encoder's scores put it last.
    expect(rerank.order.map((o) => o.id)).toEqual([alpha[1]!.id, alpha[2]!.id, alpha[0]!.id]);
    expect(rerank.order.map((o) => o.score)).toEqual([0.5, 0.3, 0.1].map((x) => expect.closeTo(x, 6)));
    expect(rerank.order.map((o) => o.kept)).toEqual([true, true, false]);
    expect(steps(events, 'program-rerank')[0]!.title).toMatch(/the cross-encoder fake-ce; kept 2 of 3/);
    expect(queries).toEqual([QUESTION]);
    expect(outcome.metrics.strategy).toMatchObject({
      reranker: 'cross-encoder:fake-ce',
      similarity: 'embedding',
    });
  });

  it('falls back to embedding similarity when no cross-encoder is installed, and says why', async () => {
    const alpha = docsWith('alpha', [0.9, 0.5, 0.7]);
    const { events, outcome } = await runScripted(
      script(),
      {},
      {
        table: { 'alpha query': alpha },
        reranker: async () => ({ unavailable: 'no cross-encoder in /m/rerankers' }),
      },
    );
    const [similarity] = steps(events, 'similarity');
    expect(similarity!.data).toMatchObject({
      reranker: 'embedding',
      crossEncoder: false,
      crossEncoderUnavailable: 'no cross-encoder in /m/rerankers',
    });
    expect(similarity!.detail).toBe('No cross-encoder: no cross-encoder in /m/rerankers');
    expect(rerankOf(events).order.map((o) => o.id)).toEqual([alpha[0]!.id, alpha[2]!.id, alpha[1]!.id]);
    expect(outcome.metrics.strategy).toMatchObject({ reranker: 'embedding' });
  });

  it('uses embedding similarity when asked to, even with a cross-encoder installed', async () => {
    const alpha = docsWith('alpha', [0.5, 0.9]);
    const { events } = await runScripted(
      script(),
      { reranker: 'embedding' },
      { table: { 'alpha query': alpha }, reranker: async () => reversing([]) },
    );
    expect(rerankOf(events)).toMatchObject({ reranker: 'embedding' });
    expect(rerankOf(events).order.map((o) => o.id)).toEqual([alpha[1]!.id, alpha[0]!.id]);
  });

  const seine = {
    'Seine river': [
      { id: 911, title: 'Jazz', text: 'Jazz began in New Orleans.', score: 0, source: 'j.md' },
      {
        id: 912,
        title: 'Seine',
        text: 'The Seine river flows through Paris, the capital of France.',
        score: 0,
        source: 's.md',
      },
    ],
  };
  const seineScript = (): Line[] => [types('Simple Fact'), candidates('Seine river'), final('the Seine')];

  it('keeps the order of retrieval scores with reranker=none', async () => {
    const bm25 = await runScripted(seineScript(), {}, { table: seine, embed: 'absent' });
    expect(rerankOf(bm25.events)).toMatchObject({ reranker: 'bm25' });
    expect(rerankOf(bm25.events).order.map((o) => o.id)).toEqual([912, 911]);
    const asked = await runScripted(seineScript(), { reranker: 'bm25' }, { table: seine, embed: 'absent' });
    expect(rerankOf(asked.events)).toMatchObject({ reranker: 'bm25' });

    const none = await runScripted(seineScript(), { reranker: 'none' }, { table: seine, embed: 'absent' });
    const rerank = rerankOf(none.events);
    expect(rerank.reranker).toBe('retrieval-order');
    expect(rerank.order.map((o) => [o.id, o.score])).toEqual([
      [911, 2],
      [912, 1],
    ]);
    expect(steps(none.events, 'program-rerank')[0]!.title).toMatch(/retrieval score \(no reranking\)/);
    expect(none.outcome.metrics.strategy).toMatchObject({
      similarity: 'lexical',
      reranker: 'retrieval-order',
    });
  });

  it('refuses, before any model call, a reranker asked for by name that the run does not have', async () => {
    // The scripts are empty: a model call would fail with a replay error instead.
    await expect(
      runScripted(
        [],
        { reranker: 'cross-encoder' },
        { table: seine, reranker: async () => ({ unavailable: 'no cross-encoder in /m/rerankers' }) },
      ),
    ).rejects.toMatchObject({
      code: 'RERANKER_UNAVAILABLE',
      message: expect.stringMatching(
        /no cross-encoder in \/m\/rerankers.*reckon models pull ms-marco-MiniLM-L-6-v2/,
      ),
    });
    await expect(runScripted([], { reranker: 'cross-encoder' }, { table: seine })).rejects.toMatchObject({
      code: 'RERANKER_UNAVAILABLE',
    });
    await expect(
      runScripted([], { reranker: 'embedding' }, { table: seine, embed: 'null' }),
    ).rejects.toMatchObject({
      code: 'RERANKER_UNAVAILABLE',
      message: expect.stringMatching(/no embedding model/),
    });
  });
});

describe('program: model replies that are not the JSON asked for', () => {
  const table: Table = { 'alpha query': docsWith('alpha', [0.8, 0.7]) };

  it('retries type selection warmer, then fails with a typed failure', async () => {
    const { outcome, requests, events } = await runScripted(
      [garbage('program-types'), types('Not A Type'), garbage('program-types')],
      {},
      { table },
    );
    expect(outcome).toMatchObject({ answer: null, failure: { code: 'invalid_json' } });
    expect(outcome.failure!.message).toMatch(/did not pick program types as valid JSON in 3 tries/);
    expect(requests.map((r) => r.temperature)).toEqual([0, 0.7, 0.7]);
    expect(requests[0]!.jsonSchema).toMatchObject({
      properties: { types: { items: { enum: expect.arrayContaining(['Bridge Entity']) } } },
    });
    expect(steps(events, 'program-types')[0]!.title).toMatch(/no valid choice/);
  });

  it('reads type names case-insensitively, skips types outside the set, keeps at most maxPrograms', async () => {
    const { events, outcome } = await runScripted(
      [
        {
          role: 'program-types',
          output: 'Types: {"types": ["simple fact", "Diagnosis", "Count", "Temporal"]}',
        },
        candidates('alpha query'),
        candidates('beta query'),
        judge(true),
        judge(true),
        final('the Seine'),
      ],
      { maxPrograms: 2 },
      { table },
    );
    expect(steps(events, 'program-types')[0]!.data).toMatchObject({
      types: ['Simple Fact', 'Count'],
      dropped: ['Temporal'],
      typeSet: 'basic+advanced',
    });
    expect(outcome.metrics.strategy).toMatchObject({ types: 'Simple Fact, Count', programs: 2 });
  });

  it('retries candidates, falls back to the question; a judgement never valid counts as insufficient', async () => {
    const { events, outcome } = await runScripted(
      [
        types('Simple Fact', 'Count'),
        garbage('program-candidates'),
        candidates('alpha query'),
        garbage('program-candidates'),
        garbage('program-candidates'),
        garbage('program-sufficiency'),
        garbage('program-sufficiency'),
        judge(true),
        final('the Seine'),
      ],
      { jsonAttempts: 2, maxRounds: 1 },
      { table },
    );
    const [first, second] = steps(events, 'program-candidates').map((step) => step.data!);
    expect(first).toMatchObject({ attempts: 2, fallback: false, chosen: 'alpha query' });
    expect(second).toMatchObject({ attempts: 2, fallback: true, chosen: QUESTION });
    const row = rowOf(rounds(events)[0]!.programs, 0);
    expect(row).toMatchObject({ sufficient: false, judgementFailed: true, status: 'active' });
    expect(outcome.metrics.strategy).toMatchObject({
      candidateFallbacks: 1,
      judgementFailures: 1,
      locked: 1,
    });
  });
});

describe('program: given sub-questions (oracle decomposition)', () => {
  const [c1, c2] = docsWith('capital', [0.9, 0.8]);
  const [r1, r2] = docsWith('river', [0.9, 0.8]);
  const table: Table = {
    'What is the capital of France?': [c1!, c2!],
    'Which river flows through Paris?': [r1!, r2!],
  };
  const given = ['What is the capital of France?', 'Which river flows through Paris?'];

  it('makes one program per given sub-question, with no type selection or candidates, then prunes, locks and answers as usual', async () => {
    const { events, requests, retrieves, outcome } = await runScripted(
      [judge(true), judge(true), final('the Seine')],
      // maxPrograms does not cut a given decomposition short.
      {
        givenSubQuestions: JSON.stringify(given),
        givenSubQuestionsSource: 'gold-decomposition',
        maxPrograms: 1,
      },
      { table },
    );
    // No "program-types" and no "program-candidates" call: only the judgements and the answer.
    expect(requests.map((request) => request.role)).toEqual([
      'program-sufficiency',
      'program-sufficiency',
      'program-answer',
    ]);
    expect(requests[0]!.messages[0]!.content).toContain(
      'a "Given sub-question" program (answer one step of a decomposition given with the question) searching for: What is the capital of France?',
    );
    // No information-gain lists: each sub-question retrieves the run's k as its program's evidence.
    expect(retrieves).toEqual(given.map((query) => ({ query, k: 3 })));
    expect(steps(events, 'program-candidates')).toEqual([]);
    expect(steps(events, 'program-types')[0]!.data).toMatchObject({
      types: ['Given sub-question', 'Given sub-question'],
      given: true,
      source: 'gold-decomposition',
    });
    expect(steps(events, 'given-sub-questions')[0]!.title).toMatch(/^2 sub-questions given by the oracle/);
    expect(rounds(events)[0]!.programs.map((row) => [row.subQuery, row.status])).toEqual([
      [given[0], 'locked'],
      [given[1], 'locked'],
    ]);
    expect(outcome.metrics.strategy).toMatchObject({
      types: 'Given sub-question, Given sub-question',
      givenSubQuestions: 2,
      programs: 2,
      rounds: 1,
      locked: 2,
      stopReason: 'all-locked',
      retrievals: 2,
      documentsPooled: 4,
    });
    expect(outcome.answer).toBe('the Seine');
  });
});

describe('program: corpus and registry', () => {
  it('needs a corpus: the registry says so, startRun refuses, run() throws a clear error', async () => {
    expect(strategyRegistry.list().find((s) => s.id === 'program')).toMatchObject({ corpus: 'required' });
    expect(() =>
      startRun(
        { kind: 'question', question: QUESTION, strategy: 'program', model: 'replay:x', corpus: null },
        { engine: {} as Engine, llm: () => Promise.reject(new Error('not reached')) },
      ),
    ).toThrow(expect.objectContaining({ code: 'CORPUS_REQUIRED' }));
    await expect(runScripted([], {}, { table: {}, hasCorpus: false })).rejects.toMatchObject({
      code: 'CORPUS_REQUIRED',
      message: expect.stringMatching(/choose one to search/),
    });
  });

  it('lists every option with its default', () => {
    const info = strategyRegistry.list().find((s) => s.id === 'program')!;
    const defaults = Object.fromEntries(info.options.map((option) => [option.key, option.default]));
    expect(defaults).toMatchObject({
      typeSet: 'basic+advanced',
      candidates: 3,
      alpha: 1,
      igTopN: 10,
      igTemperature: 0.5,
      igSmoothing: 0.05,
      maxRounds: 7,
      pruneLevel: 0.05,
      moreEvidence: 'next-page',
    });
    for (const option of info.options) expect(option.description).toMatch(/Default .+\.$/);
  });
});

describe('program through startRun', () => {
  const a = docsWith('alpha', [0.9, 0.85, 0.95]);
  const c = docsWith('gamma', [0.1, 0.15, 0.05]);
  const table: Table = {
    'alpha query': a,
    'beta query': docsWith('beta', [0.8, 0.9, 0.85]),
    'gamma query': c,
  };
  const engineWith = (embed: Retriever['embed'] | undefined): Engine =>
    ({
      reranker: async () => ({ unavailable: 'no cross-encoder in this test' }),
      openRetriever: (corpus: string): Retriever => ({
        corpus,
        search: async (query, options) =>
          ({
            requestedMode: 'bm25',
            mode: 'bm25',
            warnings: [],
            hits: tableSearch(table)(query, options?.k ?? 5).map((doc) => ({
              chunkId: doc.id,
              documentId: doc.id,
              path: doc.source,
              title: doc.title,
              text: doc.text,
              start: 0,
              end: doc.text.length,
              page: null,
              score: doc.score,
              ranks: { bm25: 1 },
            })),
          }) satisfies SearchResult,
        ...(embed ? { embed } : {}),
        close: () => {},
      }),
    }) as unknown as Engine;

  async function ask(lines: Line[], engine: Engine) {
    const { llm } = await replayOf(lines);
    const result = await startRun(
      {
        kind: 'question',
        question: QUESTION,
        strategy: 'program',
        model: 'replay:x',
        corpus: 'fake',
        topK: 3,
      },
      { engine, llm: async () => ({ backend: llm, release: async () => {} }) },
    ).done;
    await expectConsumed(llm);
    return result;
  }

  it("uses the corpus's embedder through the context and records the whole method in the trace", async () => {
    const result = await ask(
      [...THREE, judge(true), judge(false), final('the Seine')],
      engineWith(fixedEmbed),
    );
    expect(result).toMatchObject({ status: 'succeeded', answer: 'the Seine' });
    const kinds = result.events.flatMap((e) => (e.type === 'step' ? [e.kind] : []));
    expect(kinds).toEqual([
      'similarity',
      'program-types',
      'program-candidates',
      'program-candidates',
      'program-candidates',
      'program-retrieval',
      'program-retrieval',
      'program-retrieval',
      'program-round',
      'program-pool',
      'program-rerank',
    ]);
    expect(result.metrics).toMatchObject({
      llmCalls: 7,
      program: null,
      strategy: { similarity: 'embedding', pruned: 1, locked: 1, stopReason: 'one-active' },
    });
  });

  it('falls back to lexical similarity when the retriever has no embedder', async () => {
    const result = await ask(
      [types('Simple Fact'), candidates('alpha query'), final('the Seine')],
      engineWith(undefined),
    );
    expect(result.metrics.strategy).toMatchObject({ similarity: 'lexical', reranker: 'bm25' });
  });

  it('ends a run whose type selection never parses in a typed error', async () => {
    const result = await ask(
      [garbage('program-types'), garbage('program-types'), garbage('program-types')],
      engineWith(fixedEmbed),
    );
    expect(result).toMatchObject({ status: 'failed', answer: null, error: { code: 'PROGRAM_INVALID_JSON' } });
  });
});
