/**
 * The official scoring rules, pinned with hand-checked cases. Every expected number below was worked
 * out by hand from the rule in ../shared/data/README.md and the official scripts it cites.
 */
import { describe, expect, it } from 'vitest';
import { answerTokens, normalizeAnswer } from '../../main/engine/eval/scoring/normalizeAnswer.ts';
import {
  exactMatch,
  hotpotAnswerMaxScore,
  hotpotAnswerScore,
  musiqueAnswerMaxScore,
  musiqueAnswerScore,
} from '../../main/engine/eval/scoring/answerScores.ts';
import {
  jointScore,
  paragraphRecall,
  supportingFactScore,
} from '../../main/engine/eval/scoring/supportingFactScores.ts';
import {
  bbhScore,
  extractBbhAnswer,
  extractGsm8kAnswer,
  gsm8kScore,
  pubMedQaAccuracyAndMacroF1,
  toPubMedQaLabel,
  toStrategyQaBoolean,
} from '../../main/engine/eval/scoring/reasoningScores.ts';
import {
  extractOptionLabel,
  multipleChoiceScore,
} from '../../main/engine/eval/scoring/multipleChoiceScore.ts';
import { scoreQuestion, summarizeScores } from '../../main/engine/eval/scoring/scoreQuestion.ts';
import type { EvalItem } from '../../main/engine/eval/datasets/EvalItem.ts';

describe('normalizeAnswer (official normalize_answer)', () => {
  it('lowercases, deletes ASCII punctuation, drops whole-word articles, collapses whitespace', () => {
    expect(normalizeAnswer('The Quick, Brown Fox!')).toBe('quick brown fox');
    expect(normalizeAnswer('an apple a day')).toBe('apple day');
    expect(normalizeAnswer('  U.S.A.  ')).toBe('usa');
    expect(normalizeAnswer("l'amour")).toBe('lamour');
  });

  it('removes punctuation before articles, so "a-ha" is one word and "(the) end" loses its article', () => {
    expect(normalizeAnswer('A-ha')).toBe('aha');
    expect(normalizeAnswer('(the) end')).toBe('end');
  });

  it('drops articles only as whole words, with Python’s Unicode word boundaries', () => {
    expect(normalizeAnswer('theatre another')).toBe('theatre another');
    expect(normalizeAnswer('Über the top')).toBe('über top');
    // Python's \b sees "é" as a word character, so "éthe" keeps its "the"; JavaScript's \b would not.
    expect(normalizeAnswer('éthe')).toBe('éthe');
    expect(normalizeAnswer('é the')).toBe('é');
  });

  it('keeps non-ASCII punctuation (string.punctuation is ASCII only)', () => {
    expect(normalizeAnswer('“Quoted” — yes')).toBe('“quoted” — yes');
  });

  it('splits on Python’s whitespace: NBSP and U+001C split, U+FEFF does not', () => {
    expect(answerTokens('x\u00a0y')).toEqual(['x', 'y']);
    expect(answerTokens('x\u001cy')).toEqual(['x', 'y']);
    expect(answerTokens('x\ufeffy')).toEqual(['x\ufeffy']);
  });

  it('turns an empty string or only articles into nothing', () => {
    expect(normalizeAnswer('')).toBe('');
    expect(normalizeAnswer(' a an THE ')).toBe('');
    expect(answerTokens('The.')).toEqual([]);
  });
});

