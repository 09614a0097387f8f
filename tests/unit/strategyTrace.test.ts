import { describe, expect, it } from 'vitest';
import type { StrategyStep } from '../../renderer/src/run/runState.ts';
import {
  docsOf,
  flareTrace,
  hasDedicatedView,
  ircotChain,
  iterRetgenRounds,
  markTokens,
  programTrace,
  selfAskChain,
  simulatedCalls,
  stepDocs,
} from '../../renderer/src/run/strategyTrace.ts';

let seq = 0;
function step(
  kind: string,
  data: Record<string, unknown> | null,
  detail: string | null = null,
): StrategyStep {
  seq++;
  return { seq, at: seq, kind, title: kind, detail, data };
}
const doc = (id: number, title = `Doc ${id}`) => ({ id, title, score: 1 / id, source: `/c/${id}.txt` });

describe('docsOf', () => {
  it('reads id, title, source and score, and skips entries without a numeric id', () => {
    expect(docsOf({ docs: [doc(3), { title: 'no id' }, 'junk', { id: 4 }] })).toEqual([
      { id: 3, title: 'Doc 3', source: '/c/3.txt', score: 1 / 3 },
      { id: 4, title: '', source: '', score: null },
    ]);
    expect(docsOf(null)).toEqual([]);
    expect(docsOf({ docs: 'nope' })).toEqual([]);
  });
});

describe('selfAskChain', () => {
  it('keeps each follow-up with its answer and passages, then the final answer', () => {
    const chain = selfAskChain([
      step('follow-up', {
        step: 1,
        question: 'Who?',
        intermediateAnswer: 'Holst',
        docs: [doc(1), doc(2)],
        newDocIds: [1, 2],
      }),
      step('follow-up', {
        step: 2,
        question: 'Where?',
        intermediateAnswer: 'England',
        docs: [doc(2)],
        newDocIds: [],
      }),
      step('final-answer', { answer: 'England', forced: true, stopReason: 'cap' }),
    ]);
    expect(
      chain.followUps.map((f) => [
        f.step,
        f.question,
        f.intermediateAnswer,
        f.docs.map((d) => d.id),
        f.newDocIds,
      ]),
    ).toEqual([
      [1, 'Who?', 'Holst', [1, 2], [1, 2]],
      [2, 'Where?', 'England', [2], []],
    ]);
    expect(chain.final).toEqual({ answer: 'England', forced: true, stopReason: 'cap' });
  });

  it('has no final answer while the chain runs, and skips a follow-up without a question', () => {
    const chain = selfAskChain([step('follow-up', { step: 1 }), step('note', { question: 'x' })]);
    expect(chain).toEqual({ followUps: [], final: null });
  });
});

describe('ircotChain', () => {
  it('interleaves retrievals and thoughts in trace order and keeps the reader', () => {
    const chain = ircotChain([
      step('retrieval', { step: 0, query: 'Q?', docs: [doc(1)], newDocIds: [1] }),
      step('thought', { step: 1, sentence: 'A is B.', answerSentence: false }),
      step('retrieval', { step: 1, query: 'A is B.', docs: [doc(1), doc(2)], newDocIds: [2] }),
      step('thought', { step: 2, sentence: 'So the answer is: B.', answerSentence: true }),
      step('reader', { docs: [doc(1), doc(2)], collected: 2 }),
    ]);
    expect(
      chain.entries.map((e) =>
        e.kind === 'retrieval' ? `r${e.step}:${e.query}` : `t${e.step}:${e.sentence}`,
      ),
    ).toEqual(['r0:Q?', 't1:A is B.', 'r1:A is B.', 't2:So the answer is: B.']);
    expect(chain.entries[3]).toMatchObject({ answerSentence: true });
    expect(chain.reader).toMatchObject({ collected: 2 });
    expect(chain.reader!.docs.map((d) => d.id)).toEqual([1, 2]);
  });

  it('has no reader until the reader step', () => {
    expect(ircotChain([step('retrieval', { step: 0, query: 'Q', docs: [] })]).reader).toBeNull();
  });
});

