/**
 * PROGRAM's statistics against values known independently of the code under test: Student's t CDF
 * against closed forms and printed t-tables, the one-sample t-test against R's `t.test`, the KL
 * estimate against a hand computation; and the lexical similarity fallback, the type library.
 */
import { describe, expect, it } from 'vitest';
import { evidenceKl, oneSampleTTestLess } from '../../main/engine/strategies/program/programStatistics.ts';
import { lexicalScores } from '../../main/engine/strategies/program/programSimilarity.ts';
import { PROGRAM_TYPES, programTypesOf } from '../../main/engine/strategies/program/programTypes.ts';

/** The p-value the test reports for a sample whose t and df are known. */
function pOf(sample: number[], mu0: number): number {
  const result = oneSampleTTestLess(sample, mu0);
  if (!result.performed) throw new Error(`no test: ${result.reason}`);
  return result.pValue;
}

describe('one-sample t-test (lower tail)', () => {
  it('matches R: t.test(1:5, mu = 4) gives t = -1.4142, df = 4, two-sided p = 0.2302', () => {
    const result = oneSampleTTestLess([1, 2, 3, 4, 5], 4);
    expect(result).toMatchObject({ performed: true, n: 5, mean: 3, df: 4 });
    if (!result.performed) return;
    expect(result.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(result.t).toBeCloseTo(-Math.SQRT2, 12);
    expect(result.pValue * 2).toBeCloseTo(0.2302, 4);
  });

  it("uses Student's t CDF: Cauchy at df = 1, the closed form at df = 2, table quantiles", () => {
    // df = 1 is the Cauchy distribution: P(T ≤ -1) = 1/4. Sample [0, 2] vs 2: mean 1, s = √2, t = -1.
    expect(pOf([0, 2], 2)).toBeCloseTo(0.25, 12);
    // df = 2: F(t) = 1/2 + t / (2√(2 + t²)). Sample [0, 1, 2] vs 2: mean 1, s = 1, t = -√3.
    const t = -Math.sqrt(3);
    expect(pOf([0, 1, 2], 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    // Printed t-table: t(0.975, 4) = 2.776445, t(0.95, 9) = 1.833113.
    const withT = (target: number, n: number): number[] => {
      // A sample of n with mean 0 and s = 1 (±a pairs, a zero for odd n), tested against mu0 = -t·s/√n.
      const half = Math.floor(n / 2);
      const a = Math.sqrt((n - 1) / (2 * half));
      const sample = [...Array(half).fill(a), ...Array(half).fill(-a), ...(n % 2 ? [0] : [])];
      return [target, ...sample];
    };
    const [t4, ...five] = withT(-2.776445, 5);
    expect(pOf(five, -t4! / Math.sqrt(5))).toBeCloseTo(0.025, 6);
    const [t9, ...ten] = withT(-1.833113, 10);
    expect(pOf(ten, -t9! / Math.sqrt(10))).toBeCloseTo(0.05, 6);
  });

  it('gives a p near 1 for a sample above the mean and a small p for one far below', () => {
    expect(pOf([0.9, 0.85, 0.95], 0.6)).toBeGreaterThan(0.99);
    expect(pOf([0.1, 0.15, 0.05], 0.6)).toBeLessThan(0.01);
  });

  it('does not test fewer than 2 observations or a sample without variance', () => {
    expect(oneSampleTTestLess([], 0.5)).toEqual({
      performed: false,
      n: 0,
      mean: null,
      sd: null,
      reason: 'too-few',
    });
    expect(oneSampleTTestLess([0.2], 0.5)).toEqual({
      performed: false,
      n: 1,
      mean: 0.2,
      sd: null,
      reason: 'too-few',
    });
    expect(oneSampleTTestLess([0.3, 0.3, 0.3], 0.9)).toMatchObject({
      performed: false,
      n: 3,
      sd: 0,
      reason: 'zero-variance',
    });
    // 0.1 + 0.2 style float residue is still zero variance.
    expect(oneSampleTTestLess([0.1 + 0.2, 0.3, 0.30000000000000004], 0)).toMatchObject({
      reason: 'zero-variance',
    });
  });
});

describe('information-gain estimate (KL of retrieval-score distributions)', () => {
  const options = { temperature: 1, smoothing: 0.1 };

  it('is 0 for the same list and for two empty lists', () => {
    const list = [
      { id: 1, score: 3 },
      { id: 2, score: 1 },
    ];
    expect(evidenceKl(list, list, options)).toMatchObject({ kl: 0, union: 2, shared: 2 });
    expect(evidenceKl([], [], options)).toEqual({ kl: 0, maxKl: 0, union: 0, shared: 0 });
  });

  it('matches a hand computation over the union, with min-max normalization, softmax and smoothing', () => {
    const candidate = [
      { id: 1, score: 1 },
      { id: 2, score: 0 },
    ];
    const prior = [{ id: 3, score: 5 }];
    const e = Math.E;
    const third = 0.1 / 3;
    const p = [0.9 * (e / (e + 1)) + third, 0.9 * (1 / (e + 1)) + third, third];
    const q = [third, third, 0.9 + third];
    const expected = p.reduce((sum, pi, i) => sum + pi * Math.log(pi / q[i]!), 0);
    const result = evidenceKl(candidate, prior, options);
    expect(result.kl).toBeCloseTo(expected, 12);
    expect(result).toMatchObject({ union: 3, shared: 0 });
    expect(result.maxKl).toBeCloseTo(Math.log(3 / 0.1), 12);
    expect(result.kl).toBeLessThan(result.maxKl);
  });

  it('does not depend on the scale of the scores (bm25, cosine and RRF scores differ)', () => {
    const a = [
      { id: 1, score: 0.03 },
      { id: 2, score: 0.02 },
      { id: 5, score: 0.01 },
    ];
    const b = [
      { id: 2, score: 0.9 },
      { id: 3, score: 0.5 },
    ];
    const scaled = (list: typeof a, by: number, plus: number) =>
      list.map((doc) => ({ id: doc.id, score: doc.score * by + plus }));
    const base = evidenceKl(a, b, options).kl;
    expect(base).toBeGreaterThan(0);
    expect(evidenceKl(scaled(a, 400, -7), scaled(b, 20, 3), options).kl).toBeCloseTo(base, 12);
  });

  it('grows as the candidate evidence departs from the prior', () => {
    const prior = [
      { id: 1, score: 2 },
      { id: 2, score: 1 },
    ];
    const overlapping = [
      { id: 2, score: 2 },
      { id: 3, score: 1 },
    ];
    const disjoint = [
      { id: 3, score: 2 },
      { id: 4, score: 1 },
    ];
    expect(evidenceKl(overlapping, prior, options).kl).toBeGreaterThan(0);
    expect(evidenceKl(disjoint, prior, options).kl).toBeGreaterThan(
      evidenceKl(overlapping, prior, options).kl,
    );
  });
});

describe('lexical similarity fallback (TF-IDF cosine)', () => {
  it('is 1 for the same content words, 0 for none shared, 0 without content words', () => {
    const [same, none, empty] = lexicalScores('The capital of France', [
      'capital France',
      'Jazz music',
      'the of and',
    ]);
    expect(same).toBeCloseTo(1, 12);
    expect(none).toBe(0);
    expect(empty).toBe(0);
  });

  it('ranks a text sharing more content words higher', () => {
    const [one, two] = lexicalScores('Seine river Paris', ['Seine in Normandy', 'The Seine river flows']);
    expect(two!).toBeGreaterThan(one!);
  });
});

describe('program-type library', () => {
  it('has the paper’s 10 basic and 15 advanced types; the sets nest as documented', () => {
    expect(PROGRAM_TYPES).toHaveLength(25);
    expect(new Set(PROGRAM_TYPES.map((type) => type.name)).size).toBe(25);
    expect(programTypesOf('basic').map((type) => type.name)).toEqual([
      'Simple Fact',
      'ArgMax',
      'ArgMin',
      'Logical AND',
      'Logical OR',
      'Causal',
      'Comparison',
      'Temporal',
      'Count',
      'Filter',
    ]);
    const general = programTypesOf('basic+advanced').map((type) => type.name);
    expect(general).toHaveLength(20);
    expect(general).toContain('Bridge Entity');
    expect(general).not.toContain('Diagnosis');
    expect(programTypesOf('all').map((type) => type.name)).toEqual(
      expect.arrayContaining([
        'Diagnosis',
        'Symptom Analysis',
        'Treatment Reasoning',
        'Medical Condition',
        'Domain-Specific',
      ]),
    );
  });
});