describe('HotpotQA answer EM/F1 (hotpot_evaluate_v1.py)', () => {
  it('matches after normalization', () => {
    expect(hotpotAnswerScore('the Eiffel Tower.', 'Eiffel Tower')).toEqual({
      em: 1,
      f1: 1,
      precision: 1,
      recall: 1,
    });
    expect(hotpotAnswerScore('Yes.', 'yes')).toEqual({ em: 1, f1: 1, precision: 1, recall: 1 });
  });

  it('zeroes F1 when either side is yes/no/noanswer and they differ', () => {
    expect(hotpotAnswerScore('yes', 'no')).toEqual({ em: 0, f1: 0, precision: 0, recall: 0 });
    // Token overlap would give F1 0.5; the rule makes it 0.
    expect(hotpotAnswerScore('yes it is', 'yes')).toEqual({ em: 0, f1: 0, precision: 0, recall: 0 });
    expect(hotpotAnswerScore('no', 'no way')).toEqual({ em: 0, f1: 0, precision: 0, recall: 0 });
    expect(hotpotAnswerScore('noanswer', 'no answer')).toEqual({ em: 0, f1: 0, precision: 0, recall: 0 });
  });

  it('counts shared tokens as a multiset intersection', () => {
    // pred [cat, cat, dog], gold [cat, cat]: 2 shared; P 2/3, R 1, F1 0.8 (a set would give 0.4).
    const score = hotpotAnswerScore('cat cat dog', 'cat cat');
    expect(score.precision).toBeCloseTo(2 / 3, 12);
    expect(score.recall).toBe(1);
    expect(score.f1).toBeCloseTo(0.8, 12);
    // pred [new, york, new, york], gold [new, york, city]: 2 shared; P 1/2, R 2/3, F1 4/7.
    expect(hotpotAnswerScore('New York, New York', 'New York City').f1).toBeCloseTo(4 / 7, 12);
  });

  it('gives partial credit by tokens and none without overlap', () => {
    // [chief, of, protocol, of, united, states] vs [chief, of, protocol]: 3 shared; P 1/2, R 1, F1 2/3.
    const score = hotpotAnswerScore('the chief of protocol of the United States', 'Chief of Protocol');
    expect(score).toMatchObject({ em: 0, precision: 0.5, recall: 1 });
    expect(score.f1).toBeCloseTo(2 / 3, 12);
    expect(hotpotAnswerScore('Paris', 'London')).toEqual({ em: 0, f1: 0, precision: 0, recall: 0 });
  });

  it('scores two empty answers EM 1 but F1 0 (no shared tokens)', () => {
    expect(hotpotAnswerScore('', '')).toEqual({ em: 1, f1: 0, precision: 0, recall: 0 });
    expect(hotpotAnswerScore('', 'Paris')).toEqual({ em: 0, f1: 0, precision: 0, recall: 0 });
  });

  it('exactMatch compares normalized strings', () => {
    expect(exactMatch('An Apple', 'apple')).toBe(1);
    expect(exactMatch('apples', 'apple')).toBe(0);
  });
});

describe('MuSiQue answer EM/F1 (max over answer and aliases, empty-token rule)', () => {
  it('has no yes/no rule', () => {
    // [yes, it, is] vs [yes]: P 1/3, R 1, F1 0.5.
    expect(musiqueAnswerScore('yes it is', 'yes').f1).toBeCloseTo(0.5, 12);
  });

  it('gives F1 1 only when both sides are empty', () => {
    expect(musiqueAnswerScore('', '')).toMatchObject({ em: 1, f1: 1 });
    expect(musiqueAnswerScore('a', 'The')).toMatchObject({ em: 1, f1: 1 });
    expect(musiqueAnswerScore('', 'Stanley')).toMatchObject({ em: 0, f1: 0 });
    expect(musiqueAnswerScore('Stanley', '')).toMatchObject({ em: 0, f1: 0 });
  });

  it('takes EM and F1 each at their maximum over the answer and its aliases', () => {
    const golds = ['Stanley', 'Stanley, North Dakota'];
    expect(musiqueAnswerMaxScore('Stanley North Dakota', golds)).toMatchObject({ em: 1, f1: 1 });
    // vs "stanley": P 1/3, R 1 → 0.5; vs "stanley north dakota": 1/3 and 1/3 → 1/3. Max 0.5.
    const score = musiqueAnswerMaxScore('city of Stanley', golds);
    expect(score.em).toBe(0);
    expect(score.f1).toBeCloseTo(0.5, 12);
  });
});

describe('FlashRAG golden answers (max over golden_answers)', () => {
  it('is EM 1 when any golden answer matches', () => {
    expect(hotpotAnswerMaxScore('james madison', ['James Madison', 'Madison'])).toMatchObject({
      em: 1,
      f1: 1,
    });
    expect(hotpotAnswerMaxScore('no', ['yes', 'no'])).toMatchObject({ em: 1, f1: 1 });
  });

  it('skips a gold that trips the yes/no rule and keeps the best of the others', () => {
    expect(hotpotAnswerMaxScore('yes sir', ['yes', 'yes sir'])).toMatchObject({ em: 1, f1: 1 });
    expect(hotpotAnswerMaxScore('yes sir', ['yes'])).toEqual({ em: 0, f1: 0, precision: 0, recall: 0 });
  });

  it('maximizes F1, precision and recall separately', () => {
    // vs "james madison": P 1, R 1/2, F1 2/3; vs "jim": nothing.
    const score = hotpotAnswerMaxScore('madison', ['james madison', 'jim']);
    expect(score).toMatchObject({ em: 0, precision: 1, recall: 0.5 });
    expect(score.f1).toBeCloseTo(2 / 3, 12);
  });
});