describe('iterRetgenRounds', () => {
  it('reads each round’s query, passages and generation', () => {
    const rounds = iterRetgenRounds([
      step('round', {
        round: 1,
        query: 'Q',
        docs: [doc(5)],
        newDocIds: [5],
        answer: 'x',
        reasoning: 'because',
      }),
      step('round', { round: 2, query: 'Q x', docs: [doc(5)], newDocIds: [], answer: 'y', reasoning: null }),
    ]);
    expect(rounds.map((r) => [r.round, r.query, r.docs.map((d) => d.id), r.answer, r.reasoning])).toEqual([
      [1, 'Q', [5], 'x', 'because'],
      [2, 'Q x', [5], 'y', null],
    ]);
  });
});

describe('flareTrace and markTokens', () => {
  it('reads sentences, their low-confidence tokens, masked query and passages titled from other steps', () => {
    const trace = flareTrace(
      [
        step('retrieval', { query: 'Q?', retrievedIds: [7] }),
        step('sentence', {
          index: 1,
          sentence: 'Paris is big.',
          minProbability: 0.9,
          triggeredRetrieval: false,
        }),
        step('sentence', {
          index: 2,
          sentence: 'It lies on the Seine.',
          minProbability: 0.1,
          triggeredRetrieval: true,
          lookahead: 'It lies on the Loire.',
          lowConfidenceTokens: [{ text: ' Loire', probability: 0.1 }, { text: 7 }],
          query: 'It lies on the',
          retrievedIds: [8, 7],
        }),
      ],
      new Map([[7, { id: 7, title: 'Paris', source: '/p', score: null }]]),
    );
    expect(trace.initialRetrieval).toEqual({
      query: 'Q?',
      docs: [{ id: 7, title: 'Paris', source: '/p', score: null }],
    });
    expect(trace.sentences[0]).toMatchObject({
      triggeredRetrieval: false,
      lookahead: 'Paris is big.',
      query: null,
      docs: [],
    });
    expect(trace.sentences[1]).toMatchObject({
      triggeredRetrieval: true,
      lookahead: 'It lies on the Loire.',
      lowConfidenceTokens: [{ text: ' Loire', probability: 0.1 }],
      query: 'It lies on the',
    });
    expect(trace.sentences[1]!.docs.map((d) => [d.id, d.title])).toEqual([
      [8, ''],
      [7, 'Paris'],
    ]);
  });

  it('marks each token once, in order, after the one before', () => {
    expect(
      markTokens('the cat saw the dog', [
        { text: ' the', probability: 0.2 },
        { text: 'dog', probability: 0.3 },
        { text: 'missing', probability: 0.1 },
      ]),
    ).toEqual([
      { text: 'the', probability: 0.2 },
      { text: ' cat saw the ', probability: null },
      { text: 'dog', probability: 0.3 },
    ]);
    expect(markTokens('abc', [])).toEqual([{ text: 'abc', probability: null }]);
  });
});

describe('simulatedCalls', () => {
  it('reads calls and simulated names with their values', () => {
    expect(
      simulatedCalls([
        step('simulated-call', { name: 'wage', args: ['Ann'], line: 2, value: 12, attempts: 1 }),
        step('simulated-call', { name: 'rate', args: null, line: null, value: { a: 1 }, attempts: 2 }),
        step('simulated-call', { args: [] }),
      ]).map(({ seq: _seq, ...call }) => call),
    ).toEqual([
      { name: 'wage', args: ['Ann'], line: 2, value: 12, attempts: 1 },
      { name: 'rate', args: null, line: null, value: { a: 1 }, attempts: 2 },
    ]);
  });
});