describe('HotpotQA supporting facts and joint scores', () => {
  const gold = [
    ['A', 0],
    ['B', 1],
  ] as const;

  it('compares (title, sentence id) sets', () => {
    // tp 1 (A,0), fp 2, fn 1: P 1/3, R 1/2, F1 0.4, EM 0.
    const score = supportingFactScore(
      [
        ['A', 0],
        ['B', 2],
        ['C', 0],
      ],
      gold,
    );
    expect(score.em).toBe(0);
    expect(score.precision).toBeCloseTo(1 / 3, 12);
    expect(score.recall).toBe(0.5);
    expect(score.f1).toBeCloseTo(0.4, 12);
  });

  it('ignores duplicates, and a string sentence id is not a number', () => {
    expect(
      supportingFactScore(
        [
          ['B', 1],
          ['A', 0],
          ['A', 0],
        ],
        gold,
      ),
    ).toEqual({ em: 1, f1: 1, precision: 1, recall: 1 });
    expect(supportingFactScore([['A', '0']], [['A', 0]]).precision).toBe(0);
  });

  it('scores two empty sets EM 1 with precision, recall and F1 0', () => {
    expect(supportingFactScore([], [])).toEqual({ em: 1, f1: 0, precision: 0, recall: 0 });
  });

  it('lowercases titles only for 2WikiMultihopQA', () => {
    expect(supportingFactScore([['a', 0]], [['A', 0]]).em).toBe(0);
    expect(supportingFactScore([['a', 0]], [['A', 0]], { lowercaseTitles: true }).em).toBe(1);
  });

  it('multiplies answer and SP precision and recall', () => {
    // answer P 1/2, R 1; SP P 1/3, R 1/2 → joint P 1/6, R 1/2, F1 2·(1/12)/(2/3) = 0.25.
    const joint = jointScore(
      { em: 0, f1: 2 / 3, precision: 0.5, recall: 1 },
      { em: 0, f1: 0.4, precision: 1 / 3, recall: 0.5 },
    );
    expect(joint.precision).toBeCloseTo(1 / 6, 12);
    expect(joint.recall).toBe(0.5);
    expect(joint.f1).toBeCloseTo(0.25, 12);
    expect(joint.em).toBe(0);
    expect(
      jointScore({ em: 1, f1: 1, precision: 1, recall: 1 }, { em: 1, f1: 1, precision: 1, recall: 1 }).em,
    ).toBe(1);
  });
});

describe('supporting-paragraph recall', () => {
  it('is the share of distinct gold titles retrieved at any rank', () => {
    expect(paragraphRecall(['A', 'B'], ['B', 'C', 'B'])).toEqual({ recall: 0.5, allFound: 0 });
    expect(paragraphRecall(['A', 'B', 'A'], ['C', 'A', 'B'])).toEqual({ recall: 1, allFound: 1 });
    expect(paragraphRecall(['A'], [])).toEqual({ recall: 0, allFound: 0 });
  });

  it('compares titles as the corpus cleans them', () => {
    expect(paragraphRecall(['Ed Wood'], ['Ed\u200b Wood'])).toEqual({ recall: 1, allFound: 1 });
  });
});

describe('GSM8K (grade-school-math dataset.py)', () => {
  it('extracts the first "#### <n>" with commas removed, else nothing', () => {
    expect(extractGsm8kAnswer('She makes $18.\n#### 18')).toBe('18');
    expect(extractGsm8kAnswer('#### 1,234')).toBe('1234');
    expect(extractGsm8kAnswer('#### -3')).toBe('-3');
    expect(extractGsm8kAnswer('#### 18\nno, #### 20')).toBe('18');
    expect(extractGsm8kAnswer('####18')).toBeNull();
    expect(extractGsm8kAnswer('The answer is 18')).toBeNull();
  });

  it('compares as strings; numeric equality is a separate, non-official column', () => {
    expect(gsm8kScore('#### 18', '18')).toEqual({ correct: 1, numericEqual: 1, extracted: '18' });
    expect(gsm8kScore('#### 18.0', '18')).toEqual({ correct: 0, numericEqual: 1, extracted: '18.0' });
    expect(gsm8kScore('#### 18.', '18')).toEqual({ correct: 0, numericEqual: 1, extracted: '18.' });
    expect(gsm8kScore('The answer is 18', '18')).toEqual({ correct: 0, numericEqual: 1, extracted: null });
    expect(gsm8kScore('It costs $1,000 in total', '1000')).toMatchObject({ correct: 0, numericEqual: 1 });
    expect(gsm8kScore('#### 17', '18')).toEqual({ correct: 0, numericEqual: 0, extracted: '17' });
    expect(gsm8kScore('no idea', '18')).toEqual({ correct: 0, numericEqual: 0, extracted: null });
  });
});

describe('BBH (exact match after "So the answer is")', () => {
  it('takes the rest of the line after the last phrase, one trailing period dropped', () => {
    expect(extractBbhAnswer("Let's think step by step. ... So the answer is (B).")).toBe('(B)');
    expect(extractBbhAnswer('So the answer is Yes. Wait. So the answer is No.')).toBe('No');
    expect(extractBbhAnswer('So the answer is True.\n\nQ: not True is\nA: So the answer is False.')).toBe(
      'False',
    );
    expect(extractBbhAnswer('So the answer is True.\n\nQ: next question')).toBe('True');
    expect(extractBbhAnswer('  (A) ')).toBe('(A)');
  });

  it('is case-sensitive exact match on the target', () => {
    expect(bbhScore('So the answer is False.', 'False').correct).toBe(1);
    expect(bbhScore('So the answer is false.', 'False').correct).toBe(0);
    expect(bbhScore('So the answer is B.', '(B)').correct).toBe(0);
  });
});

describe('PubMedQA (accuracy and macro-F1 over yes/no/maybe)', () => {
  it('maps a prediction to a label after normalization, else none', () => {
    expect(toPubMedQaLabel('Yes.')).toBe('yes');
    expect(toPubMedQaLabel(' MAYBE ')).toBe('maybe');
    expect(toPubMedQaLabel('yes, because')).toBeNull();
  });

  it('computes macro-F1 as scikit-learn does', () => {
    // gold [yes, yes, no, maybe], pred [yes, no, no, —]: accuracy 2/4.
    // yes: P 1/1, R 1/2 → 2/3; no: P 1/2, R 1/1 → 2/3; maybe: no TP → 0. Macro (2/3 + 2/3 + 0)/3 = 4/9.
    const result = pubMedQaAccuracyAndMacroF1([
      { gold: 'yes', predicted: 'yes' },
      { gold: 'yes', predicted: 'no' },
      { gold: 'no', predicted: 'no' },
      { gold: 'maybe', predicted: null },
    ]);
    expect(result.accuracy).toBe(0.5);
    expect(result.macroF1).toBeCloseTo(4 / 9, 12);
  });

  it('averages only over labels that occur among golds or predictions', () => {
    // Only yes and no occur: yes P 1/2 R 1 → 2/3, no: no TP → 0. Macro 1/3.
    const result = pubMedQaAccuracyAndMacroF1([
      { gold: 'yes', predicted: 'yes' },
      { gold: 'no', predicted: 'yes' },
    ]);
    expect(result.macroF1).toBeCloseTo(1 / 3, 12);
  });
});