describe('programTrace', () => {
  const row = (program: number, status: string, extra: Record<string, unknown> = {}) => ({
    program,
    type: program === 0 ? 'Comparison' : 'Multi-hop',
    subQuery: `sq${program}`,
    documents: 0,
    support: 0.5,
    test: 'performed',
    t: -1,
    df: 4,
    pValue: 0.2,
    sufficient: false,
    judgementFailed: false,
    status,
    ...extra,
  });
  const steps = [
    step('program-types', { types: ['Comparison', 'Multi-hop'] }),
    step('program-candidates', {
      program: 0,
      type: 'Comparison',
      alpha: 1,
      chosen: 'b',
      candidates: [
        { query: 'a', informationGain: 0.1, similarity: 0.2, score: 0.3 },
        { query: 'b', informationGain: 0.4, similarity: 0.2, score: 0.6 },
      ],
    }),
    step('program-retrieval', { program: 0, round: 0, docs: [doc(1), doc(2)] }),
    step('program-retrieval', { program: 1, round: 0, docs: [doc(3)] }),
    step('program-round', {
      round: 1,
      level: 0.05,
      groupMean: 0.4,
      programs: [row(0, 'active'), row(1, 'active')],
    }),
    step('program-retrieval', { program: 0, round: 1, docs: [doc(2), doc(4)] }),
    step('program-retrieval', { program: 1, round: 1, docs: [doc(5)] }),
    step('program-round', {
      round: 2,
      level: 0.05,
      groupMean: 0.4,
      programs: [row(0, 'pruned', { pValue: 0.01 }), row(1, 'locked', { sufficient: true }), row(2, 'bogus')],
    }),
    step('program-pool', { stopReason: 'all-locked', docs: [doc(3), doc(5)] }),
    step('program-rerank', {
      reranker: 'lexical',
      order: [
        { id: 5, title: 'Doc 5', score: 4.5, similarity: 0.3, poolRank: 2, kept: true },
        { id: 3, title: 'Doc 3', similarity: 0.1, poolRank: 1, kept: false },
      ],
    }),
  ];

  it('builds each round’s table with the passages each program held then', () => {
    const trace = programTrace(steps);
    expect(trace.types).toEqual(['Comparison', 'Multi-hop']);
    expect(trace.candidates).toHaveLength(1);
    expect(trace.candidates[0]!.candidates.map((c) => [c.query, c.chosen])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(
      trace.rounds.map((r) => r.rows.map((x) => [x.program, x.status, x.docs.map((d) => d.id)])),
    ).toEqual([
      [
        [0, 'active', [1, 2]],
        [1, 'active', [3]],
      ],
      // A row with an unknown status is skipped; round 2's passages include round 1's retrievals, each once.
      [
        [0, 'pruned', [1, 2, 4]],
        [1, 'locked', [3, 5]],
      ],
    ]);
    expect(trace.rounds[1]!.rows[0]).toMatchObject({ pValue: 0.01, t: -1 });
    expect(trace.pool).toMatchObject({ stopReason: 'all-locked' });
    // `score` (any reranker) wins; traces written before it existed carry only `similarity`.
    expect(trace.rerank!.order.map((o) => o.score)).toEqual([4.5, 0.1]);
    expect(trace.rerank!.order.map((o) => [o.doc.id, o.doc.source, o.kept, o.poolRank])).toEqual([
      [5, '/c/5.txt', true, 2],
      [3, '/c/3.txt', false, 1],
    ]);
  });

  it('has no rounds, pool or rerank before they happen', () => {
    const trace = programTrace(steps.slice(0, 4));
    expect(trace.rounds).toEqual([]);
    expect(trace.pool).toBeNull();
    expect(trace.rerank).toBeNull();
  });
});

describe('hasDedicatedView and stepDocs', () => {
  it('gives a strategy its view only when the run has one of the steps it reads', () => {
    expect(hasDedicatedView('ircot', [step('thought', {})])).toBe(true);
    expect(hasDedicatedView('ircot', [step('something-else', {})])).toBe(false);
    expect(hasDedicatedView('vanilla', [step('retrieval', {})])).toBe(false);
    expect(hasDedicatedView(null, [step('thought', {})])).toBe(false);
  });

  it('collects every titled passage once, first listing first', () => {
    const known = stepDocs([
      step('a', { docs: [doc(1, 'One')] }),
      step('b', { docs: [doc(1, 'Other'), doc(2)] }),
    ]);
    expect([...known.values()].map((d) => [d.id, d.title])).toEqual([
      [1, 'One'],
      [2, 'Doc 2'],
    ]);
  });
});