describe('StrategyQA and multiple choice', () => {
  it('reads booleans and yes/no/true/false', () => {
    expect(toStrategyQaBoolean(true)).toBe(true);
    expect(toStrategyQaBoolean('True')).toBe(true);
    expect(toStrategyQaBoolean('No.')).toBe(false);
    expect(toStrategyQaBoolean('perhaps')).toBeNull();
  });

  const options = [
    { label: 'A', text: 'Paris' },
    { label: 'B', text: 'London' },
    { label: 'C', text: 'Rome' },
  ];

  it('scores by option label however the label is written', () => {
    for (const prediction of [
      'B',
      '(b)',
      'B.',
      'The answer is (B).',
      'Answer: B',
      'london',
      'I pick (B) here',
    ])
      expect(multipleChoiceScore(prediction, 'B', options), prediction).toEqual({ correct: 1, chosen: 'B' });
    expect(multipleChoiceScore('Answer: C', 'B', options)).toEqual({ correct: 0, chosen: 'C' });
  });

  it('does not read an article as option A, nor guess between two labels', () => {
    expect(extractOptionLabel('the answer is a city', options)).toBeNull();
    expect(extractOptionLabel('(A) is wrong, (B) is right', options)).toBeNull();
  });
});

describe('scoreQuestion and summarizeScores', () => {
  const hotpot: EvalItem = {
    id: 'h1',
    dataset: 'hotpotqa',
    input: { question: 'q' },
    gold: { answers: ['Chief of Protocol'], supportingFacts: [['A', 0]], supportingTitles: ['A'] },
  };

  it('scores a missing prediction 0 on every metric', () => {
    const score = scoreQuestion(hotpot, undefined, { withSupportingFacts: true, withRetrieval: true });
    expect(score.missing).toBe(true);
    expect(score.metrics).toEqual({
      em: 0,
      f1: 0,
      precision: 0,
      recall: 0,
      sp_em: 0,
      sp_f1: 0,
      sp_precision: 0,
      sp_recall: 0,
      joint_em: 0,
      joint_f1: 0,
      joint_precision: 0,
      joint_recall: 0,
      paragraph_recall: 0,
      paragraph_all_found: 0,
    });
  });

  it('scores SP without an answer but joint only with both', () => {
    const score = scoreQuestion(hotpot, { answer: null, supportingFacts: [['A', 0]] });
    expect(score.metrics).toMatchObject({ em: 0, sp_em: 1, joint_em: 0, joint_f1: 0 });
  });

  it('averages over every question, a missing one counting 0, and adds PubMedQA macro-F1', () => {
    const pubmed = (id: string, gold: string): EvalItem => ({
      id,
      dataset: 'pubmedqa',
      input: { question: id },
      gold: { answers: [gold] },
    });
    const scores = [
      scoreQuestion(pubmed('1', 'yes'), { answer: 'yes' }),
      scoreQuestion(pubmed('2', 'yes'), { answer: 'no' }),
      scoreQuestion(pubmed('3', 'no'), { answer: 'No.' }),
      scoreQuestion(pubmed('4', 'maybe'), undefined),
    ];
    const [summary] = summarizeScores(scores);
    expect(summary).toMatchObject({ rule: 'pubmedqa', questions: 4, answered: 3, missing: 1 });
    expect(summary!.metrics.map((m) => [m.key, m.value])).toEqual([
      ['accuracy', 0.5],
      ['macro_f1', expect.closeTo(4 / 9, 12)],
    ]);
  });

  it('labels GSM8K numeric equality as not official', () => {
    const item: EvalItem = { id: 'g', dataset: 'gsm8k', input: { question: 'q' }, gold: { answers: ['18'] } };
    const [summary] = summarizeScores([scoreQuestion(item, { answer: '18' })]);
    expect(summary!.metrics.map((m) => [m.key, m.value, m.official])).toEqual([
      ['accuracy', 0, true],
      ['numeric_equal', 1, false],
    ]);
  });

  it('uses multiple choice wherever an item has options, and StrategyQA booleans', () => {
    const mc: EvalItem = {
      id: 'm',
      dataset: 'custom',
      input: {
        question: 'q',
        options: [
          { label: 'A', text: 'x' },
          { label: 'B', text: 'y' },
        ],
      },
      gold: { answers: ['B'] },
    };
    expect(scoreQuestion(mc, { answer: 'y' })).toMatchObject({
      rule: 'multiple-choice',
      extracted: 'B',
      metrics: { accuracy: 1 },
    });
    const sqa: EvalItem = {
      id: 's',
      dataset: 'strategyqa',
      input: { question: 'q' },
      gold: { answers: ['no'] },
    };
    expect(scoreQuestion(sqa, { answer: false })).toMatchObject({
      prediction: 'no',
      metrics: { accuracy: 1 },
    });
  });
});
